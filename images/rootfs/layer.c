/*
 * One layer: tar members read with libarchive (tar only; plain, gzip or zstd, sniffed)
 * and applied to the image in memory and on disk, with OCI whiteout semantics.
 * Order of members inside a layer does not matter: a whiteout or an opaque marker only
 * removes names that no member of the same layer put there (the node's stamp).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/rootfs/rootfs-internal.h"
#include "images/rootfs/path.h"
#include "vmm/base/log.h"
#include "vmm/base/path.h"
#include "vmm/base/util.h"

/* smaller in a fuzzing build, as WBUF_BYTES in fs.c */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define READ_BLOCK	(64 << 10)
#else
#define READ_BLOCK	(1 << 20)
#endif
#define MAX_FILE_SIZE	((1ULL << 32) * 4096 - 4096)	/* 2^32 blocks of 4 KiB */

static int meta_from_entry(struct rfs *r, struct archive_entry *e, struct rfs_meta *m)
{
	la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);

	memset(m, 0, sizeof(*m));
	if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX)
		return rfs_fail(r, -EINVAL, "owner %lld:%lld does not fit in 32 bits",
				(long long)uid, (long long)gid);
	m->mode = archive_entry_mode(e);
	m->uid = (uint32_t)uid;
	m->gid = (uint32_t)gid;
	m->mtime = archive_entry_mtime(e);
	m->mtime_ns = archive_entry_mtime_nsec(e);
	m->atime = m->mtime;
	m->atime_ns = m->mtime_ns;
	if (archive_entry_atime_is_set(e)) {
		m->atime = archive_entry_atime(e);
		m->atime_ns = archive_entry_atime_nsec(e);
	}
	/* ctime cannot be chosen on a real filesystem; the mtime keeps builds reproducible */
	m->ctime = m->mtime;
	m->ctime_ns = m->mtime_ns;
	m->rdev_major = archive_entry_rdevmajor(e);
	m->rdev_minor = archive_entry_rdevminor(e);
	return 0;
}

/* xattr namespaces ext4 stores and the guest kernel shows */
static bool xattr_allowed(const char *name)
{
	return str_has_prefix(name, "user.") || str_has_prefix(name, "security.") ||
	       str_has_prefix(name, "trusted.") || !strcmp(name, "system.posix_acl_access") ||
	       !strcmp(name, "system.posix_acl_default");
}

struct xnames {
	char **v;
	size_t n, cap;
};

static int collect_name(char *name, char *value, size_t len, void *data)
{
	struct xnames *x = data;

	(void)value;
	(void)len;
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 8;
		char **v = realloc(x->v, cap * sizeof(*v));

		if (!v)
			return XATTR_ABORT;
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n] = strdup(name);
	if (!x->v[x->n])
		return XATTR_ABORT;
	x->n++;
	return 0;
}

static int apply_xattrs(struct rfs *r, ext2_ino_t ino, struct archive_entry *e, bool clear)
{
	struct ext2_xattr_handle *h;
	struct xnames old = { 0 };
	const char *name;
	const void *val;
	size_t size;
	errcode_t err;
	int n = archive_entry_xattr_reset(e);

	if (!n && !clear)
		return 0;
	err = ext2fs_xattrs_open(r->fs, ino, &h);
	if (err)
		return rfs_fail(r, rfs_errno(err), "xattrs: %s", rfs_strerror(err));
	err = ext2fs_xattrs_read(h);
	if (!err && clear)
		err = ext2fs_xattrs_iterate(h, collect_name, &old);
	for (size_t i = 0; i < old.n; i++) {
		if (!err)
			err = ext2fs_xattr_remove(h, old.v[i]);
		free(old.v[i]);
	}
	free(old.v);
	if (err) {
		ext2fs_xattrs_close(&h);
		return rfs_fail(r, rfs_errno(err), "xattrs: %s", rfs_strerror(err));
	}
	while (archive_entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
		if (!xattr_allowed(name)) {
			pr_warn("layer %s: %s: xattr %s skipped: ext4 has no such namespace",
				r->layer_name, r->member, name);
			continue;
		}
		err = ext2fs_xattr_set(h, name, val, size);
		if (err) {
			ext2fs_xattrs_close(&h);
			return rfs_fail(r, rfs_errno(err), "cannot store xattr %s (%zu bytes): %s",
					name, size, rfs_strerror(err));
		}
	}
	err = ext2fs_xattrs_close(&h);
	if (err)
		return rfs_fail(r, rfs_errno(err), "xattrs: %s", rfs_strerror(err));
	return 0;
}

/* A directory met again (or the root): the new entry's metadata wins, contents stay. */
static int update_dir(struct rfs *r, struct rfs_node *n, const struct rfs_meta *m,
		      struct archive_entry *e)
{
	struct ext2_inode_large in, fresh;
	int err;

