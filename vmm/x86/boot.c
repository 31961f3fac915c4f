#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/cmdline.h"
#include "vmm/vm.h"
#include "vmm/x86/boot.h"
#include "vmm/x86/bootparams.h"
#include "vmm/x86/elf.h"
#include "vmm/x86/layout.h"
#include "vmm/x86/mptable.h"
#include "vmm/x86/paging.h"

#define GDT_CODE64	0x00af9b000000ffffULL
#define GDT_DATA	0x00cf93000000ffffULL
#define GDT_TSS		0x00008b0000000067ULL
#define BOOT_CS		0x10
#define BOOT_DS		0x18
#define BOOT_TSS	0x20

#define X86_CR0_PE	(1ULL << 0)
#define X86_CR0_MP	(1ULL << 1)
#define X86_CR0_ET	(1ULL << 4)
#define X86_CR0_NE	(1ULL << 5)
#define X86_EFER_LME	(1ULL << 8)

static int map_file(const char *what, const char *path, void **data, size_t *size, struct error *e)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_sys(e, -errno, "%s %s", what, path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return err_set(e, -EINVAL, "%s %s: not a regular, non-empty file", what, path);
	}
	*data = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (*data == MAP_FAILED)
		return err_sys(e, -errno, "%s %s: mmap", what, path);
	*size = st.st_size;
	return 0;
}

/* The initrd goes as high in low RAM as it fits, above the kernel. */
static int load_initrd(struct vm *vm, const char *path, uint64_t kernel_end, struct boot_info *bi,
		       struct error *e)
{
	uint64_t top = MIN(guest_mem_low_end(&vm->mem), 0x38000000ULL);	/* below 896 MiB */
	void *data;
	size_t size;
	uint64_t addr;
	int ret;

	ret = map_file("initrd", path, &data, &size, e);
	if (ret)
		return ret;
	addr = size <= top ? ALIGN_DOWN(top - size, 4096ULL) : 0;
	if (addr < ALIGN_UP(kernel_end, 4096ULL)) {
		munmap(data, size);
		return err_set(e, -EFBIG, "initrd %s: %zu KiB do not fit in guest RAM above the kernel (raise --memory)",
			       path, size >> 10);
	}
	guest_mem_write(&vm->mem, addr, data, size);
	munmap(data, size);
	bi->initrd_addr = addr;
	bi->initrd_size = size;
	return 0;
}

static void write_page_tables(struct vm *vm)
{
	uint64_t pml4 = BOOT_PDPT_ADDR | 3;

	guest_mem_write(&vm->mem, BOOT_PML4_ADDR, &pml4, sizeof(pml4));
	for (uint64_t g = 0; g < 4; g++) {
		uint64_t pdpte = (BOOT_PD_ADDR + g * 4096) | 3;

		guest_mem_write(&vm->mem, BOOT_PDPT_ADDR + g * 8, &pdpte, sizeof(pdpte));
		for (uint64_t i = 0; i < 512; i++) {
			uint64_t pde = ((g << 30) + (i << 21)) | 0x83;	/* present, rw, 2 MiB */

			guest_mem_write(&vm->mem, BOOT_PD_ADDR + g * 4096 + i * 8, &pde, sizeof(pde));
		}
	}
}

static void seg_from_gdt(struct kvm_segment *s, uint64_t desc, uint16_t sel)
{
	*s = (struct kvm_segment){
		.base = ((desc >> 16) & 0xffffff) | ((desc >> 32) & 0xff000000),
		.limit = (desc & 0xffff) | ((desc >> 32) & 0xf0000),
		.selector = sel,
		.type = (desc >> 40) & 0xf,
		.present = (desc >> 47) & 1,
		.dpl = (desc >> 45) & 3,
		.db = (desc >> 54) & 1,
		.s = (desc >> 44) & 1,
		.l = (desc >> 53) & 1,
		.g = (desc >> 55) & 1,
	};
	if (s->g)
		s->limit = (s->limit << 12) | 0xfff;
}

static int set_boot_regs(struct vcpu *bsp, uint64_t entry)
{
	const uint64_t gdt[] = { 0, 0, GDT_CODE64, GDT_DATA, GDT_TSS };
	struct kvm_sregs s;
	struct kvm_regs r = {
		.rflags = 2, .rip = entry, .rsp = BOOT_STACK_TOP, .rbp = BOOT_STACK_TOP,
		.rsi = BOOT_ZERO_PAGE_ADDR,
	};

	guest_mem_write(&bsp->vm->mem, BOOT_GDT_ADDR, gdt, sizeof(gdt));
	if (ioctl(bsp->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	seg_from_gdt(&s.cs, GDT_CODE64, BOOT_CS);
	seg_from_gdt(&s.ds, GDT_DATA, BOOT_DS);
	s.es = s.fs = s.gs = s.ss = s.ds;
	seg_from_gdt(&s.tr, GDT_TSS, BOOT_TSS);
	s.gdt.base = BOOT_GDT_ADDR;
	s.gdt.limit = sizeof(gdt) - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
	s.cr3 = BOOT_PML4_ADDR;
	s.cr4 = X86_CR4_PAE;
	s.efer = X86_EFER_LME | X86_EFER_LMA;
	if (ioctl(bsp->fd, KVM_SET_SREGS, &s) < 0 || ioctl(bsp->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

int x86_boot(struct vm *vm, const struct boot_config *cfg, struct error *e)
{
	struct boot_info bi = { .cmdline_addr = BOOT_CMDLINE_ADDR };
	struct boot_params bp;
	struct elf_image elf;
	uint8_t mp[1024];
	size_t cmdlen = strlen(cfg->cmdline), ksize;
	void *kdata;
	int ret;

	if (cmdlen >= CMDLINE_MAX)
		return err_set(e, -E2BIG, "kernel command line is %zu bytes; the limit is %d", cmdlen, CMDLINE_MAX - 1);
	ret = map_file("kernel", cfg->kernel, &kdata, &ksize, e);
	if (ret)
		return ret;
	ret = elf_load(cfg->kernel, kdata, ksize, &vm->mem, &elf, e);
	munmap(kdata, ksize);
	if (ret)
		return ret;
	if (cfg->initrd) {
		ret = load_initrd(vm, cfg->initrd, elf.end, &bi, e);
		if (ret)
			return ret;
	}

	guest_mem_write(&vm->mem, BOOT_CMDLINE_ADDR, cfg->cmdline, cmdlen + 1);
	bi.cmdline_size = cmdlen;
	bootparams_build(&bp, &vm->mem, &bi);
	guest_mem_write(&vm->mem, BOOT_ZERO_PAGE_ADDR, &bp, sizeof(bp));

	ret = mptable_build(mp, sizeof(mp), EBDA_START, vm->ncpus);
	if (ret < 0)
		return err_set(e, ret, "MP table: too many vCPUs (%u)", vm->ncpus);
	guest_mem_write(&vm->mem, EBDA_START, mp, ret);
	write_page_tables(vm);

	ret = set_boot_regs(&vm->vcpus[0], elf.entry);
	if (ret)
		return err_sys(e, ret, "boot vCPU registers");
	return 0;
}
