/*
 * rootfs_diff: both trees walked together by name, depth first, names sorted bytewise in
 * each directory (docker's order). Per name:
 *
 *   only in the child    A; the entry and everything below it go to the tar
 *   only in the parent   D; ".wh.NAME"
 *   in both              unchanged when it is the same inode (number and generation) with
 *                        the same mtime, size, mode, owners and ctime (see same_meta):
 *                        nothing is written. A directory that is the same inode is
 *                        walked; one that is another inode now (removed and made again)
 *                        is written with an opaque marker and all of its contents.
 *                        Anything else changed is C and written whole; a new type
 *                        replaces the old when the tar is applied.
 *
 * A directory with any change below it is listed as C and its header written before the
 * first entry below it (lazily, through the stack of frames). The tar's hard links only
 * point at names written earlier in the same tar.
 *
 * An unchanged inode with several names can still have to go in the tar: its directory
 * was renamed or made again, so that one name is written whole. Its other names must then
 * be written too, or applying the tar would leave them on the old inode. A first walk that
 * writes nothing finds those inodes; the second writes every name of them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "images/rootfs/image-internal.h"
#include "vmm/base/path.h"
#include "vmm/base/util.h"

struct frame {
	size_t plen;		/* d->path up to this directory */
	bool listed;		/* its C (or A) line is out */
	bool tarred;		/* its header is in the tar */
	struct rfs_stat st;	/* the child's inode */
};

struct diff {
	struct rootfs_image *parent, *child;
	struct rfs_tar *tar;
	bool writing;			/* a tar is made (else the list only) */
	bool collecting;		/* the first walk: nothing written, shared inodes noted */
	rootfs_change_fn fn;
	void *arg;
	struct rootfs_diff_stats *stats;
	struct error *e;
	bool layer;			/* against a parent: whiteouts are meaningful */
	bool no_mount_stubs;		/* ROOTFS_DIFF_NO_MOUNT_STUBS */
	uint64_t held;			/* bytes of names held by open directories */
	struct rfs_inomap seen_child, seen_parent, links;
	struct rfs_inomap shared;	/* inodes with several names that go in the tar */
	char path[ROOTFS_PATH_MAX + 1];	/* "/a/b"; "" is the root */
	size_t plen;
	int depth;
	struct frame *frames[RFS_MAX_DEPTH + 1];	/* each on its descend()'s stack */
};

/* ---- the path and the frames --------------------------------------------------------- */

static const char *where(const struct diff *d)
{
	return d->path;
}

static int push_name(struct diff *d, const struct rfs_name *n)
{
	if (d->plen + 1 + n->len >= sizeof(d->path) - 1)
		return rfs_img_fail(d->child, d->e, -ENAMETOOLONG, where(d), "a name below is "
				    "beyond the %d-byte path limit of a layer", ROOTFS_PATH_MAX - 1);
	d->path[d->plen++] = '/';
	memcpy(d->path + d->plen, n->name, n->len);
	d->plen += n->len;
	d->path[d->plen] = '\0';
	return 0;
}

static void pop_name(struct diff *d, size_t plen)
{
	d->plen = plen;
	d->path[plen] = '\0';
}

/* Print a change of the current path, after C for every directory above not yet listed. */
static int list(struct diff *d, enum rootfs_change kind)
{
	int ret;

	if (!d->fn || d->collecting)
		return 0;
	for (int i = 1; i <= d->depth; i++) {
		struct frame *f = d->frames[i];
		char c;

		if (f->listed)
			continue;
		f->listed = true;
		c = d->path[f->plen];
		d->path[f->plen] = '\0';
		ret = d->fn(d->arg, ROOTFS_CHANGE_MODIFIED, d->path);
		d->path[f->plen] = c;
		if (ret)
			return err_set(d->e, ret, "listing the changes failed");
		d->stats->changes++;
	}
	ret = d->fn(d->arg, kind, d->path);
	if (ret)
		return err_set(d->e, ret, "listing the changes failed");
	d->stats->changes++;
	return 0;
}

