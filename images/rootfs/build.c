/*
 * rootfs_build: a temp file next to the output, the layers applied in order, directories
 * written, everything flushed and fsynced, then one rename. A killed build leaves only
 * a locked-while-alive temp file that the next build of the same output removes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/rootfs/rootfs-internal.h"
#include "images/rootfs/rootfs.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

/* Deterministic UUID (version 4 layout) from the layer names and the size. */
static void derive_uuid(const struct rootfs_layer *layers, size_t n, uint64_t size,
			uint8_t uuid[16])
{
	uint64_t h[2] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };

	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < n; i++) {
			const char *b = strrchr(layers[i].path, '/');

			for (b = b ? b + 1 : layers[i].path; *b; b++) {
				h[k] ^= (unsigned char)*b;
				h[k] *= 0x100000001b3ULL;
			}
			h[k] ^= '/' + k;
			h[k] *= 0x100000001b3ULL;
		}
		h[k] ^= size;
		h[k] *= 0x100000001b3ULL;
	}
	memcpy(uuid, h, 16);
	uuid[6] = (uuid[6] & 0x0f) | 0x40;
	uuid[8] = (uuid[8] & 0x3f) | 0x80;
}

/*
 * Remove temp files of dead builds of the same output: a live build holds the lock.
 * (One that has created its file but not locked it yet notices and starts over.)
 */
static void remove_stale(int dirfd, const char *prefix)
{
	size_t plen = strlen(prefix);
	int dfd = dup(dirfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		int fd;

		if (strncmp(de->d_name, prefix, plen))
			continue;
		fd = openat(dirfd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (!fstat(fd, &st) && S_ISREG(st.st_mode) && !flock(fd, LOCK_EX | LOCK_NB)) {
			pr_debug("removing stale %s", de->d_name);
			unlinkat(dirfd, de->d_name, 0);
		}
		close(fd);
	}
	closedir(d);
}

/* mkostemp + lock, checking that no cleaner removed the name before the lock was taken */
static int create_locked(int dirfd, char *tmpl)
{
	size_t len = strlen(tmpl);

	for (int tries = 0; tries < 8; tries++) {
		struct stat a, b;
		const char *name = strrchr(tmpl, '/') + 1;
		int fd;

		memcpy(tmpl + len - 6, "XXXXXX", 6);
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (!flock(fd, LOCK_EX) && !fstat(fd, &a) && !fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	return -EAGAIN;
}

static void rfs_release(struct rfs *r)
{
	rfs_fs_abort(r);
	rfs_tree_free(r);
	free(r->wbuf);
	free(r->tail);
	free(r->ext.v);
}

static int build(struct rfs *r, const struct rootfs_layer *layers, size_t n,
		 const char *tmp, const struct rootfs_opts *o)
{
	struct rfs_meta lf = { .mode = S_IFDIR | 0700 };
	struct rfs_node *node;
	uint8_t uuid[16] = { 0 };
	int err;

	if (memcmp(o->uuid, uuid, 16))
		memcpy(uuid, o->uuid, 16);
	else
		derive_uuid(layers, n, o->size, uuid);
	err = rfs_fs_create(r, tmp, o, uuid);
	if (err)
		return err;
	err = rfs_tree_init(r);
	if (err)
		return rfs_fail(r, err, "out of memory");
	/* the root directory inode, then lost+found as mke2fs makes it (a layer may replace it) */
	{
		struct rfs_meta root = { .mode = S_IFDIR | 0755 };
		struct ext2_inode_large in;

		rfs_inode_fill(r, &in, &root);
		in.i_flags |= EXT4_EXTENTS_FL;
		in.i_links_count = 2;
		err = rfs_inode_write(r, EXT2_ROOT_INO, &in);
	}
	r->layer = -1;
	if (!err)
		err = rfs_tree_mkdir(r, r->tree.root, "lost+found", 10, &lf, &node);
	if (err)
		return rfs_fail(r, err, "cannot create the root directory: %s", strerror(-err));
	for (size_t i = 0; i < n; i++) {
		r->layer = (int)i;
		r->layer_name = layers[i].path;
		err = rfs_layer_apply(r, &layers[i]);
		if (err)
			return err;
	}
	r->layer_name = NULL;
	err = rfs_dirs_write(r);
	if (err)
		return err;
	return rfs_fs_close(r);
}

int rootfs_build(const struct rootfs_layer *layers, size_t n, const char *out_path,
		 const struct rootfs_opts *opts, struct rootfs_stats *stats, struct error *e)
{
	struct rootfs_opts o = { 0 };
	char *dcopy = NULL, *bcopy = NULL, *tmp = NULL, *prefix = NULL;
	const char *dir, *base;
	struct rfs r;
	int dirfd = -1, fd = -1, err;

	memset(&r, 0, sizeof(r));
	r.e = e;
	if (opts)
		o = *opts;
	if (!o.size)
		o.size = ROOTFS_DEFAULT_SIZE;
	o.size = ALIGN_DOWN(o.size, 4096ULL);
	if (o.size < ROOTFS_MIN_SIZE || o.size > ROOTFS_MAX_SIZE)
		return err_set(e, -EINVAL, "%s: size %llu is out of range (16 MiB to 16 TiB)", out_path,
			       (unsigned long long)o.size);
	dcopy = strdup(out_path);
	bcopy = strdup(out_path);
	if (!dcopy || !bcopy) {
		err = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	dir = dirname(dcopy);
	base = basename(bcopy);
	if (asprintf(&prefix, ".%s.tmp.", base) < 0 ||
	    asprintf(&tmp, "%s/%sXXXXXX", dir, prefix) < 0) {
		prefix = tmp = NULL;
		err = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		err = err_set(e, -errno, "%s: cannot open directory %s: %s", out_path, dir, strerror(errno));
		goto out;
	}
	remove_stale(dirfd, prefix);
	fd = create_locked(dirfd, tmp);
	if (fd < 0) {
		err = err_set(e, fd, "%s: cannot create a temp file in %s: %s", out_path, dir, strerror(-fd));
		goto out;
	}
	if (fchmod(fd, 0600) || ftruncate(fd, (off_t)o.size)) {
		err = err_set(e, -errno, "%s: cannot size the image to %llu bytes: %s", out_path,
			      (unsigned long long)o.size, strerror(errno));
		goto out_unlink;
	}
	err = build(&r, layers, n, tmp, &o);
	if (err) {
		if (!r.failed)
			err_set(e, err, "%s: build failed: %s", out_path, strerror(-err));
		goto out_unlink;
	}
	if (rename(tmp, out_path)) {
		err = err_set(e, -errno, "%s: cannot rename the built image into place: %s", out_path,
			      strerror(errno));
		goto out_unlink;
	}
	fsync(dirfd);
	if (stats)
		*stats = r.stats;
	goto out;
out_unlink:
	unlink(tmp);
out:
	rfs_release(&r);
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	free(dcopy);
	free(bcopy);
	free(prefix);
	free(tmp);
	return err;
}
