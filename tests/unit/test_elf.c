/* ELF loader: a good vmlinux-shaped file loads; malformed ones are refused. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/base/log.h"
#include "vmm/memory.h"
#include "vmm/x86/elf.h"

#define PADDR 0x1000000ULL

struct img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	uint8_t text[64];
};

static void make(struct img *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->eh.e_ident, ELFMAG, SELFMAG);
	m->eh.e_ident[EI_CLASS] = ELFCLASS64;
	m->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	m->eh.e_type = ET_EXEC;
	m->eh.e_machine = EM_X86_64;
	m->eh.e_entry = PADDR;
	m->eh.e_phoff = offsetof(struct img, ph);
	m->eh.e_phentsize = sizeof(Elf64_Phdr);
	m->eh.e_phnum = 2;
	m->ph[0].p_type = PT_LOAD;
	m->ph[0].p_offset = offsetof(struct img, text);
	m->ph[0].p_paddr = PADDR;
	m->ph[0].p_filesz = sizeof(m->text);
	m->ph[0].p_memsz = 4096;	/* the rest is bss */
	m->ph[1].p_type = PT_NOTE;
	for (unsigned i = 0; i < sizeof(m->text); i++)
		m->text[i] = i + 1;
}

static int load(struct img *m, size_t size, struct guest_mem *mem, struct elf_image *out)
{
	return elf_load("test", m, size, mem, out, NULL);
}

static struct guest_mem mem;
static struct elf_image e;
static struct img m;

static void test_loads(void)
{
	uint8_t *p;

	make(&m);
	ok(load(&m, sizeof(m), &mem, &e) == 0, "well-formed ELF loads");
	ok(e.entry == PADDR && e.start == PADDR && e.end == PADDR + 4096, "entry and range reported");
	p = guest_mem_ptr(&mem, PADDR, 4096);
	ok(p[0] == 1 && p[63] == 64, "segment bytes copied to their physical address");
	ok(p[64] == 0 && p[4095] == 0, "bss zeroed");
}

static void test_bad_header(void)
{
	make(&m);
	m.eh.e_ident[0] = 0;
	ok(load(&m, sizeof(m), &mem, &e) == -ENOEXEC, "bad magic refused");
	ok(load(&m, 10, &mem, &e) == -ENOEXEC, "truncated header refused");
	make(&m);
	m.eh.e_machine = EM_AARCH64;
	ok(load(&m, sizeof(m), &mem, &e) == -ENOEXEC, "non-x86-64 machine refused");
	make(&m);
	m.eh.e_ident[EI_CLASS] = ELFCLASS32;
	ok(load(&m, sizeof(m), &mem, &e) == -ENOEXEC, "32-bit ELF refused");
	make(&m);
	m.eh.e_type = ET_DYN;
	ok(load(&m, sizeof(m), &mem, &e) == -ENOEXEC, "non-executable ELF refused");
	make(&m);
	m.eh.e_phoff = 1u << 30;
	ok(load(&m, sizeof(m), &mem, &e) == -ENOEXEC, "program headers past the end refused");
	make(&m);
	m.eh.e_phnum = 0xffff;
	ok(load(&m, sizeof(m), &mem, &e) == -ENOEXEC, "program header count past the end refused");
}

static void test_bad_segments(void)
{
	make(&m);
	m.ph[0].p_offset = sizeof(m) - 8;
	ok(load(&m, sizeof(m), &mem, &e) == -ENOEXEC, "segment data past the end refused");
	make(&m);
	m.ph[0].p_filesz = 8192;
	ok(load(&m, sizeof(m), &mem, &e) == -ENOEXEC, "filesz > memsz refused");
	make(&m);
	m.ph[0].p_paddr = 0x1000;
	m.eh.e_entry = 0x1000;
	ok(load(&m, sizeof(m), &mem, &e) == -ENOEXEC, "segment below 1 MiB refused");
	make(&m);
	m.ph[0].p_memsz = 128ULL << 20;
	ok(load(&m, sizeof(m), &mem, &e) == -EFBIG, "kernel larger than guest RAM refused");
	make(&m);
	m.ph[0].p_paddr = UINT64_MAX - 100;
	ok(load(&m, sizeof(m), &mem, &e) == -ENOEXEC, "wrapping segment address refused");
	make(&m);
	m.eh.e_entry = PADDR + 8192;
	ok(load(&m, sizeof(m), &mem, &e) == -ENOEXEC, "entry outside the segments refused");
	make(&m);
	m.ph[0].p_type = PT_NOTE;
	ok(load(&m, sizeof(m), &mem, &e) == -ENOEXEC, "no PT_LOAD refused");
}

int main(void)
{
	log_set_level(LOG_NONE);	/* the refusals below are expected */
	ok(guest_mem_alloc(&mem, 64 << 20) == 0, "allocate 64 MiB of guest memory");
	memset(guest_mem_ptr(&mem, PADDR, 4096), 0xaa, 4096);
	test_loads();
	test_bad_header();
	test_bad_segments();
	guest_mem_free(&mem);
	return tap_done();
}
