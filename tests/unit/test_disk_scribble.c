/*
 * Seeded random I/O (the OpenBSD vioscribble idea): the same random writes,
 * discards and write-zeroes go through qcow2 (several cluster sizes, v2/v3,
 * with and without backing files) and raw, and every byte is compared with
 * an in-memory model; the qcow2 files must then pass `qemu-img check` and
 * `qemu-img compare` against the model. VMM_SCRIBBLE_SEED picks the seed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/disk/disk.h"
#include "images/disk/qcow2.h"
#include "images/disk/raw.h"
#include "tests/unit/tap.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

struct cfg {
	const char *name;
	uint32_t cluster_size, version, refcount_bits;
	int backing;		/* 0 none, 1 raw, 2 qcow2 over raw */
	bool raw;
	uint64_t size;
	int ops;
};

static char dir[] = "/tmp/vmm-scribble.XXXXXX";

static int write_file(const char *path, const uint8_t *data, uint64_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret;

	if (fd < 0)
		return -errno;
	ret = pwrite_full(fd, data, len, 0);
	close(fd);
	return ret;
}

static bool have_qemu_img(void)
{
	return system("qemu-img --version >/dev/null 2>&1") == 0;
}

static int compare_all(struct disk *d, const uint8_t *model, uint8_t *buf)
{
	if (disk_read(d, buf, d->size, 0))
		return -1;
	for (uint64_t i = 0; i < d->size; i++)
		if (buf[i] != model[i])
			return (int)(i & 0x7fffffff) + 1;
	return 0;
}

static void run(const struct cfg *c)
{
	char img[256], base[256], mid[256], modelf[256], cmd[1024];
	struct disk_open_opts oo = { .format = DISK_FMT_AUTO };
	uint8_t *model = calloc(1, c->size), *buf = malloc(c->size), *data;
	uint64_t cs = c->cluster_size ? c->cluster_size : 4096;
	struct disk *d = NULL;
	int bad = 0, ret;

	data = malloc(4 * MiB + 4 * cs);

	snprintf(img, sizeof(img), "%s/%s.img", dir, c->name);
	snprintf(base, sizeof(base), "%s/%s-base.raw", dir, c->name);
	snprintf(mid, sizeof(mid), "%s/%s-mid.qcow2", dir, c->name);
	snprintf(modelf, sizeof(modelf), "%s/%s-model.raw", dir, c->name);
	if (c->backing) {
		/* Backing content: some random extents over zeros. */
		for (int i = 0; i < 20; i++) {
			uint64_t off = rnd(c->size), len = rnd(256 * 1024);

			len = MIN(len, c->size - off);

			for (uint64_t j = 0; j < len; j++)
				model[off + j] = rnd(256);
		}
		write_file(base, model, c->size - 3 * cs / 2);
		memset(model + c->size - 3 * cs / 2, 0, 3 * cs / 2);	/* backing shorter than the overlay */
	}
	if (c->raw) {
		ret = raw_create(img, c->size, NULL);
	} else {
		struct qcow2_create_opts q = { .size = c->size, .cluster_size = c->cluster_size,
			.version = c->version, .refcount_bits = c->refcount_bits };

		if (c->backing == 2) {
			struct qcow2_create_opts m = { .size = c->size, .cluster_size = 65536,
				.backing_file = strrchr(base, '/') + 1, .backing_fmt = "raw" };

			qcow2_create(mid, &m, NULL);
			q.backing_file = strrchr(mid, '/') + 1;
			q.backing_fmt = "qcow2";
		} else if (c->backing == 1) {
			q.backing_file = strrchr(base, '/') + 1;
			q.backing_fmt = "raw";
		}
		ret = qcow2_create(img, &q, NULL);
	}
	ok(ret == 0, "%s: create", c->name);
	ret = disk_open(img, &oo, &d, NULL);
	ok(ret == 0, "%s: open", c->name);
	if (ret)
		goto out;
	for (int i = 0; i < c->ops && !bad; i++) {
		uint64_t r = rnd(100), off, len;

		/* Sizes around cluster boundaries: sub-cluster, multi-cluster, unaligned. */
		switch (rnd(4)) {
		case 0: len = 1 + rnd(512); break;
		case 1: len = 1 + rnd(2 * cs); break;
		case 2: len = cs * (1 + rnd(4)); break;
		default: len = 1 + rnd(MIN(4 * MiB, c->size / 4)); break;
		}
		off = rnd(c->size - len + 1);
		if (rnd(3) == 0)
			off = ALIGN_DOWN(off, cs);
		if (r < 55) {
			uint8_t v = rnd(256);

			for (uint64_t j = 0; j < len; j++)
				data[j] = v ^ (uint8_t)(j * 7);
			if (rnd(8) == 0)
				memset(data, 0, len);
			ret = disk_write(d, data, len, off);
			memcpy(model + off, data, len);
		} else if (r < 70) {
			bool unmap = rnd(2);

			ret = disk_write_zeroes(d, off, len, unmap);
			memset(model + off, 0, len);
		} else if (r < 80 && !c->raw) {
			ret = disk_discard(d, off, len);
			/* qcow2 v3 discards whole clusters to zeros; v2 to unallocated. */
			if (!ret && (c->version == 3 || !c->backing)) {
				uint64_t s = ALIGN_UP(off, cs), e = off + len == c->size ?
					c->size : ALIGN_DOWN(off + len, cs);

				if (e > s)
					memset(model + s, 0, e - s);
			}
		} else if (r < 90) {
			ret = disk_read(d, buf, len, off);
			if (!ret && memcmp(buf, model + off, len))
				bad = i + 1;
		} else if (r < 95) {
			ret = disk_flush(d);
		} else {
			disk_close(d);
			d = NULL;
			ret = disk_open(img, &oo, &d, NULL);
		}
		if (ret) {
			ok(0, "%s: op %d failed: %s", c->name, i, strerror(-ret));
			bad = i + 1;
		}
	}
	ok(!bad, "%s: %d random ops read back as written (first bad op %d)", c->name, c->ops, bad);
	ret = compare_all(d, model, buf);
	ok(ret == 0, "%s: every byte matches the model (first bad byte %d)", c->name, ret - 1);
	disk_close(d);
	d = NULL;
	/* Again after close and reopen: what is on disk, not in caches. */
	ret = disk_open(img, &oo, &d, NULL);
	ok(ret == 0 && compare_all(d, model, buf) == 0, "%s: matches after reopen", c->name);
	disk_close(d);
	d = NULL;
	if (c->raw)
		goto out;
	if (!have_qemu_img()) {
		skip("qemu-img not installed", "%s: qemu-img check", c->name);
		goto out;
	}
	snprintf(cmd, sizeof(cmd), "qemu-img check -q '%s'", img);
	ok(system(cmd) == 0, "%s: qemu-img check", c->name);
	write_file(modelf, model, c->size);
	snprintf(cmd, sizeof(cmd), "qemu-img compare -q -f raw '%s' '%s'", modelf, img);
	ok(system(cmd) == 0, "%s: qemu-img compare with the model", c->name);
out:
	if (d)
		disk_close(d);
	unlink(img);
	unlink(base);
	unlink(mid);
	unlink(modelf);
	free(model);
	free(buf);
	free(data);
}