	err = rfs_inode_read(r, n->ino, &in);
	if (err)
		return rfs_fail(r, err, "cannot read inode %u: %s", n->ino, strerror(-err));
	rfs_inode_fill(r, &fresh, m);
	in.i_mode = fresh.i_mode;
	in.i_uid = fresh.i_uid;
	in.osd2.linux2.l_i_uid_high = fresh.osd2.linux2.l_i_uid_high;
	in.i_gid = fresh.i_gid;
	in.osd2.linux2.l_i_gid_high = fresh.osd2.linux2.l_i_gid_high;
	in.i_atime = fresh.i_atime;
	in.i_atime_extra = fresh.i_atime_extra;
	in.i_mtime = fresh.i_mtime;
	in.i_mtime_extra = fresh.i_mtime_extra;
	in.i_ctime = fresh.i_ctime;
	in.i_ctime_extra = fresh.i_ctime_extra;
	err = rfs_inode_write(r, n->ino, &in);
	if (err)
		return rfs_fail(r, err, "cannot write inode %u: %s", n->ino, strerror(-err));
	n->mode = m->mode;
	return apply_xattrs(r, n->ino, e, true);
}

static int write_file_data(struct rfs *r, struct archive *a, struct archive_entry *e,
			   ext2_ino_t ino, struct ext2_inode_large *in)
{
	uint64_t size = archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0;
	uint64_t pos = 0;
	int err;

	if (archive_entry_size(e) < 0 || size > MAX_FILE_SIZE)
		return rfs_fail(r, -EFBIG, "file size %lld is beyond ext4's limit",
				(long long)archive_entry_size(e));
	rfs_data_begin(r);
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int rc = archive_read_data_block(a, &buf, &len, &off);

		if (rc == ARCHIVE_EOF)
			break;
		if (rc < ARCHIVE_WARN)
			return rfs_fail(r, -EINVAL, "%s", archive_error_string(a));
		if (off < 0 || (uint64_t)off > size || len > size - (uint64_t)off)
			return rfs_fail(r, -EINVAL, "data beyond the file's size %llu",
					(unsigned long long)size);
		err = rfs_data_feed(r, &pos, (uint64_t)off, buf, len);
		if (err)
			goto fail;
	}
	in->i_size = (uint32_t)size;
	in->i_size_high = (uint32_t)(size >> 32);
	err = rfs_data_end(r, &pos, ino, in);
	if (!err)
		return 0;
fail:
	if (err == -ENOSPC)
		return rfs_fail(r, err, "the image is full (%llu MiB): build it with a larger size",
				(unsigned long long)(ext2fs_blocks_count(r->fs->super) *
						     r->bs >> 20));
	return rfs_fail(r, err, "cannot write file data: %s", strerror(-err));
}

/* Create the inode of a file, symlink, device or fifo, then its name. */
static int make_node(struct rfs *r, struct archive *a, struct archive_entry *e,
		     enum rootfs_kind kind, struct rfs_meta *m, struct rfs_node *parent,
		     const char *base, struct rfs_node **out)
{
	struct ext2_inode_large in;
	const char *target = NULL;
	char *copy = NULL;
	ext2_ino_t ino;
	int err;

	if (kind == RF_SYMLINK) {
		target = archive_entry_symlink(e);
		if (!target)
			target = archive_entry_symlink_utf8(e);
		if (!target || !*target)
			return rfs_fail(r, -EINVAL, "symlink with an empty target");
		if (strlen(target) >= ROOTFS_PATH_MAX)
			return rfs_fail(r, -ENAMETOOLONG, "symlink target longer than %d bytes",
					ROOTFS_PATH_MAX - 1);
		copy = strdup(target);
		if (!copy)
			return -ENOMEM;
	}
	err = rfs_inode_alloc(r, false, &ino);
	if (err) {
		free(copy);
		return rfs_fail(r, err, "no free inode left (%u in the image): build it with a "
				"larger size", r->fs->super->s_inodes_count);
	}
	rfs_inode_fill(r, &in, m);
	switch (kind) {
	case RF_REG:
		in.i_mode = (in.i_mode & ~S_IFMT) | S_IFREG;
		err = write_file_data(r, a, e, ino, &in);
		break;
	case RF_SYMLINK: {
		size_t len = strlen(target);

		in.i_mode = S_IFLNK | 0777;
		in.i_size = (uint32_t)len;
		if (len < sizeof(in.i_block)) {		/* fast symlink, in the inode */
			memcpy(in.i_block, target, len);
			err = rfs_inode_write(r, ino, &in);
		} else {
			uint64_t pos = 0;

			rfs_data_begin(r);
			err = rfs_data_feed(r, &pos, 0, target, len);
			if (!err)
				err = rfs_data_end(r, &pos, ino, &in);
		}
		if (err)
			err = rfs_fail(r, err, "cannot write symlink: %s", strerror(-err));
		break;
	}
	default:
		err = rfs_inode_write(r, ino, &in);
		if (err)
			err = rfs_fail(r, err, "cannot write inode: %s", strerror(-err));
		break;
	}
	if (!err)
		err = apply_xattrs(r, ino, e, false);
	if (!err)
		err = rfs_tree_add(r, parent, base, strlen(base), in.i_mode, ino, out);
	if (err) {
		free(copy);
		return err;
	}
	(*out)->target = copy;
	return 0;
}

