/* Zero page, e820 map and MP table builders. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/memory.h"
#include "vmm/base/util.h"
#include "vmm/x86/bootparams.h"
#include "vmm/x86/layout.h"
#include "vmm/x86/mptable.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void test_e820(void)
{
	struct guest_mem mem;
	struct boot_e820_entry e[8];
	unsigned n;

	ok(guest_mem_alloc(&mem, 128 * MiB) == 0, "128 MiB guest");
	n = e820_build(&mem, e, 8);
	ok(n == 3, "three e820 entries for low RAM (got %u)", n);
	ok(e[0].addr == 0 && e[0].size == EBDA_START && e[0].type == 1, "RAM below the EBDA");
	ok(e[1].addr == EBDA_START && e[1].addr + e[1].size == HIGH_MEMORY && e[1].type == 2,
	   "EBDA/BIOS area reserved");
	ok(e[2].addr == HIGH_MEMORY && e[2].addr + e[2].size == 128 * MiB && e[2].type == 1,
	   "RAM from 1 MiB to the end");
	guest_mem_free(&mem);

	ok(guest_mem_alloc(&mem, 4 * GiB) == 0, "4 GiB guest (reserved, not touched)");
	ok(mem.nregions == 2 && mem.regions[0].size == GUEST_MMIO_HOLE_START &&
	   mem.regions[1].gpa == GUEST_HIGH_RAM_START &&
	   mem.regions[1].size == 4 * GiB - GUEST_MMIO_HOLE_START, "RAM split around the MMIO hole");
	n = e820_build(&mem, e, 8);
	ok(n == 4 && e[3].addr == GUEST_HIGH_RAM_START && e[3].size == mem.regions[1].size,
	   "high RAM above 4 GiB in e820");
	ok(guest_mem_ptr(&mem, GUEST_MMIO_HOLE_START, 1) == NULL, "the hole is not RAM");
	ok(guest_mem_ptr(&mem, GUEST_MMIO_HOLE_START - 8, 16) == NULL, "a range straddling the hole is refused");
	ok(guest_mem_ptr(&mem, UINT64_MAX - 4, 8) == NULL, "a wrapping range is refused");
	n = e820_build(&mem, e, 2);
	ok(n == 2, "e820 builder respects the table size");
	guest_mem_free(&mem);
}

static void test_zero_page(void)
{
	struct guest_mem mem;
	struct boot_params bp;
	struct boot_info bi = {
		.cmdline_addr = BOOT_CMDLINE_ADDR, .cmdline_size = 42,
		.initrd_addr = 0x7000000, .initrd_size = 0x123456,
	};

	guest_mem_alloc(&mem, 128 * MiB);
	bootparams_build(&bp, &mem, &bi);
	ok(bp.hdr.boot_flag == 0xaa55 && bp.hdr.header == 0x53726448, "boot flag and HdrS magic");
	ok(bp.hdr.type_of_loader == 0xff, "loader type undefined (0xff)");
	ok(bp.hdr.cmd_line_ptr == BOOT_CMDLINE_ADDR && bp.hdr.cmdline_size == 42, "command line pointer and size");
	ok(bp.hdr.ramdisk_image == 0x7000000 && bp.hdr.ramdisk_size == 0x123456 &&
	   bp.ext_ramdisk_image == 0, "initrd address and size");
	ok(bp.e820_entries == 3, "e820 entries in the zero page");
	bi.initrd_size = 0;
	bootparams_build(&bp, &mem, &bi);
	ok(bp.hdr.ramdisk_image == 0 && bp.hdr.ramdisk_size == 0, "no initrd: fields stay zero");
	guest_mem_free(&mem);
}

static void test_mptable(void)
{
	uint8_t buf[1024];
	int size;

	for (unsigned ncpus = 1; ncpus <= 32; ncpus += 31) {
		const uint8_t *mpc;
		uint16_t len, count;
		uint32_t physptr;

		size = mptable_build(buf, sizeof(buf), EBDA_START, ncpus);
		ok(size > 0 && size <= 1024, "%u CPUs: table of %d bytes fits the EBDA", ncpus, size);
		ok(!memcmp(buf, "_MP_", 4) && sum(buf, 16) == 0, "%u CPUs: floating pointer signature and checksum", ncpus);
		memcpy(&physptr, buf + 4, 4);
		ok(physptr == EBDA_START + 16, "%u CPUs: floating pointer points at the table", ncpus);
		mpc = buf + 16;
		memcpy(&len, mpc + 4, 2);
		memcpy(&count, mpc + 34, 2);
		ok(!memcmp(mpc, "PCMP", 4) && sum(mpc, len) == 0, "%u CPUs: config table signature and checksum", ncpus);
		ok(count == ncpus + 2 + 24 + 2, "%u CPUs: entry count %u", ncpus, count);
		ok(mpc[44] == 0 && mpc[44 + 1] == 0 && (mpc[44 + 3] & 2), "%u CPUs: first entry is the BSP, APIC ID 0", ncpus);
		if (ncpus > 1)
			ok(mpc[44 + 20 * (ncpus - 1) + 1] == ncpus - 1 && !(mpc[44 + 20 * (ncpus - 1) + 3] & 2),
			   "%u CPUs: last CPU entry has APIC ID %u, not BSP", ncpus, ncpus - 1);
	}
	ok(mptable_build(buf, 100, EBDA_START, 4) < 0, "too small a buffer is refused");
	ok(mptable_build(buf, sizeof(buf), EBDA_START, 0) < 0, "zero CPUs refused");
}

int main(void)
{
	test_e820();
	test_zero_page();
	test_mptable();
	return tap_done();
}
