/*
 * vmm disk convert [-f FMT] [-O FMT] [-c] [-o OPTS] SRC DST
 * Sparse-aware: ranges the source reports as zero are skipped, and so are
 * all-zero blocks read from it (4 KiB for raw targets, a cluster for qcow2).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/disk/qcow2.h"
#include "images/disk/raw.h"
#include "vmm/cli/disk.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

#define CHUNK (2 * MiB)

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm disk convert [-f FMT] [-O FMT] [-c] [-o OPTIONS] SRC DST\n\n"
		"Copy SRC (with its backing chain) into a new image DST.\n\n"
		"  -f FMT                  source format (default: probed)\n"
		"  -O FMT                  target format: raw (default) or qcow2\n"
		"  -c                      compress the qcow2 target's clusters (zlib)\n"
		"  -o OPT=VAL[,...]        qcow2 target options: cluster_size, compat, refcount_bits\n"
		"  --sync                  fdatasync DST before exiting (by default, as qemu-img's\n"
		"                          cache=unsafe, the target is left to the page cache)\n"
		"  --allow-unsafe-backing  follow SRC's backing files outside its directory\n");
}

static bool is_zero(const uint8_t *p, size_t n)
{
	if (!n)
		return true;
	if (p[0] || p[n / 2] || p[n - 1])	/* cheap early exits for data */
		return false;
	for (size_t i = 0; i < n; i += 4096)
		if (!disk_buf_is_zero(p + i, MIN(4096, n - i)))
			return false;
	return true;
}

/* Write the non-zero granules of buf (at off) to dst, merging neighbours. */
static int write_nonzero(struct disk *dst, const uint8_t *buf, uint64_t len, uint64_t off,
			 uint64_t gran)
{
	uint64_t i = 0;

	while (i < len) {
		uint64_t g = MIN(len - i, gran - ((off + i) % gran)), start;

		if (is_zero(buf + i, g)) {
			i += g;
			continue;
		}
		start = i;
		i += g;
		while (i < len) {
			g = MIN(len - i, gran - ((off + i) % gran));
			if (is_zero(buf + i, g))
				break;
			i += g;
		}
		if (disk_write(dst, buf + start, i - start, off + start))
			return -1;
	}
	return 0;
}

static int copy_compressed(struct disk *src, struct disk *dst, uint8_t *buf)
{
	uint64_t cs = qcow2_cluster_size(dst);

	for (uint64_t off = 0; off < src->size; off += cs) {
		uint64_t n = MIN(cs, src->size - off), pnum = 0, o;
		enum disk_status st;
		bool data = false;

		/* Skip clusters the source says are all zeros without reading them. */
		for (o = off; o < off + n && !data; o += pnum) {
			if (disk_block_status(src, o, off + n - o, &pnum, &st))
				return -1;
			data = st == DISK_STATUS_DATA;
		}
		if (!data)
			continue;
		if (disk_read(src, buf, n, off))
			return -1;
		memset(buf + n, 0, cs - n);
		if (is_zero(buf, n))
			continue;
		if (qcow2_write_compressed(dst, buf, off / cs))
			return -1;
	}
	return 0;
}

static int copy(struct disk *src, struct disk *dst, uint8_t *buf, uint64_t gran)
{
	uint64_t off = 0;

	while (off < src->size) {
		uint64_t pnum, n;
		enum disk_status st;

		n = MIN(CHUNK - off % CHUNK, src->size - off);
		if (disk_block_status(src, off, n, &pnum, &st))
			return -1;
		if (st == DISK_STATUS_ZERO) {
			off += pnum;
			continue;
		}
		n = MIN(n, pnum);
		if (disk_read(src, buf, n, off) || write_nonzero(dst, buf, n, off, gran))
			return -1;
		off += n;
	}
	return 0;
}

int cmd_disk_convert(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "allow-unsafe-backing", no_argument, NULL, DISK_OPT_ALLOW_UNSAFE },
		{ "sync", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	enum disk_format sfmt = DISK_FMT_AUTO, dfmt = DISK_FMT_RAW;
	struct qcow2_create_opts qo = { 0 };
	bool compress = false, allow_unsafe = false, sync = false;
	struct disk *src = NULL, *dst = NULL;
	struct error e = { 0 };
	char *o_arg = NULL;
	uint8_t *buf = NULL;
	int c, ret, status = 1;

	while ((c = getopt_long(argc, argv, "+f:O:co:pqh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((ret = disk_cli_format("disk convert", optarg, &sfmt)))
				return ret;
			break;
		case 'O':
			if ((ret = disk_cli_format("disk convert", optarg, &dfmt)))
				return ret;
			break;
		case 'c':
			compress = true;
			break;
		case 'o':
			o_arg = optarg;
			break;
		case 's':
			sync = true;
			break;
		case 'p':
		case 'q':
			break;
		case DISK_OPT_ALLOW_UNSAFE:
			allow_unsafe = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_usage_error("disk convert", "bad option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("disk convert", "expected SRC and DST");
	if (compress && dfmt != DISK_FMT_QCOW2)
		return cli_usage_error("disk convert", "-c needs -O qcow2");
	for (char *tok = o_arg ? strtok(o_arg, ",") : NULL; tok; tok = strtok(NULL, ",")) {
		uint64_t v;

		if (str_has_prefix(tok, "cluster_size=") && parse_size(tok + 13, 1, &v) == 0 && v <= 2 * MiB)
			qo.cluster_size = v;
		else if (!strcmp(tok, "compat=0.10"))
			qo.version = 2;
		else if (!strcmp(tok, "compat=1.1"))
			qo.version = 3;
		else if (str_has_prefix(tok, "refcount_bits=") && parse_uint(tok + 14, 1, 64, &v) == 0)
			qo.refcount_bits = v;
		else
			return cli_usage_error("disk convert", "bad -o option '%s'", tok);
	}
	if (disk_cli_open(cli, argv[optind], sfmt, true, allow_unsafe, false, &src))
		return 1;
	qo.size = src->size;
	ret = dfmt == DISK_FMT_QCOW2 ? qcow2_create(argv[optind + 1], &qo, &e)
				     : raw_create(argv[optind + 1], src->size, &e);
	if (ret) {
		err_print(&e);
		goto out;
	}
	{
		struct disk_open_opts o = { .format = dfmt, .no_backing = true, .unsafe_no_sync = !sync };

		if (disk_open(argv[optind + 1], &o, &dst, &e)) {
			err_print(&e);
			goto out;
		}
	}
	buf = aligned_alloc(4096, CHUNK);
	if (!buf)
		goto out;
	if (compress)
		ret = copy_compressed(src, dst, buf);
	else
		ret = copy(src, dst, buf, dfmt == DISK_FMT_QCOW2 ? qcow2_cluster_size(dst) : 4096);
	if (!ret && !disk_flush(dst))
		status = 0;
	else	/* the failing disk holds why; each call clears the other's */
		err_print(dst->err.code || !src->err.code ? &dst->err : &src->err);
out:
	free(buf);
	disk_close(dst);
	disk_close(src);
	return status;
}