static int link_node(struct rfs *r, struct archive_entry *e, struct rfs_node *parent,
		     const char *base, struct rfs_node *existing, const struct rfs_meta *m)
{
	const char *raw = archive_entry_hardlink(e);
	char tpath[ROOTFS_PATH_MAX];
	char *tdir, *tbase;
	struct rfs_node *tparent, *target, *n;
	struct ext2_inode_large in;
	char *text = NULL;
	ext2_ino_t ino;
	mode_t mode;
	int err;

	if (path_clean(raw, PATH_DOTDOT_CLAMP, tpath, sizeof(tpath)))
		return rfs_fail(r, -ENAMETOOLONG, "hardlink target name too long");
	if (!tpath[0])
		return rfs_fail(r, -EINVAL, "hardlink to the root directory");
	path_split(tpath, &tdir, &tbase);
	err = rfs_tree_resolve_dir(r, tdir, false, m, &tparent);
	target = err ? NULL : rfs_tree_lookup(r, tparent, tbase, strlen(tbase));
	if (!target)
		return rfs_fail(r, -ENOENT, "hardlink target %s does not exist in the image", raw);
	if (S_ISDIR(target->mode))
		return rfs_fail(r, -EPERM, "hardlink to directory %s", raw);
	if (target == existing) {
		rfs_tree_stamp(existing, r->layer);
		return 0;
	}
	ino = target->ino;
	mode = target->mode;
	if (target->target && !(text = strdup(target->target)))
		return -ENOMEM;
	err = rfs_inode_read(r, ino, &in);
	if (err)
		return rfs_fail(r, err, "cannot read inode %u: %s", ino, strerror(-err));
	if (!err && in.i_links_count >= EXT2_LINK_MAX)
		err = rfs_fail(r, -EMLINK, "%s has too many hardlinks (%u)", raw,
			       in.i_links_count);
	if (!err) {
		in.i_links_count++;
		err = rfs_inode_write(r, ino, &in);
	}
	/* the target might live under the name being replaced: it keeps our new link */
	if (!err && existing)
		err = rfs_tree_remove(r, existing);
	if (!err)
		err = rfs_tree_add(r, parent, base, strlen(base), mode, ino, &n);
	if (err) {
		free(text);
		return rfs_fail(r, err, "cannot link to %s: %s", raw, strerror(-err));
	}
	n->target = text;	/* a hardlinked symlink resolves like its target */
	rfs_tree_stamp(n, r->layer);
	return 0;
}

static int resolve_fail(struct rfs *r, int err, const char *dir)
{
	switch (err) {
	case -ENOTDIR:
		return rfs_fail(r, err, "a parent (%s) is not a directory in the image", dir);
	case -ELOOP:
		return rfs_fail(r, err, "too many levels of symbolic links in %s", dir);
	case -ENAMETOOLONG:
		return rfs_fail(r, err, "path too long after following symbolic links");
	default:
		return rfs_fail(r, err, "cannot resolve %s: %s", dir, strerror(-err));
	}
}

