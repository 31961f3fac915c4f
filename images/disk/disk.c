/* disk_open: probe the format, open the file, dispatch to raw or qcow2. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/disk/disk-internal.h"
#include "images/disk/qcow2-internal.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"

const char *disk_format_name(enum disk_format fmt)
{
	switch (fmt) {
	case DISK_FMT_RAW: return "raw";
	case DISK_FMT_QCOW2: return "qcow2";
	default: return "auto";
	}
}

int disk_format_parse(const char *name, enum disk_format *fmt)
{
	if (!strcmp(name, "raw"))
		*fmt = DISK_FMT_RAW;
	else if (!strcmp(name, "qcow2"))
		*fmt = DISK_FMT_QCOW2;
	else
		return -EINVAL;
	return 0;
}

enum disk_format disk_probe_fd(int fd)
{
	uint8_t magic[4];

	if (pread_full(fd, magic, sizeof(magic), 0) == 0 &&
	    magic[0] == 'Q' && magic[1] == 'F' && magic[2] == 'I' && magic[3] == 0xfb)
		return DISK_FMT_QCOW2;
	return DISK_FMT_RAW;
}

int disk_check_request(struct disk *d, uint64_t off, uint64_t len, bool write)
{
	err_clear(&d->err);
	if (off > d->size || len > d->size - off)
		return -EINVAL;
	if (write && d->read_only)
		return -EROFS;
	return 0;
}

int disk_fd_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0)
			return -errno;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*size = st.st_size;
	return 0;
}

bool disk_buf_is_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	/* Check the head byte by byte, then compare the buffer with itself shifted. */
	while (len && ((uintptr_t)p & 15)) {
		if (*p)
			return false;
		p++;
		len--;
	}
	if (len < 16) {
		for (size_t i = 0; i < len; i++)
			if (p[i])
				return false;
		return true;
	}
	for (size_t i = 0; i < 16; i++)
		if (p[i])
			return false;
	return memcmp(p, p + 16, len - 16) == 0;
}

int disk_open_fd(int fd, const char *path, enum disk_format fmt,
		   const struct disk_open_opts *opts, struct disk_chain *chain,
		   struct disk **out, struct error *e)
{
	if (fmt == DISK_FMT_AUTO)
		fmt = disk_probe_fd(fd);
	if (fmt == DISK_FMT_QCOW2)
		return qcow2_open_fd(fd, path, opts, chain, out, e);
	return raw_open_fd(fd, path, opts->read_only, out, e);
}

int disk_open(const char *path, const struct disk_open_opts *opts, struct disk **out, struct error *e)
{
	struct disk_open_opts def = { .format = DISK_FMT_AUTO };
	struct disk_chain chain = { 0 };
	struct stat st;
	int fd, ret;

	if (!opts)
		opts = &def;
	fd = open(path, (opts->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		close(fd);
		return err_set(e, -EINVAL, "%s: not a regular file or block device", path);
	}
	chain.dev[0] = st.st_dev;
	chain.ino[0] = st.st_ino;
	chain.depth = 1;
	ret = disk_open_fd(fd, path, opts->format, opts, &chain, out, e);
	if (!ret)
		(*out)->no_sync = opts->unsafe_no_sync;
	return ret;
}
