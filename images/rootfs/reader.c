/*
 * Reading inodes of an untrusted image: metadata, directory names, symlink targets, the
 * data segments of a file (extents, block maps or inline data) and xattrs. Every number
 * that sizes a loop or an allocation is checked against the filesystem first; anything
 * out of place is -EUCLEAN with the path in the message.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "images/rootfs/image-internal.h"
#include "vmm/base/path.h"
#include "vmm/base/util.h"

#define FAST_SYMLINK_MAX	60	/* i_block */

static bool has_extra(const struct ext2_inode_large *in, size_t field_end)
{
	return (size_t)EXT2_GOOD_OLD_INODE_SIZE + in->i_extra_isize >= field_end;
}

static void decode_time(uint32_t lo, uint32_t extra, bool with_extra, int64_t *sec, long *ns)
{
	*sec = (int32_t)lo;
	*ns = 0;
	if (with_extra) {
		*sec += (int64_t)(extra & 3) << 32;	/* epoch bits */
		*ns = (long)(extra >> 2);
		if (*ns >= 1000000000L)
			*ns = 0;
	}
}

int rfs_stat(struct rootfs_image *img, ext2_ino_t ino, const char *path, struct rfs_stat *st,
	     struct error *e)
{
	struct ext2_super_block *sb = img->fs->super;
	struct ext2_inode_large *in = &st->in;
	unsigned isize = EXT2_INODE_SIZE(sb);
	errcode_t err;

	memset(st, 0, sizeof(*st));
	if (ino > sb->s_inodes_count || (ino < EXT2_FIRST_INODE(sb) && ino != EXT2_ROOT_INO))
		return rfs_img_fail(img, e, -EUCLEAN, path, "the name points to inode %u, which "
				    "is reserved or beyond the %u inodes", ino, sb->s_inodes_count);
	err = ext2fs_read_inode_full(img->fs, ino, (struct ext2_inode *)in,
				     (int)MIN((size_t)isize, sizeof(*in)));
	if (err)
		return rfs_img_fail(img, e, rfs_ext2_errno(err), path, "cannot read inode %u: %s",
				    ino, rfs_ext2_msg(err));
	if (isize <= EXT2_GOOD_OLD_INODE_SIZE)
		in->i_extra_isize = 0;
	else if (in->i_extra_isize > isize - EXT2_GOOD_OLD_INODE_SIZE || (in->i_extra_isize & 3))
		return rfs_img_fail(img, e, -EUCLEAN, path, "corrupt inode %u (extra size %u)", ino,
				    in->i_extra_isize);
	if (!in->i_links_count)
		return rfs_img_fail(img, e, -EUCLEAN, path, "the name points to inode %u, which is "
				    "free", ino);
	st->ino = ino;
	st->mode = in->i_mode;
	switch (st->mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR: case S_IFBLK: case S_IFIFO:
	case S_IFSOCK:
		break;
	default:
		return rfs_img_fail(img, e, -EUCLEAN, path, "inode %u has no valid file type "
				    "(mode 0%o)", ino, (unsigned)st->mode);
	}
	st->generation = in->i_generation;
	st->uid = in->i_uid | (uint32_t)in->osd2.linux2.l_i_uid_high << 16;
	st->gid = in->i_gid | (uint32_t)in->osd2.linux2.l_i_gid_high << 16;
	st->nlink = in->i_links_count;
	st->size = EXT2_I_SIZE(in);
	if (S_ISREG(st->mode) && st->size > RFS_MAX_FILE_SIZE)
		return rfs_img_fail(img, e, -EUCLEAN, path, "inode %u: size %llu is beyond ext4's "
				    "limit", ino, (unsigned long long)st->size);
	decode_time(in->i_mtime, in->i_mtime_extra,
		    has_extra(in, offsetof(struct ext2_inode_large, i_mtime_extra) + 4),
		    &st->mtime, &st->mtime_ns);
	decode_time(in->i_ctime, in->i_ctime_extra,
		    has_extra(in, offsetof(struct ext2_inode_large, i_ctime_extra) + 4),
		    &st->ctime, &st->ctime_ns);
	if (S_ISCHR(st->mode) || S_ISBLK(st->mode)) {
		uint32_t old = in->i_block[0], new = in->i_block[1];

		if (old) {
			st->rdev_major = (old >> 8) & 0xff;
			st->rdev_minor = old & 0xff;
		} else {
			st->rdev_major = (new & 0xfff00) >> 8;
			st->rdev_minor = (new & 0xff) | ((new >> 12) & 0xfff00);
		}
	}
	return 0;
}

