/*
 * The layer's tar, written with libarchive in pax format: numeric owners, mtimes with
 * nanoseconds, xattrs as SCHILY.xattr records, device numbers, and sparse files as GNU
 * sparse 1.0 members (holes and unwritten extents are not stored). Names keep their raw
 * bytes (hdrcharset=BINARY when they are not valid in the locale).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>

#include "images/rootfs/image-internal.h"
#include "vmm/base/util.h"

/* smaller in a fuzzing build, as WBUF_BYTES in fs.c */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CHUNK		(64u << 10)
#else
#define CHUNK		(1u << 20)
#endif
#define ZEROS		(256u << 20)	/* read-only zero pages for holes: no memory behind them */

struct rfs_tar {
	struct archive *a;
	struct archive_entry *ent;
	char *buf;
	void *zeros;
	uint64_t apparent;	/* file sizes written, holes included */
};

static int tar_fail(struct rfs_tar *t, struct error *e, const char *what)
{
	int err = archive_errno(t->a);

	return err_set(e, err > 0 ? -err : -EIO, "writing the tar: %s: %s", what,
		       archive_error_string(t->a) ? archive_error_string(t->a) : "failed");
}

int rfs_tar_open(int fd, struct rfs_tar **out, struct error *e)
{
	struct rfs_tar *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return err_set(e, -ENOMEM, "out of memory");
	t->zeros = mmap(NULL, ZEROS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	t->a = archive_write_new();
	t->ent = archive_entry_new();
	t->buf = malloc(CHUNK);
	if (t->zeros == MAP_FAILED || !t->a || !t->ent || !t->buf) {
		if (t->zeros == MAP_FAILED)
			t->zeros = NULL;
		rfs_tar_free(t);
		return err_set(e, -ENOMEM, "out of memory");
	}
	if (archive_write_set_format_pax(t->a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(t->a) != ARCHIVE_OK) {
		int ret = tar_fail(t, e, "pax format");

		rfs_tar_free(t);
		return ret;
	}
	/* SCHILY.xattr only, as docker writes them (not libarchive's own copy as well) */
	archive_write_set_format_option(t->a, "pax", "xattrheader", "SCHILY");
	archive_write_set_bytes_in_last_block(t->a, 1);
	if (archive_write_open_fd(t->a, fd) != ARCHIVE_OK) {
		int ret = tar_fail(t, e, "open");

		rfs_tar_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

void rfs_tar_free(struct rfs_tar *t)
{
	if (!t)
		return;
	if (t->a)
		archive_write_free(t->a);
	if (t->ent)
		archive_entry_free(t->ent);
	if (t->zeros)
		munmap(t->zeros, ZEROS);
	free(t->buf);
	free(t);
}

int rfs_tar_finish(struct rfs_tar *t, struct error *e)
{
	int ret = 0;

	if (archive_write_close(t->a) != ARCHIVE_OK)
		ret = tar_fail(t, e, "close");
	rfs_tar_free(t);
	return ret;
}

static int write_all(struct rfs_tar *t, const void *p, uint64_t len, struct error *e)
{
	const char *c = p;

	while (len) {
		la_ssize_t n = archive_write_data(t->a, c, (size_t)MIN(len, (uint64_t)INT32_MAX));

		if (n <= 0)
			return tar_fail(t, e, "data");
		c += n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int write_hole(struct rfs_tar *t, uint64_t len, struct error *e)
{
	while (len) {
		uint64_t n = MIN(len, (uint64_t)ZEROS);
		int ret = write_all(t, t->zeros, n, e);

		if (ret)
			return ret;
		len -= n;
	}
	return 0;
}

/* The file's bytes in order: segments read from the image, holes in between. */
static int write_data(struct rfs_tar *t, struct rootfs_image *img, const struct rfs_stat *st,
		      const struct rfs_segs *s, const char *path,
		      struct rootfs_diff_stats *stats, struct error *e)
{
	uint64_t pos = 0;
	int ret = 0;

	for (size_t i = 0; i < s->n && !ret; i++) {
		const struct rfs_seg *g = &s->v[i];

		ret = write_hole(t, g->off - pos, e);
		for (uint64_t at = 0; at < g->len && !ret; at += CHUNK) {
			size_t n = (size_t)MIN((uint64_t)CHUNK, g->len - at);

			ret = rfs_seg_pread(img, g, s, at, t->buf, n, path, e);
			if (!ret)
				ret = write_all(t, t->buf, n, e);
		}
		pos = g->off + g->len;
		if (stats)
			stats->data_bytes += g->len;
	}
	if (!ret)
		ret = write_hole(t, st->size - pos, e);
	return ret;
}

static int add_xattr(void *arg, const char *name, const void *value, size_t len)
{
	struct rfs_tar *t = arg;

	/* a pax record is "LEN key=value\n": a key with '=' or a newline cannot be one */
	if (strchr(name, '=') || strchr(name, '\n'))
		return -EINVAL;
	archive_entry_xattr_add_entry(t->ent, name, value, len);
	return 0;
}

int rfs_tar_entry(struct rfs_tar *t, struct rootfs_image *img, const char *name,
		  const struct rfs_stat *st, const char *hardlink, struct rootfs_diff_stats *stats,
		  struct error *e)
{
	struct archive_entry *ent = t->ent;
	char path[ROOTFS_PATH_MAX + 1], target[ROOTFS_PATH_MAX];
	struct rfs_segs segs = { 0 };
	bool sparse = false;
	int ret = 0;

	snprintf(path, sizeof(path), "/%s", strcmp(name, "./") ? name : "");
	archive_entry_clear(ent);
	archive_entry_copy_pathname(ent, name);
	archive_entry_set_mode(ent, st->mode);
	archive_entry_set_uid(ent, st->uid);
	archive_entry_set_gid(ent, st->gid);
	archive_entry_set_mtime(ent, st->mtime, st->mtime_ns);
	if (hardlink) {
		archive_entry_copy_hardlink(ent, hardlink);
		archive_entry_set_size(ent, 0);
	} else {
		switch (st->mode & S_IFMT) {
		case S_IFREG:
			if (st->size > RFS_MAX_APPARENT - t->apparent)
				return rfs_img_fail(img, e, -EFBIG, path, "files over %llu TiB in all",
						    RFS_MAX_APPARENT >> 40);
			t->apparent += st->size;
			archive_entry_set_size(ent, (la_int64_t)st->size);
			ret = rfs_segs_read(img, st, path, &segs, e);
			sparse = !ret && st->size &&
				 (segs.n != 1 || segs.v[0].off || segs.v[0].len != st->size);
			for (size_t i = 0; sparse && i < segs.n; i++)
				archive_entry_sparse_add_entry(ent, (la_int64_t)segs.v[i].off,
							       (la_int64_t)segs.v[i].len);
			if (sparse && !segs.n)	/* all hole: one empty segment at the end */
				archive_entry_sparse_add_entry(ent, (la_int64_t)st->size, 0);
			break;
		case S_IFLNK:
			ret = rfs_symlink_read(img, st, path, target, e);
			if (!ret)
				archive_entry_copy_symlink(ent, target);
			break;
		case S_IFCHR:
		case S_IFBLK:
			archive_entry_set_rdevmajor(ent, st->rdev_major);
			archive_entry_set_rdevminor(ent, st->rdev_minor);
			break;
		default:
			break;
		}
		if (!ret) {
			ret = rfs_xattrs_each(img, st, path, add_xattr, t, e);
			if (ret == -EINVAL)
				ret = rfs_img_fail(img, e, ret, path, "an xattr name holds '=' or a "
						   "newline: it cannot be stored in a tar");
		}
	}
	if (!ret && archive_write_header(t->a, ent) < ARCHIVE_WARN)
		ret = tar_fail(t, e, name);
	if (!ret && S_ISREG(st->mode) && !hardlink)
		ret = write_data(t, img, st, &segs, path, stats, e);
	if (!ret && archive_write_finish_entry(t->a) < ARCHIVE_WARN)
		ret = tar_fail(t, e, name);
	rfs_segs_free(&segs);
	if (!ret && stats)
		stats->entries++;
	return ret;
}

int rfs_tar_whiteout(struct rfs_tar *t, const char *dir, const char *name, size_t len,
		     struct rootfs_diff_stats *stats, struct error *e)
{
	char path[ROOTFS_PATH_MAX + 16];
	int n;

	if (name)
		n = snprintf(path, sizeof(path), "%s%s" WHITEOUT_PREFIX "%.*s", dir, *dir ? "/" : "",
			     (int)len, name);
	else
		n = snprintf(path, sizeof(path), "%s%s" WHITEOUT_OPAQUE, dir, *dir ? "/" : "");
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(e, -ENAMETOOLONG, "whiteout name too long");
	archive_entry_clear(t->ent);
	archive_entry_copy_pathname(t->ent, path);
	archive_entry_set_filetype(t->ent, AE_IFREG);
	archive_entry_set_perm(t->ent, 0644);
	archive_entry_set_size(t->ent, 0);
	if (archive_write_header(t->a, t->ent) < ARCHIVE_WARN ||
	    archive_write_finish_entry(t->a) < ARCHIVE_WARN)
		return tar_fail(t, e, path);
	if (stats) {
		stats->entries++;
		if (name)
			stats->whiteouts++;
		else
			stats->opaque++;
	}
	return 0;
}
