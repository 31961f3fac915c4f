/* raw backend: reads, writes, bounds, read-only, discard, write-zeroes, block status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/disk/disk.h"
#include "images/disk/raw.h"
#include "tests/unit/tap.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

static char dir[] = "/tmp/vmm-test-raw.XXXXXX", path[256];
static const struct disk_open_opts rw = { .format = DISK_FMT_RAW }, ro = { .read_only = true };
static uint8_t buf[65536], pat[65536];

static void test_read_write(void)
{
	enum disk_status st;
	struct disk *d = NULL;
	uint64_t pnum;

	ok(raw_create(path, 4 * MiB, NULL) == 0, "create 4 MiB raw");
	ok(disk_open(path, &rw, &d, NULL) == 0 && d->size == 4 * MiB && d->format == DISK_FMT_RAW,
	   "open: size and format");
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = i * 31 + 7;
	ok(disk_write(d, pat, sizeof(pat), 1 * MiB + 3) == 0, "unaligned write");
	ok(disk_read(d, buf, sizeof(buf), 1 * MiB + 3) == 0 && !memcmp(buf, pat, sizeof(pat)),
	   "reads back");
	ok(disk_read(d, buf, 1, 0) == 0 && buf[0] == 0, "unwritten bytes read as zeros");
	ok(disk_read(d, buf, 2, 4 * MiB - 1) == -EINVAL, "read past the end: -EINVAL");
	ok(disk_write(d, buf, 1, 4 * MiB) == -EINVAL, "write at the end: -EINVAL");
	ok(disk_read(d, buf, 0, 4 * MiB) == 0, "empty read at the end is fine");
	ok(disk_block_status(d, 0, 4 * MiB, &pnum, &st) == 0 && st == DISK_STATUS_ZERO &&
	   pnum >= 1 * MiB - 4096 && pnum <= 1 * MiB, "block status: leading hole (%llu bytes)",
	   (unsigned long long)pnum);
	ok(disk_block_status(d, 1 * MiB, 3 * MiB, &pnum, &st) == 0 && st == DISK_STATUS_DATA,
	   "block status: data where written");
	ok(disk_write_zeroes(d, 1 * MiB + 100, 1000, false) == 0 &&
	   disk_read(d, buf, 1200, 1 * MiB) == 0 && disk_buf_is_zero(buf + 100, 1000) &&
	   buf[1100] == pat[1100 - 3], "write-zeroes (keep allocation): exact range zeroed");
	ok(disk_write_zeroes(d, 1 * MiB, 65536, true) == 0 &&
	   disk_read(d, buf, 65536, 1 * MiB) == 0 && disk_buf_is_zero(buf, 65536),
	   "write-zeroes (unmap): zeroed");
	ok(disk_write(d, pat, 8192, 2 * MiB) == 0 && disk_discard(d, 2 * MiB, 8192) == 0,
	   "discard succeeds");
	ok(disk_flush(d) == 0, "flush");
	disk_close(d);
}

static void test_read_only_and_resize(void)
{
	struct disk *d = NULL;

	ok(disk_open(path, &ro, &d, NULL) == 0 && d->read_only, "open read-only (probed raw)");
	ok(disk_write(d, pat, 1, 0) == -EROFS && disk_discard(d, 0, 512) == -EROFS &&
	   disk_write_zeroes(d, 0, 512, true) == -EROFS, "writes to a read-only disk: -EROFS");
	disk_close(d);
	ok(raw_resize(path, 8 * MiB, NULL) == 0 && disk_open(path, &ro, &d, NULL) == 0 && d->size == 8 * MiB,
	   "resize to 8 MiB");
	disk_close(d);
}

static void test_refused(void)
{
	struct disk *d = NULL;

	ok(disk_open("/nonexistent/x.raw", &ro, &d, NULL) == -ENOENT, "missing file: -ENOENT");
	ok(disk_open(dir, &ro, &d, NULL) == -EINVAL, "directory refused");
}

int main(void)
{
	log_set_level(LOG_ERROR);
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/d.raw", dir);
	test_read_write();
	test_read_only_and_resize();	/* the disk test_read_write made */
	test_refused();
	unlink(path);
	rmdir(dir);
	return tap_done();
}
