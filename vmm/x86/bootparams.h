/* The Linux zero page (struct boot_params) and its e820 memory map. */
#ifndef VMM_X86_BOOTPARAMS_H
#define VMM_X86_BOOTPARAMS_H

#include <asm/bootparam.h>
#include <stdint.h>

struct guest_mem;

struct boot_info {
	uint64_t cmdline_addr;
	uint32_t cmdline_size;	/* without the NUL */
	uint64_t initrd_addr;
	uint64_t initrd_size;	/* 0: none */
};

/* Fill e820 entries for guest RAM (reserving the EBDA/BIOS area). Returns the count. */
unsigned e820_build(const struct guest_mem *mem, struct boot_e820_entry *e, unsigned max);
/* Fill a zeroed boot_params for a 64-bit direct boot. */
void bootparams_build(struct boot_params *bp, const struct guest_mem *mem, const struct boot_info *info);

#endif
