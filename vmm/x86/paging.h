/* Guest virtual to physical translation by walking the guest's own page tables. */
#ifndef VMM_X86_PAGING_H
#define VMM_X86_PAGING_H

#include <stdint.h>

struct guest_mem;

#define X86_CR0_PG	(1ULL << 31)
#define X86_CR4_PAE	(1ULL << 5)
#define X86_CR4_LA57	(1ULL << 12)
#define X86_EFER_LMA	(1ULL << 10)

/*
 * Translate gva in long mode (4- or 5-level paging per cr4), honouring 1 GiB
 * and 2 MiB pages. Page-table entries are read through the checked guest
 * memory accessor. 0, or -EFAULT when not mapped or a table lies outside RAM.
 */
int x86_gva_to_gpa(const struct guest_mem *mem, uint64_t cr3, uint64_t cr4,
		   uint64_t gva, uint64_t *gpa);
/* Copy len bytes from guest virtual memory, page by page. 0 or -EFAULT. */
int x86_read_virt(const struct guest_mem *mem, uint64_t cr3, uint64_t cr4,
		  uint64_t gva, void *buf, uint64_t len);

#endif
