/* Guest RAM in a memfd (for vhost-user daemons) and loading a saved memory file into it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/unit/tap.h"
#include "vmm/base/util.h"
#include "vmm/memory.h"

static void test_shared_is_seen_by_another_mapping(void)
{
	struct guest_mem mem;
	uint8_t *other;

	ok(guest_mem_alloc_shared(&mem, 64 * MiB) == 0 && mem.shared && mem.fd >= 0,
	   "64 MiB of shared guest RAM");
	ok(guest_mem_write(&mem, 0x123000, "vhost", 5) == 0, "write at GPA 0x123000");
	other = mmap(NULL, 64 * MiB, PROT_READ, MAP_SHARED, mem.fd, 0);
	ok(other != MAP_FAILED && !memcmp(other + 0x123000, "vhost", 5),
	   "a second mapping of the memfd (as a daemon has) sees the guest's write");
	munmap(other, 64 * MiB);
	guest_mem_free(&mem);
	ok(!mem.shared && mem.nregions == 0, "freed");
}

static void test_shared_above_4g(void)
{
	struct guest_mem mem;
	uint8_t b = 0;

	ok(guest_mem_alloc_shared(&mem, 4 * GiB) == 0 && mem.nregions == 2 &&
	   mem.regions[1].gpa == GUEST_HIGH_RAM_START && mem.regions[1].fd_offset == GUEST_MMIO_HOLE_START,
	   "RAM above the hole sits after the low RAM in the memfd");
	ok(guest_mem_write(&mem, GUEST_HIGH_RAM_START, "H", 1) == 0 &&
	   pread(mem.fd, &b, 1, GUEST_MMIO_HOLE_START) == 1 && b == 'H', "and the memfd holds it there");
	guest_mem_free(&mem);
}

static void test_load_snapshot_file(void)
{
	char path[] = "/tmp/vmm-mem-XXXXXX";
	struct guest_mem mem;
	uint8_t d1[32], d2[32], buf[8];
	int fd = mkstemp(path);

	unlink(path);
	ok(fd >= 0 && ftruncate(fd, 64 * MiB) == 0 && pwrite(fd, "alpha", 5, 5 * MiB) == 5 &&
	   pwrite(fd, "omega", 5, 64 * MiB - 5) == 5, "a sparse memory file with two data extents");
	ok(guest_mem_load_shared(&mem, 64 * MiB, fd) == 0 && mem.shared, "loaded into shared RAM");
	ok(guest_mem_read(&mem, 5 * MiB, buf, 5) == 0 && !memcmp(buf, "alpha", 5) &&
	   guest_mem_read(&mem, 64 * MiB - 5, buf, 5) == 0 && !memcmp(buf, "omega", 5),
	   "both extents are in guest RAM");
	ok(guest_mem_read(&mem, 32 * MiB, buf, 8) == 0 && !memcmp(buf, "\0\0\0\0\0\0\0\0", 8),
	   "holes read as zeros");
	ok(guest_mem_digest(&mem, d1) == 0 && guest_mem_file_digest(fd, d2) == 0 && !memcmp(d1, d2, 32),
	   "the RAM's digest is the file's");
	guest_mem_free(&mem);
	ok(guest_mem_load_shared(&mem, 128 * MiB, fd) == -EINVAL, "a file of another size is refused");
	close(fd);
}

int main(void)
{
	test_shared_is_seen_by_another_mapping();
	test_shared_above_4g();
	test_load_snapshot_file();
	return tap_done();
}