/* The tar name of path[0, plen): relative, directories with a trailing slash. */
static void tar_name(const struct diff *d, size_t plen, bool dir, char *out)
{
	memcpy(out, d->path + 1, plen - 1);
	out[plen - 1] = '\0';
	if (dir)
		strcat(out, "/");
}

/* Write the headers of the directories above that are not in the tar yet. */
static int tar_parents(struct diff *d)
{
	char name[ROOTFS_PATH_MAX + 2];

	for (int i = 1; i <= d->depth && !d->collecting; i++) {
		struct frame *f = d->frames[i];
		int ret;

		if (f->tarred)
			continue;
		f->tarred = true;
		tar_name(d, f->plen, true, name);
		ret = rfs_tar_entry(d->tar, d->child, name, &f->st, NULL, d->stats, d->e);
		if (ret)
			return ret;
	}
	return 0;
}

/* The current path's entry in full (or as a hard link to an earlier name of its inode). */
static int tar_entry(struct diff *d, const struct rfs_stat *st)
{
	char name[ROOTFS_PATH_MAX + 2];
	const char *first = NULL;
	int ret;

	if (!d->writing || S_ISSOCK(st->mode))	/* a socket cannot be restored from a tar */
		return 0;
	if (d->collecting) {
		if (!S_ISDIR(st->mode) && st->nlink > 1 &&
		    (ret = rfs_inomap_add(&d->shared, st->ino, NULL, false)) && ret != -EEXIST)
			return err_set(d->e, ret, "out of memory");
		return 0;
	}
	ret = tar_parents(d);
	if (ret)
		return ret;
	tar_name(d, d->plen, S_ISDIR(st->mode), name);
	if (!S_ISDIR(st->mode) && st->nlink > 1) {
		bool found;

		first = rfs_inomap_get(&d->links, st->ino, &found);
		if (!found) {
			d->held += d->plen;
			if (d->held > RFS_MAX_NAME_BYTES)
				return rfs_img_fail(d->child, d->e, -EFBIG, where(d), "too many hard "
						    "links to remember");
			if (rfs_inomap_add(&d->links, st->ino, name, true))
				return err_set(d->e, -ENOMEM, "out of memory");
		}
	}
	return rfs_tar_entry(d->tar, d->child, name, st, first, d->stats, d->e);
}

static int tar_whiteout(struct diff *d, size_t dir_plen, const struct rfs_name *n)
{
	char dir[ROOTFS_PATH_MAX + 2];
	int ret;

	if (!d->writing || d->collecting)
		return 0;
	ret = tar_parents(d);
	if (ret)
		return ret;
	if (dir_plen)
		tar_name(d, dir_plen, false, dir);
	else
		dir[0] = '\0';
	return n ? rfs_tar_whiteout(d->tar, dir, n->name, n->len, d->stats, d->e)
		 : rfs_tar_whiteout(d->tar, dir, NULL, 0, d->stats, d->e);
}

/* ---- comparing --------------------------------------------------------------------- */

static bool same_inode(const struct rfs_stat *a, const struct rfs_stat *b)
{
	return a->ino == b->ino && a->generation == b->generation;
}

/*
 * The same metadata in child (a) as in parent (b). The ctime catches what leaves the rest
 * alone (an xattr set, content written back under its old mtime), except when the link
 * count went down: then the new ctime is another name removed (rm of one of busybox's
 * applet links), which is no change to this name, as docker's diff sees it. A name added
 * elsewhere does count: the layer must write this name too, for the new one to link to.
 */
static bool same_meta(const struct rfs_stat *a, const struct rfs_stat *b)
{
	if (!(a->mode == b->mode && a->uid == b->uid && a->gid == b->gid &&
	      a->mtime == b->mtime && a->mtime_ns == b->mtime_ns &&
	      (S_ISDIR(a->mode) || a->size == b->size) && a->rdev_major == b->rdev_major &&
	      a->rdev_minor == b->rdev_minor))
		return false;
	if (a->nlink != b->nlink)
		return a->nlink < b->nlink;
	return a->ctime == b->ctime && a->ctime_ns == b->ctime_ns;
}