static int apply_member(struct rfs *r, struct archive *a, struct archive_entry *e)
{
	char path[ROOTFS_PATH_MAX];
	char *dir, *base;
	const char *wname = NULL;
	struct rfs_node *parent, *existing, *n;
	enum rootfs_kind kind;
	struct rfs_meta m;
	int err;

	if (path_clean(r->member, PATH_DOTDOT_CLAMP, path, sizeof(path)))
		return rfs_fail(r, -ENAMETOOLONG, "name too long (a component over %d bytes, or "
				"the path over %d)", PATH_NAME_MAX, ROOTFS_PATH_MAX - 1);
	kind = rootfs_member_kind(path, archive_entry_filetype(e),
				 archive_entry_hardlink(e) != NULL, &wname);
	err = meta_from_entry(r, e, &m);
	if (err)
		return err;
	switch (kind) {
	case RF_META:
	case RF_SOCK:
		pr_debug("layer %s: %s: %s skipped", r->layer_name, r->member,
			 rootfs_kind_name(kind));
		return 0;
	case RF_BAD:
		base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		if (str_has_prefix(base, WHITEOUT_PREFIX))
			return rfs_fail(r, -EINVAL, "invalid whiteout name");
		return rfs_fail(r, -EINVAL, "unsupported tar member type 0%o",
				(unsigned)archive_entry_filetype(e));
	case RF_OPAQUE:
		path_split(path, &dir, &base);
		err = rfs_tree_resolve_dir(r, dir, false, &m, &n);
		if (err == -ENOENT || err == -ENOTDIR)
			return 0;	/* nothing below to hide */
		if (err)
			return resolve_fail(r, err, dir);
		return rfs_tree_prune(r, n, r->layer);
	case RF_WHITEOUT:
		path_split(path, &dir, &base);
		err = rfs_tree_resolve_dir(r, dir, false, &m, &parent);
		if (err == -ENOENT || err == -ENOTDIR)
			return 0;
		if (err)
			return resolve_fail(r, err, dir);
		existing = rfs_tree_lookup(r, parent, wname, strlen(wname));
		if (!existing)
			return 0;
		if (existing->stamp < r->layer)
			return rfs_tree_remove(r, existing);
		/* this layer also put the name there: only hide what lies below from lower ones */
		return S_ISDIR(existing->mode) ? rfs_tree_prune(r, existing, r->layer) : 0;
	default:
		break;
	}

	if (!path[0]) {
		if (kind != RF_DIR)
			return rfs_fail(r, -EINVAL, "a %s cannot replace the root directory",
					rootfs_kind_name(kind));
		return update_dir(r, r->tree.root, &m, e);
	}
	path_split(path, &dir, &base);
	err = rfs_tree_resolve_dir(r, dir, true, &m, &parent);
	if (err)
		return resolve_fail(r, err, dir);
	existing = rfs_tree_lookup(r, parent, base, strlen(base));

	switch (kind) {
	case RF_DIR:
		if (existing && S_ISDIR(existing->mode)) {
			rfs_tree_stamp(existing, r->layer);
			return update_dir(r, existing, &m, e);
		}
		if (existing && (err = rfs_tree_remove(r, existing)))
			return err;
		err = rfs_tree_mkdir(r, parent, base, strlen(base), &m, &n);
		if (err)
			return rfs_fail(r, err, "cannot create directory: %s", strerror(-err));
		rfs_tree_stamp(n, r->layer);
		return apply_xattrs(r, n->ino, e, false);
	case RF_HARDLINK:
		return link_node(r, e, parent, base, existing, &m);
	default:
		if (existing && (err = rfs_tree_remove(r, existing)))
			return err;
		err = make_node(r, a, e, kind, &m, parent, base, &n);
		if (err)
			return err;
		rfs_tree_stamp(n, r->layer);
		return 0;
	}
}

static bool media_type_ok(const char *t)
{
	static const char *const suffixes[] = { "tar", "tar+gzip", "tar.gzip", "tar+zstd",
						"tar.zstd" };

	if (!t)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++)
		if (str_has_suffix(t, suffixes[i]))
			return true;
	return false;
}

int rfs_layer_apply(struct rfs *r, const struct rootfs_layer *l)
{
	struct archive *a;
	struct archive_entry *e;
	int fd, rc, err = 0;

	r->member = NULL;
	if (!media_type_ok(l->media_type))
		return rfs_fail(r, -ENOTSUP, "unsupported layer media type %s (a tar, plain, "
				"gzip or zstd, is needed)", l->media_type);
	fd = open(l->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rfs_fail(r, -errno, "cannot open: %s", strerror(errno));
	a = archive_read_new();
	if (!a) {
		close(fd);
		return -ENOMEM;
	}
	/* tar only, and only in-process decompressors: no external programs */
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	if (archive_read_open_fd(a, fd, READ_BLOCK) != ARCHIVE_OK) {
		err = rfs_fail(r, -EINVAL, "not a tar layer: %s", archive_error_string(a));
		goto out;
	}
	for (;;) {
		rc = archive_read_next_header(a, &e);
		if (rc == ARCHIVE_EOF)
			break;
		r->member = e ? archive_entry_pathname(e) : NULL;
		if (rc < ARCHIVE_WARN) {
			err = rfs_fail(r, -EINVAL, "bad tar data: %s", archive_error_string(a));
			goto out;
		}
		if (!r->member)
			r->member = archive_entry_pathname_utf8(e);
		if (!r->member) {
			err = rfs_fail(r, -EINVAL, "a member has no usable name");
			goto out;
		}
		if (rc == ARCHIVE_WARN)
			pr_debug("layer %s: %s: %s", l->path, r->member, archive_error_string(a));
		r->stats.members++;
		err = apply_member(r, a, e);
		if (err) {
			rfs_fail(r, err, "%s", strerror(-err));
			goto out;
		}
	}
out:
	r->member = NULL;
	archive_read_free(a);
	close(fd);
	return err;
}
