/* Loading an uncompressed ELF vmlinux at its physical addresses. */
#ifndef VMM_X86_ELF_H
#define VMM_X86_ELF_H

#include <stddef.h>
#include <stdint.h>

struct error;
struct guest_mem;

struct elf_image {
	uint64_t entry;		/* physical entry point (startup_64) */
	uint64_t start, end;	/* physical range the segments occupy */
};

/*
 * Check img (size bytes, from the file called name) is an x86-64 ELF
 * executable whose PT_LOAD segments fit in guest RAM above 1 MiB, and copy
 * them in. 0, or -ENOEXEC (not a usable ELF) or -EFBIG (does not fit in
 * guest RAM) with e naming the problem.
 */
int elf_load(const char *name, const void *img, size_t size,
	     const struct guest_mem *mem, struct elf_image *out, struct error *e);
/*
 * The same checks on the file at path for a guest of mem_size bytes, without
 * loading it: before /dev/kvm is opened, a bad kernel is one clear line.
 */
int elf_check_file(const char *path, uint64_t mem_size, struct error *e);

#endif
