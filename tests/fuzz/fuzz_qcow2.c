/*
 * libFuzzer target for the qcow2 open/read path (and, for half the inputs,
 * allocating writes, discard, flush and the consistency check): the input is
 * the image file.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "images/disk/disk.h"
#include "images/disk/qcow2.h"
#include "vmm/base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[256 * 1024];
	static int fd = -1;
	struct disk_open_opts o = { .format = DISK_FMT_QCOW2, .read_only = true };
	struct qcow2_check_result r;
	char path[64];
	struct disk *d;
	uint64_t sel = 0;

	if (fd < 0)
		fd = memfd_create("fuzz-qcow2", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) < 0 || pwrite_full(fd, data, size, 0) < 0)
		return 0;
	for (size_t i = 0; i < 8 && i < size; i++)
		sel = sel << 8 | data[size - 1 - i];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	o.read_only = !(sel & 1);
	if (disk_open(path, &o, &d, NULL) == 0) {
		uint64_t offs[4] = { 0, sel >> 8, d->size / 2, d->size > 4096 ? d->size - 4096 : 0 };
		enum disk_status st;
		uint64_t pnum;

		for (int i = 0; i < 4; i++) {
			uint64_t off = d->size ? offs[i] % d->size : 0;
			size_t len = MIN(sizeof(buf), d->size - off);

			disk_read(d, buf, len, off);
			if (len)
				disk_block_status(d, off, len, &pnum, &st);
			if (!d->read_only && len) {
				memset(buf, 0x5a, len);
				disk_write(d, buf, MIN(len, 70000), off);
				disk_write_zeroes(d, off, MIN(len, 200000), sel & 2);
				disk_discard(d, off / 2, len);
				disk_flush(d);
			}
		}
		disk_close(d);
	}
	if (sel & 4)
		qcow2_check_file(path, 0, NULL, &r, NULL);
	return 0;
}
