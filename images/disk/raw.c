/*
 * raw backend: the file is the disk. Discard and write-zeroes punch holes or
 * zero ranges with fallocate() where the filesystem supports it, and fall back
 * to writing zeros (write-zeroes) or doing nothing (discard is advisory).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/disk/disk-internal.h"
#include "images/disk/raw.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"

struct raw {
	struct disk disk;
	int fd;
	bool blockdev;
	bool no_punch;		/* fallocate(PUNCH_HOLE) unsupported here */
	bool no_zero_range;	/* fallocate(ZERO_RANGE) unsupported here */
};

static struct raw *to_raw(struct disk *d)
{
	return (struct raw *)d;
}

static int raw_read(struct disk *d, void *buf, size_t len, uint64_t off)
{
	int ret = pread_zero(to_raw(d)->fd, buf, len, off);

	if (ret)
		err_set(&d->err, ret, "%s: read at %llu: %s", d->path, (unsigned long long)off, strerror(-ret));
	return ret;
}

static int raw_write(struct disk *d, const void *buf, size_t len, uint64_t off)
{
	int ret = pwrite_full(to_raw(d)->fd, buf, len, off);

	if (ret)
		err_set(&d->err, ret, "%s: write at %llu: %s", d->path, (unsigned long long)off, strerror(-ret));
	return ret;
}

static int raw_flush(struct disk *d)
{
	if (d->no_sync)
		return 0;
	if (fdatasync(to_raw(d)->fd) < 0)
		return err_set(&d->err, -errno, "%s: fdatasync: %s", d->path, strerror(errno));
	return 0;
}

static int write_zero_buf(struct raw *r, uint64_t off, uint64_t len)
{
	size_t chunk = MIN(len, 1 * MiB);
	void *zero = calloc(1, chunk ? chunk : 1);
	int ret = 0;

	if (!zero)
		return -ENOMEM;
	while (len && !ret) {
		size_t n = MIN(len, chunk);

		ret = pwrite_full(r->fd, zero, n, off);
		off += n;
		len -= n;
	}
	free(zero);
	if (ret)
		err_set(&r->disk.err, ret, "%s: writing zeros: %s", r->disk.path, strerror(-ret));
	return ret;
}

static bool falloc_unsupported(int err)
{
	return err == EOPNOTSUPP || err == ENOSYS || err == EINVAL;
}

static int punch(struct raw *r, uint64_t off, uint64_t len)
{
	if (r->blockdev) {
		uint64_t range[2] = { off, len };

		return ioctl(r->fd, BLKDISCARD, range) < 0 ? -errno : 0;
	}
	if (r->no_punch)
		return -EOPNOTSUPP;
	if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) < 0) {
		if (falloc_unsupported(errno))
			r->no_punch = true;
		return -errno;
	}
	return 0;
}

static int raw_discard(struct disk *d, uint64_t off, uint64_t len)
{
	int ret = punch(to_raw(d), off, len);

	if (ret && ret != -EOPNOTSUPP && ret != -ENOSYS && ret != -EINVAL)
		return err_set(&d->err, ret, "%s: discard: %s", d->path, strerror(-ret));
	return 0;	/* advisory */
}

static int raw_write_zeroes(struct disk *d, uint64_t off, uint64_t len, bool may_unmap)
{
	struct raw *r = to_raw(d);

	if (!len)
		return 0;
	if (r->blockdev) {
		uint64_t range[2] = { off, len };

		if (ioctl(r->fd, BLKZEROOUT, range) == 0)
			return 0;
		return write_zero_buf(r, off, len);
	}
	/* A hole reads as zeros: the cheapest zeroing when unmapping is allowed. */
	if (may_unmap && punch(r, off, len) == 0)
		return 0;
	if (!r->no_zero_range) {
		if (fallocate(r->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
			return 0;
		if (falloc_unsupported(errno))
			r->no_zero_range = true;
	}
	return write_zero_buf(r, off, len);
}

static int raw_block_status(struct disk *d, uint64_t off, uint64_t len, uint64_t *pnum,
			    enum disk_status *status)
{
	struct raw *r = to_raw(d);
	off_t data, hole;

	*status = DISK_STATUS_DATA;
	*pnum = len;
	if (r->blockdev || !len)
		return 0;
	data = lseek(r->fd, off, SEEK_DATA);
	if (data < 0) {
		if (errno == ENXIO) {		/* only a hole up to the end of the file */
			*status = DISK_STATUS_ZERO;
			return 0;
		}
		return 0;			/* SEEK_DATA unsupported: all data */
	}
	if ((uint64_t)data > off) {
		*status = DISK_STATUS_ZERO;
		*pnum = MIN(len, (uint64_t)data - off);
		return 0;
	}
	hole = lseek(r->fd, off, SEEK_HOLE);
	if (hole > (off_t)off)
		*pnum = MIN(len, (uint64_t)hole - off);
	return 0;
}

static void raw_close(struct disk *d)
{
	struct raw *r = to_raw(d);

	if (!d->read_only && !d->no_sync)
		fdatasync(r->fd);
	close(r->fd);
	free(d->path);
	free(r);
}

static const struct disk_ops raw_ops = {
	.read = raw_read,
	.write = raw_write,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.block_status = raw_block_status,
	.close = raw_close,
};

int raw_open_fd(int fd, const char *path, bool read_only, struct disk **out, struct error *e)
{
	struct raw *r;
	struct stat st;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		return err_set(e, -ENOMEM, "%s: out of memory", path);
	}
	r->fd = fd;
	r->disk.ops = &raw_ops;
	r->disk.format = DISK_FMT_RAW;
	r->disk.read_only = read_only;
	r->disk.path = strdup(path);
	r->blockdev = fstat(fd, &st) == 0 && S_ISBLK(st.st_mode);
	ret = disk_fd_size(fd, &r->disk.size);
	if (ret || !r->disk.path) {
		if (!ret)
			ret = -ENOMEM;
		err_set(e, ret, "%s: cannot get the size: %s", path, strerror(-ret));
		close(fd);
		free(r->disk.path);
		free(r);
		return ret;
	}
	*out = &r->disk;
	return 0;
}

int raw_create(const char *path, uint64_t size, struct error *e)
{
	int fd, ret = 0;

	if (size > (uint64_t)INT64_MAX)
		return err_set(e, -EFBIG, "%s: size too large", path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(e, -errno, "%s: cannot create: %s", path, strerror(errno));
	if (ftruncate(fd, size) < 0 || fsync(fd) < 0)
		ret = err_set(e, -errno, "%s: cannot set the size: %s", path, strerror(errno));
	close(fd);
	return ret;
}

int raw_resize(const char *path, uint64_t size, struct error *e)
{
	int fd, ret = 0;

	if (size > (uint64_t)INT64_MAX)
		return err_set(e, -EFBIG, "%s: size too large", path);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (ftruncate(fd, size) < 0 || fsync(fd) < 0)
		ret = err_set(e, -errno, "%s: cannot resize: %s", path, strerror(errno));
	close(fd);
	return ret;
}
