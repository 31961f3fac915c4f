/*
 * Block backends: raw and qcow2 behind one small ops table.
 *
 * Used by virtio-blk (through vmm/machine, from the single event-loop
 * thread) and by `vmm disk`. A struct disk is NOT thread-safe: one user at a
 * time. Every call is synchronous and returns 0 or -errno; a disk keeps the
 * failure of its last call in d->err (one line naming the image), for the
 * caller to report. Nothing here logs.
 *
 * Offsets and lengths are bytes and need no alignment. Reads or writes past
 * the virtual size return -EINVAL, writes to a read-only disk -EROFS.
 */
#ifndef VMM_IMAGES_DISK_DISK_H
#define VMM_IMAGES_DISK_DISK_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/base/error.h"

enum disk_format { DISK_FMT_AUTO, DISK_FMT_RAW, DISK_FMT_QCOW2 };

/* What disk_block_status() says about a range. */
enum disk_status {
	DISK_STATUS_DATA,	/* may hold data: read it */
	DISK_STATUS_ZERO,	/* reads as zeros (hole, zero cluster, unallocated without backing) */
};

struct disk;

struct disk_ops {
	int (*read)(struct disk *d, void *buf, size_t len, uint64_t off);
	int (*write)(struct disk *d, const void *buf, size_t len, uint64_t off);
	/* Durable on the host: every file written is fdatasync'ed, metadata in order. */
	int (*flush)(struct disk *d);
	/* Deallocate; the range may read back as zeros or old data (qcow2: zeros). */
	int (*discard)(struct disk *d, uint64_t off, uint64_t len);
	/* The range reads back as zeros; may_unmap allows deallocating it. */
	int (*write_zeroes)(struct disk *d, uint64_t off, uint64_t len, bool may_unmap);
	/* Status of [off, off+len): sets *pnum (>0) to the length with the same status. */
	int (*block_status)(struct disk *d, uint64_t off, uint64_t len, uint64_t *pnum,
			    enum disk_status *status);
	/* Flushes (qcow2: clears the dirty bit), closes the backing chain, frees d. */
	void (*close)(struct disk *d);
};

struct disk {
	const struct disk_ops *ops;
	enum disk_format format;
	uint64_t size;		/* virtual size in bytes */
	bool read_only;
	char *path;		/* as opened, for messages */
	bool no_sync;		/* opened with unsafe_no_sync */
	struct error err;	/* why the last call failed (cleared by each call) */
};

struct disk_open_opts {
	enum disk_format format;	/* DISK_FMT_AUTO probes the file */
	bool read_only;
	/* Follow backing files anywhere (absolute paths, ".." escapes). */
	bool allow_unsafe_backing;
	/* NULL-terminated list of directories whose files are trusted backing files. */
	const char *const *trusted_dirs;
	/* Tools only (info, check): do not open backing files; unallocated ranges read as zeros. */
	bool no_backing;
	/* Tools only (convert's target): never fdatasync, like qemu-img's cache=unsafe. */
	bool unsafe_no_sync;
};

/*
 * Open an image. Backing files named inside a qcow2 image are followed when
 * they resolve (symlinks included) inside the image's own directory or inside
 * one of opts->trusted_dirs; anything else needs opts->allow_unsafe_backing.
 * Backing files are always opened read-only. 0, or -errno with e naming the
 * image and the problem.
 */
int disk_open(const char *path, const struct disk_open_opts *opts, struct disk **out, struct error *e);

/*
 * Would the backing file `name` of image `image_path` be followed under opts?
 * 0 yes, -EPERM no (policy), other -errno when it cannot be resolved. Silent.
 */
int disk_backing_check(const char *image_path, const char *name, const struct disk_open_opts *opts);
/* The path a backing name resolves to (relative names against the image's directory); malloc'd. */
char *disk_backing_path(const char *image_path, const char *name);
/* The open backing disk of d (qcow2 with a backing file), or NULL. */
struct disk *disk_backing(struct disk *d);

const char *disk_format_name(enum disk_format fmt);
/* "raw" / "qcow2" -> format; returns -EINVAL for anything else. */
int disk_format_parse(const char *name, enum disk_format *fmt);
/* Guess the format from the first bytes of fd (qcow2 magic, else raw). */
enum disk_format disk_probe_fd(int fd);

/* Is the buffer all zero bytes? */
bool disk_buf_is_zero(const void *buf, size_t len);

/* Bounds and read-only checks of a request; clears d->err for the call. */
int disk_check_request(struct disk *d, uint64_t off, uint64_t len, bool write);

static inline int disk_read(struct disk *d, void *buf, size_t len, uint64_t off)
{
	int ret = disk_check_request(d, off, len, false);

	return ret ? ret : d->ops->read(d, buf, len, off);
}

static inline int disk_write(struct disk *d, const void *buf, size_t len, uint64_t off)
{
	int ret = disk_check_request(d, off, len, true);

	return ret ? ret : d->ops->write(d, buf, len, off);
}

static inline int disk_flush(struct disk *d)
{
	err_clear(&d->err);
	return d->read_only ? 0 : d->ops->flush(d);
}

static inline int disk_discard(struct disk *d, uint64_t off, uint64_t len)
{
	int ret = disk_check_request(d, off, len, true);

	return ret ? ret : d->ops->discard(d, off, len);
}

static inline int disk_write_zeroes(struct disk *d, uint64_t off, uint64_t len, bool may_unmap)
{
	int ret = disk_check_request(d, off, len, true);

	return ret ? ret : d->ops->write_zeroes(d, off, len, may_unmap);
}

static inline int disk_block_status(struct disk *d, uint64_t off, uint64_t len, uint64_t *pnum,
				    enum disk_status *status)
{
	int ret = disk_check_request(d, off, len, false);

	return ret ? ret : d->ops->block_status(d, off, len, pnum, status);
}

static inline void disk_close(struct disk *d)
{
	if (d)
		d->ops->close(d);
}

#endif
