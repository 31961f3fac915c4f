/*
 * qcow2 unit tests: refcount and L2 entry math, header parsing, and
 * hand-built malformed headers and tables, each of which must give an error
 * (never a crash or a huge allocation).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/disk/disk.h"
#include "images/disk/qcow2-internal.h"
#include "images/disk/qcow2.h"
#include "images/disk/raw.h"
#include "tests/unit/tap.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

static char dir[] = "/tmp/vmm-test-qcow2.XXXXXX";
static char path[256];

static void test_refcount_math(void)
{
	uint8_t blk[512];

	for (uint32_t order = 0; order <= 6; order++) {
		uint64_t max = order == 6 ? UINT64_MAX : (1ULL << (1u << order)) - 1;
		uint64_t n = 512 * 8 >> order;
		bool good = true;

		memset(blk, 0, sizeof(blk));
		for (uint64_t i = 0; i < n; i++)
			qcow2_rc_set(blk, i, order, (i * 2654435761u) & max);
		for (uint64_t i = 0; i < n; i++)
			good &= qcow2_rc_get(blk, i, order) == ((i * 2654435761u) & max);
		qcow2_rc_set(blk, 5, order, max);
		good &= qcow2_rc_get(blk, 5, order) == max;
		good &= qcow2_rc_get(blk, 4, order) == ((4ULL * 2654435761u) & max);
		good &= qcow2_rc_get(blk, 6, order) == ((6ULL * 2654435761u) & max);
		ok(good, "refcount order %u: set/get round trip, neighbours untouched", order);
	}
	memset(blk, 0, sizeof(blk));
	qcow2_rc_set(blk, 1, 4, 0x1234);
	ok(blk[2] == 0x12 && blk[3] == 0x34, "16-bit refcounts are big-endian");
	memset(blk, 0, sizeof(blk));
	qcow2_rc_set(blk, 9, 0, 1);
	ok(blk[1] == 0x02, "1-bit refcounts: bit 1 of byte 1 is cluster 9 (LSB first)");
}

static void test_l2_math(void)
{
	uint64_t off, len;

	ok(qcow2_l2_type(0) == QCOW2_CL_UNALLOCATED, "L2 entry 0 is unallocated");
	ok(qcow2_l2_type(QCOW2_OFLAG_ZERO) == QCOW2_CL_ZERO_PLAIN, "zero flag alone: plain zero");
	ok(qcow2_l2_type(0x50000 | QCOW2_OFLAG_ZERO) == QCOW2_CL_ZERO_ALLOC, "zero flag + offset: allocated zero");
	ok(qcow2_l2_type(0x50000 | QCOW2_OFLAG_COPIED) == QCOW2_CL_NORMAL, "offset: normal cluster");
	ok(qcow2_l2_type(QCOW2_OFLAG_COMPRESSED | 0x1234) == QCOW2_CL_COMPRESSED, "compressed flag");
	/* 64 KiB clusters: shift 54, 8 sector bits. Offset 0x30010, 3 extra sectors. */
	qcow2_compressed_range(16, 0x30010ULL | (3ULL << 54) | QCOW2_OFLAG_COMPRESSED, &off, &len);
	ok(off == 0x30010 && len == 4 * 512 - 0x10, "compressed descriptor: offset %#llx len %llu",
	   (unsigned long long)off, (unsigned long long)len);
	ok(qcow2_csize_shift(9) == 61 && qcow2_csize_shift(21) == 49, "csize shift for 512 B and 2 MiB clusters");
}

static int create(uint64_t size, uint32_t cs, uint32_t version, const char *backing)
{
	struct qcow2_create_opts o = { .size = size, .cluster_size = cs, .version = version,
				       .backing_file = backing, .backing_fmt = backing ? "raw" : NULL };

	return qcow2_create(path, &o, NULL);
}

static void patch(uint64_t off, const void *v, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		pwrite_full(fd, v, len, off);
		close(fd);
	}
}

static void patch32(uint64_t off, uint32_t v) { uint8_t b[4]; qcow2_put_be32(b, v); patch(off, b, 4); }
static void patch64(uint64_t off, uint64_t v) { uint8_t b[8]; qcow2_put_be64(b, v); patch(off, b, 8); }

