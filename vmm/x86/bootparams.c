#include <string.h>

#include "vmm/memory.h"
#include "vmm/x86/bootparams.h"
#include "vmm/x86/layout.h"

#define E820_RAM	1
#define E820_RESERVED	2
#define BOOT_FLAG_MAGIC	0xaa55
#define HDRS_MAGIC	0x53726448	/* "HdrS" */
#define LOADER_UNDEFINED 0xff

static unsigned add(struct boot_e820_entry *e, unsigned n, unsigned max,
		    uint64_t addr, uint64_t size, uint32_t type)
{
	if (n < max && size)
		e[n++] = (struct boot_e820_entry){ .addr = addr, .size = size, .type = type };
	return n;
}

unsigned e820_build(const struct guest_mem *mem, struct boot_e820_entry *e, unsigned max)
{
	uint64_t low_end = guest_mem_low_end(mem);
	unsigned n = 0;

	n = add(e, n, max, 0, EBDA_START, E820_RAM);
	n = add(e, n, max, EBDA_START, HIGH_MEMORY - EBDA_START, E820_RESERVED);
	if (low_end > HIGH_MEMORY)
		n = add(e, n, max, HIGH_MEMORY, low_end - HIGH_MEMORY, E820_RAM);
	for (unsigned i = 1; i < mem->nregions; i++)
		n = add(e, n, max, mem->regions[i].gpa, mem->regions[i].size, E820_RAM);
	return n;
}

void bootparams_build(struct boot_params *bp, const struct guest_mem *mem, const struct boot_info *info)
{
	memset(bp, 0, sizeof(*bp));
	bp->hdr.type_of_loader = LOADER_UNDEFINED;
	bp->hdr.boot_flag = BOOT_FLAG_MAGIC;
	bp->hdr.header = HDRS_MAGIC;
	bp->hdr.version = 0x020f;
	bp->hdr.loadflags = LOADED_HIGH;
	bp->hdr.kernel_alignment = 0x1000000;
	bp->hdr.cmd_line_ptr = (uint32_t)info->cmdline_addr;
	bp->ext_cmd_line_ptr = (uint32_t)(info->cmdline_addr >> 32);
	bp->hdr.cmdline_size = info->cmdline_size;
	if (info->initrd_size) {
		bp->hdr.ramdisk_image = (uint32_t)info->initrd_addr;
		bp->ext_ramdisk_image = (uint32_t)(info->initrd_addr >> 32);
		bp->hdr.ramdisk_size = (uint32_t)info->initrd_size;
		bp->ext_ramdisk_size = (uint32_t)(info->initrd_size >> 32);
	}
	bp->e820_entries = e820_build(mem, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
}
