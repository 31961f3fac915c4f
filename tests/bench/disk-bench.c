/*
 * disk-bench (build/tests/disk-bench, used by tests/bench/disk.sh): the access pattern of
 * qemu-img bench, synchronously through our backend. Requests of -s bytes
 * start at -o and advance by -S (wrapping at the end of the image), or land
 * at random aligned offsets with --random SEED.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/cli/disk.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: disk-bench [-c COUNT] [-s SIZE] [-S STEP] [-o OFFSET] [-w]\n"
		"                      [--random SEED] [--flush-interval N] [-f FMT] FILE\n");
}

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "random", required_argument, NULL, 'R' },
		{ "flush-interval", required_argument, NULL, 'F' },
		{ "allow-unsafe-backing", no_argument, NULL, DISK_OPT_ALLOW_UNSAFE },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t count = 75000, size = 4096, step = 0, off = 0, seed = 0, flush_every = 0;
	enum disk_format fmt = DISK_FMT_AUTO;
	bool write = false, random = false, allow_unsafe = false;
	struct timespec t0, t1;
	struct disk *d;
	uint8_t *buf;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "+c:s:S:o:wf:d:t:i:nqh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': if (parse_uint(optarg, 1, UINT64_MAX, &count)) goto bad; break;
		case 's': if (parse_size(optarg, 1, &size) || !size || size > 64 * MiB) goto bad; break;
		case 'S': if (parse_size(optarg, 1, &step)) goto bad; break;
		case 'o': if (parse_size(optarg, 1, &off)) goto bad; break;
		case 'w': write = true; break;
		case 'R': random = true; if (parse_uint(optarg, 0, UINT64_MAX, &seed)) goto bad; break;
		case 'F': if (parse_uint(optarg, 0, UINT64_MAX, &flush_every)) goto bad; break;
		case 'f': if ((ret = disk_cli_format("disk bench", optarg, &fmt))) return ret; break;
		case 'd': case 't': case 'i': case 'n': case 'q': break;	/* qemu-img bench options */
		case DISK_OPT_ALLOW_UNSAFE: allow_unsafe = true; break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (argc - optind != 1)
		goto bad;
	if (!step)
		step = size;
	if (disk_cli_open(NULL, argv[optind], fmt, !write, allow_unsafe, false, &d))
		return 1;
	if (d->size < size) {
		pr_err("%s: image smaller than the request size", argv[optind]);
		disk_close(d);
		return 1;
	}
	buf = aligned_alloc(4096, ALIGN_UP(size, 4096));
	if (!buf) {
		disk_close(d);
		return 1;
	}
	memset(buf, 0xa5, size);	/* qemu-img bench's default pattern */
	seed = seed * 2654435761ULL + 88172645463325252ULL;
	printf("Sending %llu %s requests, %llu bytes each, %s\n", (unsigned long long)count,
	       write ? "write" : "read", (unsigned long long)size,
	       random ? "random offsets" : "sequential");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = 0; i < count && !ret; i++) {
		uint64_t o = off;

		if (random)
			o = (next_rand(&seed) % (d->size / size)) * size;
		else	/* as qemu-img bench: advance by the step, wrap around */
			off = d->size > size ? (off + step) % (d->size - size) : 0;
		ret = write ? disk_write(d, buf, size, o) : disk_read(d, buf, size, o);
		if (!ret && write && flush_every && (i + 1) % flush_every == 0)
			ret = disk_flush(d);
	}
	if (!ret && write)
		ret = disk_flush(d);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ret)
		err_print(&d->err);
	disk_close(d);
	free(buf);
	if (ret)
		return 1;
	printf("Run completed in %.3f seconds.\n",
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
bad:
	return cli_usage_error("disk bench", "bad arguments");
}