int main(void)
{
	static const struct cfg cfgs[] = {
		{ "raw", 0, 0, 0, 0, true, 16 * MiB, 600 },
		{ "qcow2-64k", 65536, 3, 16, 0, false, 16 * MiB, 600 },
		{ "qcow2-64k-backing", 65536, 3, 16, 1, false, 16 * MiB, 600 },
		{ "qcow2-512-chain", 512, 3, 16, 2, false, 4 * MiB, 500 },
		{ "qcow2-512-rc64", 512, 3, 64, 0, false, 4 * MiB, 500 },
		{ "qcow2-4k-rc1", 4096, 3, 1, 1, false, 8 * MiB, 500 },
		{ "qcow2-4k-v2", 4096, 2, 16, 0, false, 8 * MiB, 500 },
		{ "qcow2-4k-v2-backing", 4096, 2, 16, 1, false, 8 * MiB, 500 },
		{ "qcow2-2m-backing", 2 * MiB, 3, 16, 1, false, 32 * MiB, 200 },
		{ "qcow2-1k-rc8", 1024, 3, 8, 0, false, 8 * MiB, 500 },
	};
	const char *env = getenv("VMM_SCRIBBLE_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 20240601;

	log_set_level(LOG_ERROR);
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	printf("# seed %llu\n", (unsigned long long)seed);
	for (size_t i = 0; i < ARRAY_SIZE(cfgs); i++) {
		rng = seed * 0x9e3779b97f4a7c15ULL + i + 1;
		run(&cfgs[i]);
	}
	rmdir(dir);
	return tap_done();
}