/* A directory changed as docker diff sees one: its mode or owners (not its times). */
static bool dir_listed_change(const struct rfs_stat *a, const struct rfs_stat *b)
{
	return a->mode != b->mode || a->uid != b->uid || a->gid != b->gid;
}

/* The empty file the agent made for a bind-mounted /etc file an image lacks. */
static bool mount_stub(const struct diff *d, const struct rfs_stat *st)
{
	static const char *const stubs[] = { "/etc/hostname", "/etc/hosts", "/etc/resolv.conf" };

	if (!d->no_mount_stubs || !S_ISREG(st->mode) || st->size)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(stubs); i++)
		if (!strcmp(d->path, stubs[i]))
			return true;
	return false;
}

static int walk(struct diff *d, const struct rfs_stat *cdir, const struct rfs_stat *pdir,
		bool full);

/* An unchanged name of an inode that another name brings into the tar. */
static bool must_write(const struct diff *d, const struct rfs_stat *st)
{
	bool found = false;

	if (!d->collecting && d->shared.n && !S_ISDIR(st->mode) && st->nlink > 1)
		rfs_inomap_get(&d->shared, st->ino, &found);
	return found;
}

/* Enter directory st (the current path) as a new frame, and walk it. */
static int descend(struct diff *d, const struct rfs_stat *st, const struct rfs_stat *pst,
		   bool listed, bool tarred, bool full)
{
	struct frame f = { .plen = d->plen, .listed = listed, .tarred = tarred, .st = *st };
	int ret;

	if (d->depth + 1 > RFS_MAX_DEPTH)
		return rfs_img_fail(d->child, d->e, -EFBIG, where(d), "more than %d directory "
				    "levels", RFS_MAX_DEPTH);
	ret = rfs_inomap_add(&d->seen_child, st->ino, NULL, false);
	if (ret == -EEXIST)
		return rfs_img_fail(d->child, d->e, -EUCLEAN, where(d), "directory inode %u reached "
				    "twice (a directory hard link or a cycle)", st->ino);
	if (!ret && pst) {
		ret = rfs_inomap_add(&d->seen_parent, pst->ino, NULL, false);
		if (ret == -EEXIST)
			return rfs_img_fail(d->parent, d->e, -EUCLEAN, where(d), "directory inode %u "
					    "reached twice (a directory hard link or a cycle)",
					    pst->ino);
	}
	if (ret)
		return err_set(d->e, ret, "out of memory");
	d->frames[++d->depth] = &f;
	ret = walk(d, &f.st, pst, full);
	d->frames[d->depth--] = NULL;
	return ret;
}

/* A name in the child, and in the parent too unless pn is NULL. */
static int visit(struct diff *d, const struct rfs_name *cn, const struct rfs_name *pn, bool full)
{
	struct rfs_stat cst, pst;
	bool cdir, pdir, same;
	int ret;

	ret = rfs_stat(d->child, cn->ino, where(d), &cst, d->e);
	if (!ret && pn)
		ret = rfs_stat(d->parent, pn->ino, where(d), &pst, d->e);
	if (ret)
		return ret;
	if (d->layer && d->writing && str_has_prefix(d->path + d->plen - cn->len, WHITEOUT_PREFIX))
		return rfs_img_fail(d->child, d->e, -EINVAL, where(d), "a name starting with "
				    "'" WHITEOUT_PREFIX "' cannot be stored in a layer");
	cdir = S_ISDIR(cst.mode);
	if (!pn) {		/* added */
		if (mount_stub(d, &cst))
			return 0;
		ret = list(d, ROOTFS_CHANGE_ADDED);
		if (!ret)
			ret = tar_entry(d, &cst);
		if (!ret && cdir)
			ret = descend(d, &cst, NULL, true, true, true);
		return ret;
	}
	pdir = S_ISDIR(pst.mode);
	same = same_inode(&cst, &pst);
	if (cdir && pdir) {
		/* new times go in the tar; the list shows what docker's would (a directory
		 * with a change below it is listed on the way to that change) */
		bool changed = !same || !same_meta(&cst, &pst);
		bool listed = !same || dir_listed_change(&cst, &pst);

		if (listed)
			ret = list(d, ROOTFS_CHANGE_MODIFIED);
		if (!ret && (changed || full))
			ret = tar_entry(d, &cst);
		if (!ret && !same && d->writing) {	/* made again: nothing below the parent's stays */
			ret = tar_whiteout(d, d->plen, NULL);
			full = true;
		}
		if (!ret)
			ret = descend(d, &cst, &pst, listed, changed || full, full);
		return ret;
	}
	if (!same || !same_meta(&cst, &pst)) {
		ret = list(d, ROOTFS_CHANGE_MODIFIED);
		full = true;
	}
	if (!ret && (full || must_write(d, &cst)))
		ret = tar_entry(d, &cst);
	if (!ret && cdir)	/* a directory where there was something else */
		ret = descend(d, &cst, NULL, true, true, true);
	return ret;
}