static int try_open(bool ro)
{
	struct disk_open_opts o = { .read_only = ro, .format = DISK_FMT_QCOW2 };
	struct disk *d = NULL;
	int ret = disk_open(path, &o, &d, NULL);

	if (!ret)
		disk_close(d);
	return ret;
}

struct mutation {
	const char *what;
	unsigned off;
	int width;		/* 4 or 8 */
	uint64_t value;
	bool ro_ok;		/* read-only open is expected to work */
};

static void test_header_mutations(void)
{
	static const struct mutation m[] = {
		{ "bad magic", QH_MAGIC, 4, 0x514649fa, false },
		{ "version 1", QH_VERSION, 4, 1, false },
		{ "version 4", QH_VERSION, 4, 4, false },
		{ "cluster_bits 8", QH_CLUSTER_BITS, 4, 8, false },
		{ "cluster_bits 22", QH_CLUSTER_BITS, 4, 22, false },
		{ "cluster_bits 63", QH_CLUSTER_BITS, 4, 63, false },
		{ "virtual size 2^62", QH_SIZE, 8, 1ULL << 62, false },
		{ "virtual size too large for L1", QH_SIZE, 8, 1ULL << 40, false },
		{ "L1 size 0 for a non-empty disk", QH_L1_SIZE, 4, 0, false },
		{ "L1 size 2^31", QH_L1_SIZE, 4, 0x80000000U, false },
		{ "L1 offset unaligned", QH_L1_OFFSET, 8, 0x30008, false },
		{ "L1 offset past the end", QH_L1_OFFSET, 8, 1ULL << 40, false },
		{ "L1 table over the header", QH_L1_OFFSET, 8, 0, false },
		{ "refcount table offset 0", QH_REFTABLE_OFFSET, 8, 0, false },
		{ "refcount table unaligned", QH_REFTABLE_OFFSET, 8, 0x10001, false },
		{ "refcount table past the end", QH_REFTABLE_OFFSET, 8, 1ULL << 50, false },
		{ "refcount table 0 clusters", QH_REFTABLE_CLUSTERS, 4, 0, false },
		{ "refcount table 2^31 clusters", QH_REFTABLE_CLUSTERS, 4, 0x80000000U, false },
		{ "refcount table overlaps L1", QH_REFTABLE_OFFSET, 8, 0x30000, false },
		{ "encryption", QH_CRYPT, 4, 1, false },
		{ "incompatible bit 5", QH_INCOMPAT, 8, 1ULL << 5, false },
		{ "incompatible bit 63", QH_INCOMPAT, 8, 1ULL << 63, false },
		{ "external data file", QH_INCOMPAT, 8, QCOW2_INCOMPAT_DATA_FILE, false },
		{ "extended L2", QH_INCOMPAT, 8, QCOW2_INCOMPAT_EXTL2, false },
		{ "compression bit without a type", QH_INCOMPAT, 8, QCOW2_INCOMPAT_COMPRESSION, false },
		{ "header length 100", QH_HEADER_LEN, 4, 100, false },
		{ "header length 113", QH_HEADER_LEN, 4, 113, false },
		{ "header length 2^31", QH_HEADER_LEN, 4, 0x80000000U, false },
		{ "refcount order 7", QH_REFCOUNT_ORDER, 4, 7, false },
		{ "refcount order 2^31", QH_REFCOUNT_ORDER, 4, 0x80000000U, false },
		{ "backing name past the cluster", QH_BACKING_OFFSET, 8, 65530, false },
		{ "backing name 2000 bytes", QH_BACKING_SIZE, 4, 2000, false },
		{ "10^6 snapshots", QH_NB_SNAPSHOTS, 4, 1000000, false },
		{ "snapshots (read-only is fine)", QH_NB_SNAPSHOTS, 4, 1, true },
		{ "corrupt bit (read-only is fine)", QH_INCOMPAT, 8, QCOW2_INCOMPAT_CORRUPT, true },
	};

	for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
		int rw, ro;

		create(64 * MiB, 65536, 3, "base.raw");
		if (m[i].width == 4)
			patch32(m[i].off, m[i].value);
		else
			patch64(m[i].off, m[i].value);
		if (!strncmp(m[i].what, "backing name 2000", 17))
			patch64(QH_BACKING_OFFSET, 0x200);
		if (!strncmp(m[i].what, "snapshots", 9))
			patch64(QH_SNAPSHOTS_OFFSET, 0x30000);
		rw = try_open(false);
		ro = m[i].ro_ok ? try_open(true) : 0;
		ok(rw < 0 && (!m[i].ro_ok || ro == 0), "%s: refused for writing (%d)%s",
		   m[i].what, rw, m[i].ro_ok ? ", read-only works" : "");
		if (!m[i].ro_ok)
			ok(try_open(true) < 0, "%s: refused read-only too", m[i].what);
	}
	create(64 * MiB, 65536, 3, NULL);
	patch32(QH_HEADER_LEN, 112);
	patch(QH_COMPRESSION_TYPE, "\x02", 1);
	patch64(QH_INCOMPAT, QCOW2_INCOMPAT_COMPRESSION);
	ok(try_open(true) < 0, "unknown compression type 2 refused");
	create(64 * MiB, 65536, 3, NULL);
	patch(QH_COMPRESSION_TYPE, "\x01", 1);
	patch64(QH_INCOMPAT, QCOW2_INCOMPAT_COMPRESSION);
	ok(try_open(false) == 0, "zstd compression type accepted");
	/* A header extension claiming more bytes than the cluster holds. */
	create(64 * MiB, 65536, 3, NULL);
	patch32(112, 0x12345678);
	patch32(116, 0x7fffffff);
	ok(try_open(true) < 0, "overflowing header extension refused");
	/* Truncated files. */
	create(64 * MiB, 65536, 3, NULL);
	ok(truncate(path, 50) == 0 && try_open(true) < 0, "file shorter than a header refused");
	create(64 * MiB, 65536, 3, NULL);
	ok(truncate(path, 0x30000) == 0 && try_open(true) < 0, "file cut before its L1 table refused");
}

