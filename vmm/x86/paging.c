#include <errno.h>
#include <stdint.h>

#include "vmm/memory.h"
#include "vmm/x86/paging.h"

#define PTE_PRESENT	(1ULL << 0)
#define PTE_PS		(1ULL << 7)
#define PTE_ADDR_MASK	0x000ffffffffff000ULL

int x86_gva_to_gpa(const struct guest_mem *mem, uint64_t cr3, uint64_t cr4,
		   uint64_t gva, uint64_t *gpa)
{
	int levels = (cr4 & X86_CR4_LA57) ? 5 : 4;
	uint64_t table = cr3 & PTE_ADDR_MASK;

	for (int level = levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t idx = (gva >> shift) & 0x1ff;
		uint64_t pte;

		if (guest_mem_read(mem, table + idx * 8, &pte, sizeof(pte)))
			return -EFAULT;
		if (!(pte & PTE_PRESENT))
			return -EFAULT;
		/* A large page at the PDPT (1 GiB) or PD (2 MiB) level ends the walk. */
		if (level == 1 || ((level == 2 || level == 3) && (pte & PTE_PS))) {
			uint64_t page_mask = (1ULL << shift) - 1;

			*gpa = ((pte & PTE_ADDR_MASK) & ~page_mask) | (gva & page_mask);
			return 0;
		}
		table = pte & PTE_ADDR_MASK;
	}
	return -EFAULT;
}

int x86_read_virt(const struct guest_mem *mem, uint64_t cr3, uint64_t cr4,
		  uint64_t gva, void *buf, uint64_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t gpa, chunk = 4096 - (gva & 4095);

		if (chunk > len)
			chunk = len;
		if (x86_gva_to_gpa(mem, cr3, cr4, gva, &gpa) ||
		    guest_mem_read(mem, gpa, out, chunk))
			return -EFAULT;
		gva += chunk;
		out += chunk;
		len -= chunk;
	}
	return 0;
}