static int deleted(struct diff *d, const struct rfs_name *pn, size_t dir_plen, bool full)
{
	int ret = list(d, ROOTFS_CHANGE_DELETED);

	if (!ret && !full)
		ret = tar_whiteout(d, dir_plen, pn);
	return ret;
}

static int cmp_names(const struct rfs_name *a, const struct rfs_name *b)
{
	int c = memcmp(a->name, b->name, MIN(a->len, b->len));

	return c ? c : (int)a->len - (int)b->len;
}

/* lost+found at the root belongs to the filesystem, not to the image. */
static void drop_lost_found(struct rfs_dir *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].len == 10 && !memcmp(l->v[i].name, "lost+found", 10)) {
			memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
			l->n--;
			return;
		}
	}
}

/* A deletion whose ".wh.NAME" would be over the name limit: the directory goes opaque. */
static bool needs_opaque(const struct rfs_dir *cl, const struct rfs_dir *pl)
{
	size_t i = 0;

	for (size_t j = 0; j < pl->n; j++) {
		if (pl->v[j].len + strlen(WHITEOUT_PREFIX) <= PATH_NAME_MAX)
			continue;
		while (i < cl->n && cmp_names(&cl->v[i], &pl->v[j]) < 0)
			i++;
		if (i == cl->n || cmp_names(&cl->v[i], &pl->v[j]))
			return true;
	}
	return false;
}

static int walk(struct diff *d, const struct rfs_stat *cdir, const struct rfs_stat *pdir,
		bool full)
{
	struct rfs_dir cl = { 0 }, pl = { 0 };
	size_t i = 0, j = 0, plen = d->plen;
	int ret;

	ret = rfs_dir_read(d->child, cdir, where(d), &d->held, &cl, d->e);
	if (!ret && pdir)
		ret = rfs_dir_read(d->parent, pdir, where(d), &d->held, &pl, d->e);
	if (ret)
		goto out;
	if (d->depth == 0) {
		drop_lost_found(&cl);
		drop_lost_found(&pl);
	}
	if (!full && d->writing && d->depth > 0 && needs_opaque(&cl, &pl)) {
		ret = tar_parents(d);
		if (!ret)
			ret = tar_whiteout(d, plen, NULL);
		full = true;
	}
	while (!ret && (i < cl.n || j < pl.n)) {
		int c = i == cl.n ? 1 : j == pl.n ? -1 : cmp_names(&cl.v[i], &pl.v[j]);

		ret = push_name(d, c > 0 ? &pl.v[j] : &cl.v[i]);
		if (ret)
			break;
		if (c > 0)
			ret = deleted(d, &pl.v[j++], plen, full);
		else if (c < 0)
			ret = visit(d, &cl.v[i++], NULL, full);
		else
			ret = visit(d, &cl.v[i++], &pl.v[j++], full);
		pop_name(d, plen);
	}
out:
	rfs_dir_free(&cl, &d->held);
	if (pdir)
		rfs_dir_free(&pl, &d->held);
	return ret;
}