static int read_all(uint64_t len)
{
	struct disk_open_opts o = { .read_only = true };
	struct disk *d = NULL;
	uint8_t *buf = malloc(len);
	int ret = disk_open(path, &o, &d, NULL);

	if (!ret)
		ret = disk_read(d, buf, len, 0);
	disk_close(d);
	free(buf);
	return ret;
}

static int write_some(void)
{
	struct disk_open_opts o = { 0 };
	struct disk *d = NULL;
	uint8_t buf[4096];
	int ret = disk_open(path, &o, &d, NULL);

	memset(buf, 0x5a, sizeof(buf));
	if (!ret)
		ret = disk_write(d, buf, sizeof(buf), 1 * MiB);
	disk_close(d);
	return ret;
}

/* Fill the first L2 table's first entry of a fresh image with e, via a real write first. */
static void image_with_l2_entry(uint64_t e)
{
	create(4 * MiB, 65536, 3, NULL);
	write_some();	/* L2 table at 0x40000, data cluster at 0x50000 */
	patch64(0x40000 + 16 * 8, e);
}

static void test_bad_tables(void)
{
	create(4 * MiB, 65536, 3, NULL);
	ok(write_some() == 0 && read_all(4 * MiB) == 0, "good image: write and read back");

	image_with_l2_entry(0x50200 | QCOW2_OFLAG_COPIED);
	ok(read_all(4 * MiB) == -EIO, "unaligned data cluster offset: read gives -EIO");
	image_with_l2_entry(0x50200 | QCOW2_OFLAG_COPIED);
	ok(write_some() == -EIO, "unaligned data cluster offset: write gives -EIO");
	image_with_l2_entry(0x30000 | QCOW2_OFLAG_COPIED);
	ok(write_some() == -EIO, "data cluster over the L1 table: write refused");
	image_with_l2_entry(QCOW2_OFLAG_COMPRESSED | 0x50000 | (255ULL << 54));
	ok(read_all(4 * MiB) == -EIO, "garbage compressed cluster: read gives -EIO");

	create(4 * MiB, 65536, 3, NULL);
	write_some();
	patch64(0x30000, 0x40008 | QCOW2_OFLAG_COPIED);
	ok(read_all(4 * MiB) == -EIO, "unaligned L2 table offset: read gives -EIO");
	create(4 * MiB, 65536, 3, NULL);
	write_some();
	patch64(0x30000, (1ULL << 50) | QCOW2_OFLAG_COPIED);
	ok(read_all(4 * MiB) == -EIO, "L2 table past the end of the file: read gives -EIO");
	create(4 * MiB, 65536, 3, NULL);
	write_some();
	patch64(0x30000, 0x10000 | QCOW2_OFLAG_COPIED);
	ok(read_all(4 * MiB) == -EIO, "L2 table over the refcount table: read gives -EIO");
	create(4 * MiB, 65536, 3, NULL);
	write_some();
	patch64(0x10000, 0x20008);
	ok(try_open(false) < 0 && try_open(true) == 0,
	   "bad refcount block offset: refused for writing, readable");
}