/* ---- directories --------------------------------------------------------------------- */

struct dir_walk {
	struct rootfs_image *img;
	struct error *e;
	const char *path;
	struct rfs_dir *d;
	uint64_t *held;
	uint64_t blocks;
	int ret;
};

static int dir_add(struct dir_walk *w, const char *name, unsigned len, ext2_ino_t ino)
{
	struct rfs_dir *d = w->d;

	if (++w->img->names_seen > w->img->names_max)
		return rfs_img_fail(w->img, w->e, -EFBIG, w->path, "more names than the "
				    "filesystem can hold (cross-linked directories?)");
	*w->held += len + sizeof(struct rfs_name);
	if (*w->held > RFS_MAX_NAME_BYTES)
		return rfs_img_fail(w->img, w->e, -EFBIG, w->path, "too many names held at once "
				    "(over %llu MiB)", RFS_MAX_NAME_BYTES >> 20);
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		struct rfs_name *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return err_set(w->e, -ENOMEM, "out of memory");
		d->v = v;
		d->cap = cap;
	}
	if (d->used + len > d->size) {
		size_t size = MAX(d->size * 2, (size_t)4096);
		char *p;

		while (size < d->used + len)
			size *= 2;
		p = realloc(d->pool, size);
		if (!p)
			return err_set(w->e, -ENOMEM, "out of memory");
		d->pool = p;
		d->size = size;
	}
	memcpy(d->pool + d->used, name, len);
	/* pointers into the pool are set once it stops moving (rfs_dir_read) */
	d->v[d->n++] = (struct rfs_name){ .name = (const char *)(uintptr_t)d->used,
					  .len = (uint16_t)len, .ino = ino };
	d->used += len;
	return 0;
}

static int dir_entry(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset,
		     int blocksize, char *buf, void *arg)
{
	struct dir_walk *w = arg;
	unsigned len = ext2fs_dirent_name_len(de);

	if (offset == 0 && ++w->blocks > ext2fs_blocks_count(w->img->fs->super)) {
		w->ret = rfs_img_fail(w->img, w->e, -EFBIG, w->path, "directory with more blocks "
				      "than the filesystem");
		return DIRENT_ABORT;
	}
	if (!de->inode || (len == 1 && de->name[0] == '.') ||
	    (len == 2 && de->name[0] == '.' && de->name[1] == '.'))
		return 0;
	if (!len || memchr(de->name, '/', len) || memchr(de->name, '\0', len)) {
		w->ret = rfs_img_fail(w->img, w->e, -EUCLEAN, w->path, "corrupt directory: a name "
				      "is empty or holds '/' or NUL");
		return DIRENT_ABORT;
	}
	w->ret = dir_add(w, de->name, len, de->inode);
	return w->ret ? DIRENT_ABORT : 0;
}

static int cmp_name(const void *a, const void *b)
{
	const struct rfs_name *x = a, *y = b;
	int c = memcmp(x->name, y->name, MIN(x->len, y->len));

	return c ? c : (int)x->len - (int)y->len;
}

int rfs_dir_read(struct rootfs_image *img, const struct rfs_stat *dir, const char *path,
		 uint64_t *held, struct rfs_dir *out, struct error *e)
{
	struct dir_walk w = { .img = img, .e = e, .path = path, .d = out, .held = held };
	errcode_t err;

	memset(out, 0, sizeof(*out));
	err = ext2fs_dir_iterate2(img->fs, dir->ino, DIRENT_FLAG_INCLUDE_EMPTY, NULL, dir_entry,
				  &w);
	if (!w.ret && err)
		w.ret = rfs_img_fail(img, e, rfs_ext2_errno(err), path, "cannot read the "
				     "directory (inode %u): %s", dir->ino, rfs_ext2_msg(err));
	if (w.ret) {
		rfs_dir_free(out, held);
		return w.ret;
	}
	for (size_t i = 0; i < out->n; i++)
		out->v[i].name = out->pool + (uintptr_t)out->v[i].name;
	if (out->n > 1)	/* (qsort of NULL is undefined) */
		qsort(out->v, out->n, sizeof(*out->v), cmp_name);
	for (size_t i = 1; i < out->n; i++) {
		if (!cmp_name(&out->v[i - 1], &out->v[i])) {
			char name[PATH_NAME_MAX + 1];

			memcpy(name, out->v[i].name, out->v[i].len);
			name[out->v[i].len] = '\0';
			rfs_dir_free(out, held);
			return rfs_img_fail(img, e, -EUCLEAN, path, "corrupt directory: the name "
					    "'%s' appears twice", name);
		}
	}
	return 0;
}