static void reset_bounds(struct rootfs_image *img)
{
	img->names_seen = 0;
	img->names_max = img->fs_bytes / 12 + 1024;	/* a name takes 12 bytes at least */
	img->data_read = 0;
}

static int diff_run(struct diff *d)
{
	struct rfs_stat croot, proot;
	struct frame root;
	int ret;

	rfs_inomap_free(&d->seen_child);
	rfs_inomap_free(&d->seen_parent);
	d->depth = 0;
	d->plen = 0;
	d->path[0] = '\0';
	reset_bounds(d->child);
	if (d->parent)
		reset_bounds(d->parent);

	ret = rfs_stat(d->child, EXT2_ROOT_INO, "", &croot, d->e);
	if (!ret && d->parent)
		ret = rfs_stat(d->parent, EXT2_ROOT_INO, "", &proot, d->e);
	if (ret)
		return ret;
	if (!S_ISDIR(croot.mode) || (d->parent && !S_ISDIR(proot.mode)))
		return rfs_img_fail(S_ISDIR(croot.mode) ? d->parent : d->child, d->e, -EUCLEAN, "",
				    "the root is not a directory");
	root = (struct frame){ .plen = 0, .listed = true, .tarred = true, .st = croot };
	d->frames[0] = &root;
	if (rfs_inomap_add(&d->seen_child, EXT2_ROOT_INO, NULL, false) ||
	    rfs_inomap_add(&d->seen_parent, EXT2_ROOT_INO, NULL, false))
		return err_set(d->e, -ENOMEM, "out of memory");
	/* the root's own entry only when its mode or owners changed (docker writes none) */
	if (d->writing && !d->collecting && d->parent && (croot.mode != proot.mode || croot.uid != proot.uid ||
				    croot.gid != proot.gid)) {
		ret = rfs_tar_entry(d->tar, d->child, "./", &croot, NULL, d->stats, d->e);
		if (ret)
			return ret;
	}
	ret = walk(d, &croot, d->parent ? &proot : NULL, !d->parent);
	d->frames[0] = NULL;
	return ret;
}

int rootfs_diff(struct rootfs_image *parent, struct rootfs_image *child, int out_fd,
		rootfs_change_fn on_change, void *arg, struct rootfs_diff_stats *stats,
		struct error *e)
{
	return rootfs_diff_flags(parent, child, out_fd, on_change, arg, stats, 0, e);
}

int rootfs_diff_flags(struct rootfs_image *parent, struct rootfs_image *child, int out_fd,
		      rootfs_change_fn on_change, void *arg, struct rootfs_diff_stats *stats,
		      unsigned flags, struct error *e)
{
	struct rootfs_diff_stats st = { 0 };
	struct diff *d = calloc(1, sizeof(*d));
	int ret = 0;

	if (!d)
		return err_set(e, -ENOMEM, "out of memory");
	d->parent = parent;
	d->child = child;
	d->fn = on_change;
	d->arg = arg;
	d->stats = &st;
	d->e = e;
	d->layer = parent != NULL;
	d->no_mount_stubs = flags & ROOTFS_DIFF_NO_MOUNT_STUBS;
	d->writing = out_fd >= 0;
	if (d->writing && parent) {	/* the whole tree has every name anyway */
		d->collecting = true;
		ret = diff_run(d);
		d->collecting = false;
	}
	if (!ret && d->writing)
		ret = rfs_tar_open(out_fd, &d->tar, e);
	if (!ret)
		ret = diff_run(d);
	if (d->tar) {
		if (!ret)
			ret = rfs_tar_finish(d->tar, e);
		else
			rfs_tar_free(d->tar);
	}
	rfs_inomap_free(&d->seen_child);
	rfs_inomap_free(&d->seen_parent);
	rfs_inomap_free(&d->links);
	rfs_inomap_free(&d->shared);
	free(d);
	if (stats)
		*stats = st;
	return ret;
}
