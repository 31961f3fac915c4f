/*
 * Arbitrary bytes as image layers: the input is split in two layers (the first two
 * bytes give the split) and applied to a small ext4 image in a temp directory.
 * Errors are expected; crashes, leaks and sanitizer reports are not.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/rootfs/rootfs.h"
#include "vmm/base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[128], paths[2][160], out[160];

static int put(const char *path, const uint8_t *d, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int err;

	if (fd < 0)
		return -1;
	err = write_full(fd, d, n);
	close(fd);
	return err;
}

static void cleanup(void)
{
	unlink(paths[0]);
	unlink(paths[1]);
	unlink(out);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rootfs_layer l[2] = { { paths[0], NULL }, { paths[1], NULL } };
	struct rootfs_opts o = { .size = 16ULL << 20 };
	size_t split = 0, n = 1;

	if (!dir[0]) {
		/* tmpfs when there is one: every build fsyncs */
		snprintf(dir, sizeof(dir), "%s/fuzz-rootfs.XXXXXX",
			 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
		if (!mkdtemp(dir))
			abort();
		snprintf(paths[0], sizeof(paths[0]), "%s/l0", dir);
		snprintf(paths[1], sizeof(paths[1]), "%s/l1", dir);
		snprintf(out, sizeof(out), "%s/out.img", dir);
		atexit(cleanup);
	}
	if (size >= 2) {
		split = ((size_t)data[0] << 8 | data[1]) * 512;
		data += 2;
		size -= 2;
		if (split && split < size)
			n = 2;
	}
	if (n == 2) {
		if (put(paths[0], data, split) || put(paths[1], data + split, size - split))
			return 0;
	} else if (put(paths[0], data, size)) {
		return 0;
	}
	if (rootfs_build(l, n, out, &o, NULL, NULL) == 0)
		unlink(out);
	return 0;
}