void rfs_dir_free(struct rfs_dir *d, uint64_t *held)
{
	*held -= d->n * sizeof(struct rfs_name) + d->used;
	free(d->v);
	free(d->pool);
	memset(d, 0, sizeof(*d));
}

/* ---- file data ----------------------------------------------------------------------- */

struct seg_walk {
	struct rootfs_image *img;
	struct error *e;
	const char *path;
	const struct rfs_stat *st;
	struct rfs_segs *s;
	uint64_t nblocks;	/* blocks covering the size */
	uint64_t next;		/* the next logical block expected at or after */
	size_t count;
	int ret;
};

static int seg_add(struct seg_walk *w, uint64_t lblk, uint64_t pblk, uint64_t len)
{
	struct rootfs_image *img = w->img;
	struct rfs_segs *s = w->s;
	uint64_t bs = img->bs, off = lblk * bs, bytes;

	if (lblk >= w->nblocks)
		return 0;
	len = MIN(len, w->nblocks - lblk);
	if (pblk < img->fs->super->s_first_data_block || pblk >= ext2fs_blocks_count(img->fs->super) ||
	    len > ext2fs_blocks_count(img->fs->super) - pblk)
		return rfs_img_fail(img, w->e, -EUCLEAN, w->path, "inode %u: data block %llu lies "
				    "outside the filesystem", w->st->ino, (unsigned long long)pblk);
	bytes = MIN(len * bs, w->st->size - off);
	img->data_read += bytes;
	if (img->data_read > img->fs_bytes)
		return rfs_img_fail(img, w->e, -EFBIG, w->path, "more file data than the "
				    "filesystem holds (cross-linked blocks?)");
	if (s->n && s->v[s->n - 1].off + s->v[s->n - 1].len == off &&
	    s->v[s->n - 1].pblk + s->v[s->n - 1].len / bs == pblk && s->v[s->n - 1].len % bs == 0) {
		s->v[s->n - 1].len += bytes;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct rfs_seg *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return err_set(w->e, -ENOMEM, "out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct rfs_seg){ off, bytes, pblk };
	return 0;
}

static int extent_segs(struct seg_walk *w)
{
	struct rootfs_image *img = w->img;
	ext2_extent_handle_t h;
	int op = EXT2_EXTENT_ROOT, ret = 0;
	errcode_t err;

	err = ext2fs_extent_open2(img->fs, w->st->ino, (struct ext2_inode *)&w->st->in, &h);
	if (err)
		return rfs_img_fail(img, w->e, rfs_ext2_errno(err), w->path, "inode %u: bad extent "
				    "tree: %s", w->st->ino, rfs_ext2_msg(err));
	while (!ret) {
		struct ext2fs_extent ex;

		err = ext2fs_extent_get(h, op, &ex);
		op = EXT2_EXTENT_NEXT_LEAF;
		if (err == EXT2_ET_EXTENT_NO_NEXT || err == EXT2_ET_NO_CURRENT_NODE)
			break;
		if (err) {
			ret = rfs_img_fail(img, w->e, rfs_ext2_errno(err), w->path, "inode %u: bad "
					   "extent tree: %s", w->st->ino, rfs_ext2_msg(err));
			break;
		}
		if (!(ex.e_flags & EXT2_EXTENT_FLAGS_LEAF))
			continue;
		if (++w->count > RFS_MAX_EXTENTS) {
			ret = rfs_img_fail(img, w->e, -EFBIG, w->path, "inode %u: more than %u "
					   "extents", w->st->ino, RFS_MAX_EXTENTS);
			break;
		}
		if (!ex.e_len || ex.e_lblk < w->next) {
			ret = rfs_img_fail(img, w->e, -EUCLEAN, w->path, "inode %u: extents overlap "
					   "or are out of order", w->st->ino);
			break;
		}
		w->next = ex.e_lblk + ex.e_len;
		if (ex.e_lblk >= w->nblocks)
			break;
		if (!(ex.e_flags & EXT2_EXTENT_FLAGS_UNINIT))	/* unwritten: reads as zeros */
			ret = seg_add(w, ex.e_lblk, ex.e_pblk, ex.e_len);
	}
	ext2fs_extent_free(h);
	return ret;
}

static int block_cb(ext2_filsys fs, blk64_t *blk, e2_blkcnt_t cnt, blk64_t ref, int ref_off,
		    void *arg)
{
	struct seg_walk *w = arg;

	if (cnt < 0)
		return 0;
	if ((uint64_t)cnt >= w->nblocks)
		return BLOCK_ABORT;
	if (++w->count > ext2fs_blocks_count(fs->super)) {
		w->ret = rfs_img_fail(w->img, w->e, -EFBIG, w->path, "inode %u: more blocks than "
				      "the filesystem", w->st->ino);
		return BLOCK_ABORT;
	}
	w->ret = seg_add(w, (uint64_t)cnt, *blk, 1);
	return w->ret ? BLOCK_ABORT : 0;
}

static int inline_segs(struct seg_walk *w)
{
	struct rootfs_image *img = w->img;
	struct rfs_segs *s = w->s;
	size_t size = 0;
	errcode_t err;

	err = ext2fs_inline_data_size(img->fs, w->st->ino, &size);
	if (!err && (size > EXT2_INODE_SIZE(img->fs->super) || size < w->st->size))
		err = EXT2_ET_INLINE_DATA_CANT_ITERATE;
	if (!err && !(s->inline_data = malloc(MAX(size, (size_t)1))))
		return err_set(w->e, -ENOMEM, "out of memory");
	if (!err)
		err = ext2fs_inline_data_get(img->fs, w->st->ino, (struct ext2_inode *)&w->st->in,
					     s->inline_data, &size);
	if (err || size < w->st->size)
		return rfs_img_fail(img, w->e, err ? rfs_ext2_errno(err) : -EUCLEAN, w->path,
				    "inode %u: bad inline data%s%s", w->st->ino, err ? ": " : "",
				    err ? rfs_ext2_msg(err) : "");
	s->inline_len = (size_t)w->st->size;
	if (s->inline_len) {
		s->v = malloc(sizeof(*s->v));
		if (!s->v)
			return err_set(w->e, -ENOMEM, "out of memory");
		s->v[0] = (struct rfs_seg){ 0, s->inline_len, 0 };
		s->n = s->cap = 1;
	}
	return 0;
}

int rfs_segs_read(struct rootfs_image *img, const struct rfs_stat *st, const char *path,
		  struct rfs_segs *out, struct error *e)
{
	struct seg_walk w = { .img = img, .e = e, .path = path, .st = st, .s = out };
	int ret;

	memset(out, 0, sizeof(*out));
	w.nblocks = (st->size + img->bs - 1) / img->bs;
	if (!st->size)
		return 0;
	if (st->in.i_flags & EXT4_INLINE_DATA_FL) {
		ret = inline_segs(&w);
	} else if (st->in.i_flags & EXT4_EXTENTS_FL) {
		ret = extent_segs(&w);
	} else {
		errcode_t err = ext2fs_block_iterate3(img->fs, st->ino, BLOCK_FLAG_READ_ONLY |
						      BLOCK_FLAG_DATA_ONLY, NULL, block_cb, &w);

		ret = w.ret;
		if (!ret && err)
			ret = rfs_img_fail(img, e, rfs_ext2_errno(err), path, "inode %u: bad block "
					   "map: %s", st->ino, rfs_ext2_msg(err));
	}
	if (ret)
		rfs_segs_free(out);
	return ret;
}

void rfs_segs_free(struct rfs_segs *s)
{
	free(s->v);
	free(s->inline_data);
	memset(s, 0, sizeof(*s));
}

int rfs_seg_pread(struct rootfs_image *img, const struct rfs_seg *s, const struct rfs_segs *all,
		  uint64_t at, void *buf, size_t len, const char *path, struct error *e)
{
	errcode_t err;

	if (at > s->len || len > s->len - at || len > INT32_MAX)
		return err_set(e, -EINVAL, "read beyond a data segment");
	if (all->inline_data) {
		memcpy(buf, all->inline_data + s->off + at, len);
		return 0;
	}
	if (at % img->bs)
		return err_set(e, -EINVAL, "unaligned read of a data segment");
	err = io_channel_read_blk64(img->fs->io, s->pblk + at / img->bs, -(int)len, buf);
	if (err)
		return rfs_img_fail(img, e, rfs_ext2_errno(err), path, "cannot read file data: %s",
				    err_is_set(&img->io.err) ? img->io.err.msg : rfs_ext2_msg(err));
	return 0;
}

/* ---- symlinks ------------------------------------------------------------------------ */

int rfs_symlink_read(struct rootfs_image *img, const struct rfs_stat *st, const char *path,
		     char *buf, struct error *e)
{
	const struct ext2_inode_large *in = &st->in;
	size_t len = (size_t)st->size;
	int ret = 0;

	if (!len || len >= ROOTFS_PATH_MAX)
		return rfs_img_fail(img, e, -EUCLEAN, path, "symlink inode %u: target of %llu "
				    "bytes", st->ino, (unsigned long long)st->size);
	if (len < FAST_SYMLINK_MAX && !(in->i_flags & (EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL)) &&
	    !ext2fs_inode_data_blocks2(img->fs, (struct ext2_inode *)in)) {
		memcpy(buf, in->i_block, len);	/* a fast symlink: the target is in the inode */
	} else {
		struct rfs_segs s;
		uint64_t got = 0;

		ret = rfs_segs_read(img, st, path, &s, e);
		for (size_t i = 0; i < s.n && !ret; i++) {
			if (s.v[i].off != got) {
				break;
			}
			ret = rfs_seg_pread(img, &s.v[i], &s, 0, buf + got, (size_t)s.v[i].len,
					    path, e);
			got += s.v[i].len;
		}
		rfs_segs_free(&s);
		if (!ret && got != len)
			ret = rfs_img_fail(img, e, -EUCLEAN, path, "symlink inode %u: target has "
					   "holes", st->ino);
	}
	buf[len] = '\0';
	if (!ret && strlen(buf) != len)
		ret = rfs_img_fail(img, e, -EUCLEAN, path, "symlink inode %u: target holds a NUL",
				   st->ino);
	return ret;
}

/* ---- xattrs -------------------------------------------------------------------------- */

struct xattr_walk {
	rfs_xattr_fn fn;
	void *arg;
	size_t bytes;
	int ret;
};

static int xattr_cb(char *name, char *value, size_t len, void *arg)
{
	struct xattr_walk *w = arg;

	if (!strcmp(name, "system.data"))	/* inline data, not an attribute */
		return 0;
	w->bytes += strlen(name) + len;
	if (w->bytes > RFS_MAX_XATTR_BYTES) {
		w->ret = -EFBIG;
		return XATTR_ABORT;
	}
	w->ret = w->fn(w->arg, name, value, len);
	return w->ret ? XATTR_ABORT : 0;
}

int rfs_xattrs_each(struct rootfs_image *img, const struct rfs_stat *st, const char *path,
		    rfs_xattr_fn fn, void *arg, struct error *e)
{
	struct xattr_walk w = { .fn = fn, .arg = arg };
	struct ext2_xattr_handle *h;
	errcode_t err;

	err = ext2fs_xattrs_open(img->fs, st->ino, &h);
	if (err == EXT2_ET_MISSING_EA_FEATURE)
		return 0;
	if (!err) {
		err = ext2fs_xattrs_read(h);
		if (!err)
			err = ext2fs_xattrs_iterate(h, xattr_cb, &w);
		ext2fs_xattrs_close(&h);
	}
	if (w.ret == -EFBIG)
		return rfs_img_fail(img, e, -EFBIG, path, "inode %u: xattrs over %u bytes",
				    st->ino, RFS_MAX_XATTR_BYTES);
	if (w.ret)
		return w.ret;
	if (err)
		return rfs_img_fail(img, e, rfs_ext2_errno(err), path, "inode %u: cannot read "
				    "xattrs: %s", st->ino, rfs_ext2_msg(err));
	return 0;
}
