#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/memory.h"
#include "vmm/x86/elf.h"
#include "vmm/x86/layout.h"

static int check_header(const char *name, const uint8_t *img, size_t size, const Elf64_Ehdr **out,
			struct error *e)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG)) {
		/* A bzImage carries "HdrS" at 0x202: say what to use instead. */
		if (size > 0x206 && !memcmp(img + 0x202, "HdrS", 4))
			return err_set(e, -ENOEXEC, "kernel %s: a bzImage is not supported, use the uncompressed vmlinux",
				       name);
		return err_set(e, -ENOEXEC, "kernel %s: not an ELF file (expected an uncompressed x86-64 vmlinux)",
			       name);
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64)
		return err_set(e, -ENOEXEC, "kernel %s: not an x86-64 kernel (ELF class %u, machine %u)",
			       name, eh->e_ident[EI_CLASS], eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return err_set(e, -ENOEXEC, "kernel %s: ELF type %u is not an executable", name, eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phoff > size || (size - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum)
		return err_set(e, -ENOEXEC, "kernel %s: malformed ELF program headers", name);
	*out = eh;
	return 0;
}

/*
 * The PT_LOAD segments of a checked header: sane, above 1 MiB, below
 * ram_end (exclusive), holding the entry point. file_size bounds the
 * offsets; start and end receive the physical range.
 */
static int check_segments(const char *name, const Elf64_Ehdr *eh, const Elf64_Phdr *ph, uint64_t file_size,
			  uint64_t ram_end, uint64_t *start, uint64_t *end, struct error *e)
{
	bool entry_ok = false;
	unsigned loads = 0;

	*start = UINT64_MAX;
	*end = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];

		if (p->p_type != PT_LOAD)
			continue;
		if (p->p_filesz > p->p_memsz || p->p_offset > file_size || p->p_filesz > file_size - p->p_offset ||
		    p->p_paddr + p->p_memsz < p->p_paddr)
			return err_set(e, -ENOEXEC, "kernel %s: malformed ELF segment %u", name, i);
		if (p->p_paddr < KERNEL_MIN_ADDR)
			return err_set(e, -ENOEXEC, "kernel %s: segment %u loads at 0x%llx, below 1 MiB", name, i,
				       (unsigned long long)p->p_paddr);
		if (p->p_paddr + p->p_memsz > ram_end)
			return err_set(e, -EFBIG, "kernel %s: does not fit in guest RAM (needs memory up to %llu MiB; "
				       "raise --memory)", name,
				       (unsigned long long)((p->p_paddr + p->p_memsz + ((1ULL << 20) - 1)) >> 20));
		if (eh->e_entry >= p->p_paddr && eh->e_entry - p->p_paddr < p->p_memsz)
			entry_ok = true;
		*start = p->p_paddr < *start ? p->p_paddr : *start;
		*end = p->p_paddr + p->p_memsz > *end ? p->p_paddr + p->p_memsz : *end;
		loads++;
	}
	if (!loads)
		return err_set(e, -ENOEXEC, "kernel %s: no loadable ELF segments", name);
	if (!entry_ok)
		return err_set(e, -ENOEXEC, "kernel %s: entry point 0x%llx is outside its segments (not a vmlinux?)",
			       name, (unsigned long long)eh->e_entry);
	return 0;
}

int elf_check_file(const char *path, uint64_t mem_size, struct error *e)
{
	size_t head_len = 64 << 10;	/* a vmlinux has its headers at its start */
	uint8_t *head;
	const Elf64_Ehdr *eh = NULL;
	uint64_t start, end, ram_end = mem_size < GUEST_MMIO_HOLE_START ? mem_size : GUEST_MMIO_HOLE_START;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = err_sys(e, -errno, "kernel %s", path);
		if (fd >= 0)
			close(fd);
		return ret;
	}
	head = malloc(head_len);
	n = head ? pread(fd, head, head_len, 0) : -1;
	ret = n < 0 ? err_sys(e, head ? -errno : -ENOMEM, "kernel %s", path) : 0;
	close(fd);
	if (!ret)
		ret = check_header(path, head, (size_t)n, &eh, e);
	if (!ret)
		ret = check_segments(path, eh, (const Elf64_Phdr *)(head + eh->e_phoff), (uint64_t)st.st_size,
				     ram_end, &start, &end, e);
	free(head);
	return ret;
}

int elf_load(const char *name, const void *img, size_t size,
	     const struct guest_mem *mem, struct elf_image *out, struct error *e)
{
	const uint8_t *base = img;
	const Elf64_Ehdr *eh = NULL;
	const Elf64_Phdr *ph;
	uint64_t start, end;
	int ret;

	ret = check_header(name, base, size, &eh, e);
	if (ret)
		return ret;
	ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	/* Validate every segment before copying anything. */
	if ((ret = check_segments(name, eh, ph, size, guest_mem_low_end(mem), &start, &end, e)))
		return ret;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		uint8_t *dst;

		if (p->p_type != PT_LOAD)
			continue;
		dst = guest_mem_ptr(mem, p->p_paddr, p->p_memsz);
		memcpy(dst, base + p->p_offset, p->p_filesz);
		memset(dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
	}
	out->entry = eh->e_entry;
	out->start = start;
	out->end = end;
	return 0;
}