static void test_check(void)
{
	struct qcow2_check_result r;
	FILE *null = fopen("/dev/null", "w");

	create(4 * MiB, 65536, 3, NULL);
	write_some();
	ok(qcow2_check_file(path, 0, null, &r, NULL) == 0 && !r.leaks && !r.corruptions,
	   "check: clean image");
	patch64(0x30000, 0);	/* drop the L2 table: it and its data cluster leak */
	ok(qcow2_check_file(path, 0, null, &r, NULL) == 0 && r.leaks == 2 && !r.corruptions,
	   "check: 2 leaks found (%llu)", (unsigned long long)r.leaks);
	ok(qcow2_check_file(path, QCOW2_FIX_LEAKS, null, &r, NULL) == 0 && r.leaks_fixed == 2 && !r.leaks,
	   "check -r leaks: 2 fixed");
	ok(qcow2_check_file(path, 0, null, &r, NULL) == 0 && !r.leaks && !r.corruptions,
	   "check: clean after repair");

	create(4 * MiB, 65536, 3, NULL);
	write_some();
	patch(0x20000 + 5 * 2, "\0\0", 2);	/* refcount of the data cluster: 0 */
	ok(qcow2_check_file(path, 0, null, &r, NULL) == 0 && r.corruptions >= 1,
	   "check: refcount 0 of a used cluster is a corruption");
	ok(qcow2_check_file(path, QCOW2_FIX_ERRORS | QCOW2_FIX_LEAKS, null, &r, NULL) == 0 &&
	   !r.corruptions && !r.leaks, "check -r all: rebuilt, clean afterwards");
	ok(read_all(4 * MiB) == 0 && write_some() == 0, "repaired image is usable");
	fclose(null);
}

static void test_dirty(void)
{
	struct disk_open_opts o = { 0 };
	struct qcow2_check_result r;
	struct disk *d = NULL;
	uint8_t h[8];
	int fd;

	create(4 * MiB, 65536, 3, NULL);
	ok(disk_open(path, &o, &d, NULL) == 0, "open for writing");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	pread_full(fd, h, 8, QH_INCOMPAT);
	ok(qcow2_get_be64(h) & QCOW2_INCOMPAT_DIRTY, "dirty bit set while open for writing");
	disk_close(d);
	pread_full(fd, h, 8, QH_INCOMPAT);
	ok(!(qcow2_get_be64(h) & QCOW2_INCOMPAT_DIRTY), "dirty bit cleared on close");
	close(fd);
	/* A leaked image with the dirty bit, as after a crash: repaired at open. */
	write_some();
	patch64(0x30000, 0);
	patch64(QH_INCOMPAT, QCOW2_INCOMPAT_DIRTY);
	ok(write_some() == 0, "dirty image opens for writing");
	ok(qcow2_check_file(path, 0, NULL, &r, NULL) == 0 && !r.leaks && !r.corruptions,
	   "its leaks were repaired at open");
}

int main(void)
{
	log_set_level(getenv("VERBOSE") ? LOG_DEBUG : LOG_ERROR);
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/base.raw", dir);
	raw_create(path, 64 * MiB, NULL);
	snprintf(path, sizeof(path), "%s/t.qcow2", dir);
	test_refcount_math();
	test_l2_math();
	test_header_mutations();
	test_bad_tables();
	test_check();
	test_dirty();
	unlink(path);
	snprintf(path, sizeof(path), "%s/base.raw", dir);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
