/* Guest page walk used by the PVM quirks, and the I/O range table. */
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/io.h"
#include "vmm/base/log.h"
#include "vmm/memory.h"
#include "vmm/base/util.h"
#include "vmm/x86/paging.h"

static void put(struct guest_mem *m, uint64_t gpa, uint64_t v)
{
	guest_mem_write(m, gpa, &v, 8);
}

static unsigned reads, writes;
static void rd(void *o, uint64_t off, void *d, unsigned len) { reads++; memset(d, (int)off, len); }
static void wr(void *o, uint64_t off, const void *d, unsigned len) { writes++; }
static const struct io_ops ops = { .read = rd, .write = wr };

static void test_page_walk(void)
{
	struct guest_mem m;
	uint64_t gpa = 0, gva = 0xffffffff81000000ULL;
	uint8_t buf[16];

	guest_mem_alloc(&m, 64 * MiB);
	/* PML4 at 0x1000, PDPT at 0x2000, PD at 0x3000, PT at 0x4000 */
	put(&m, 0x1000 + ((gva >> 39) & 511) * 8, 0x2000 | 3);
	put(&m, 0x2000 + ((gva >> 30) & 511) * 8, 0x3000 | 3);
	put(&m, 0x3000 + ((gva >> 21) & 511) * 8, 0x1000000 | 0x83);	/* 2 MiB page */
	put(&m, 0x3000 + (((gva >> 21) + 1) & 511) * 8, 0x4000 | 3);
	put(&m, 0x4000 + 0 * 8, 0x5000 | 3);				/* first 4K page of the next 2M */
	ok(x86_gva_to_gpa(&m, 0x1000, 0, gva + 0x1234, &gpa) == 0 && gpa == 0x1001234, "2 MiB page translates");
	ok(x86_gva_to_gpa(&m, 0x1000, 0, gva + 0x200000 + 0x10, &gpa) == 0 && gpa == 0x5010, "4 KiB page translates");
	ok(x86_gva_to_gpa(&m, 0x1000, 0, gva + 0x201000, &gpa) != 0, "not-present PTE fails");
	ok(x86_gva_to_gpa(&m, 0x1000, 0, 0x1000, &gpa) != 0, "unmapped address fails");
	put(&m, 0x2000 + ((gva >> 30) & 511) * 8, (1ULL << 40) | 3);	/* table outside RAM */
	ok(x86_gva_to_gpa(&m, 0x1000, 0, gva, &gpa) != 0, "page table outside guest RAM fails safely");
	put(&m, 0x2000 + ((gva >> 30) & 511) * 8, 0x40000000 | 0x83);	/* 1 GiB page */
	ok(x86_gva_to_gpa(&m, 0x1000, 0, gva + 0x123, &gpa) == 0 && gpa == 0x40000000 + (gva & 0x3fffffff) + 0x123,
	   "1 GiB page translates");
	put(&m, 0x2000 + ((gva >> 30) & 511) * 8, 0x3000 | 3);
	memset(guest_mem_ptr(&m, 0x11ffffc, 4), 0x11, 4);	/* end of the 2 MiB page */
	memset(guest_mem_ptr(&m, 0x5000, 4), 0x22, 4);		/* start of the next, a 4 KiB page */
	ok(x86_read_virt(&m, 0x1000, 0, gva + 0x1ffffc, buf, 8) == 0 && buf[0] == 0x11 && buf[3] == 0x11 &&
	   buf[4] == 0x22 && buf[7] == 0x22, "read across a page boundary joins both pages");
	ok(x86_read_virt(&m, 0x1000, 0, gva + 0x200ffc, buf, 8) != 0, "read running into an unmapped page fails");
	guest_mem_free(&m);
}

static void test_io_bus(void)
{
	struct io_bus bus = { .name = "test" };
	uint32_t v;

	ok(io_bus_register(&bus, 0x3f8, 8, &ops, NULL, "a") == 0, "register a range");
	ok(io_bus_register(&bus, 0x60, 1, &ops, NULL, "b") == 0, "register a lower range");
	ok(io_bus_register(&bus, 0x3fc, 8, &ops, NULL, "c") != 0, "overlap refused");
	ok(io_bus_access(&bus, 0x3fa, &v, 1, false) && reads == 1 && (v & 0xff) == 2, "read dispatched with offset");
	ok(io_bus_access(&bus, 0x60, &v, 1, true) && writes == 1, "write dispatched");
	v = 0;
	ok(!io_bus_access(&bus, 0x80, &v, 4, false) && v == 0xffffffff, "unclaimed read returns all-ones");
	ok(!io_bus_access(&bus, 0x3ff, &v, 4, false), "access running past the range end is unclaimed");
	io_bus_free(&bus);
}

int main(void)
{
	log_set_level(LOG_NONE);
	test_page_walk();
	test_io_bus();
	return tap_done();
}
