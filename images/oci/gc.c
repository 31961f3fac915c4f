/*
 * Garbage: blobs no manifest in the index references, stale temp files, and
 * cached disks of images that are gone. Runs with the store's gc lock held
 * exclusively, so no other vmm process is writing blobs meanwhile.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/oci/store.h"
#include "images/oci/store-internal.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"

struct digest_set {
	char (*v)[DIGEST_BUF];
	size_t n, cap;
};

static int set_add(struct digest_set *set, const char *digest)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		void *nv = realloc(set->v, cap * sizeof(*set->v));

		if (!nv)
			return -ENOMEM;
		set->v = nv;
		set->cap = cap;
	}
	memcpy(set->v[set->n++], digest, DIGEST_BUF);
	return 0;
}

static int cmp_digest(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool set_has(const struct digest_set *set, const char *digest)
{
	return set->n && bsearch(digest, set->v, set->n, sizeof(*set->v), cmp_digest) != NULL;
}

/* Add a manifest's blobs; an index's present children too (depth bounded). */
static int mark(struct store *s, const char *digest, int depth, struct digest_set *set, struct error *e)
{
	struct manifest m;
	struct oci_index idx;
	struct error why = { 0 };
	size_t len;
	char *buf;
	int ret;

	if ((ret = set_add(set, digest)))
		return err_set(e, ret, "out of memory");
	ret = store_blob_read(s, digest, MANIFEST_MAX_SIZE, &buf, &len, NULL);
	if (ret == -ENOENT)
		return 0;	/* nothing of it to keep */
	if (ret)
		return err_set(e, ret, "%s: cannot read this manifest, so its blobs cannot be told apart; "
			       "not deleting anything (remove the image first)", digest);
	if (manifest_parse(buf, len, &m, &why) == 0) {
		ret = set_add(set, m.config.digest);
		for (size_t i = 0; i < m.n_layers && !ret; i++)
			ret = set_add(set, m.layers[i].digest);
		manifest_free(&m);
		if (ret)
			err_set(e, ret, "out of memory");
	} else if (depth < 2 && index_parse(buf, len, &idx, NULL) == 0) {
		for (size_t i = 0; i < idx.n_manifests && !ret; i++)
			ret = mark(s, idx.manifests[i].digest, depth + 1, set, e);
		index_free(&idx);
	} else {
		ret = err_set(e, -EINVAL, "%s: invalid manifest (%s); not deleting anything (remove the image first)",
			      digest, why.msg);
	}
	free(buf);
	return ret;
}

static void sweep_blobs(struct store *s, const struct digest_set *keep, struct gc_result *res)
{
	int fd = dup(s->blobfd);
	struct dirent *de;
	DIR *dir;

	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		char digest[DIGEST_BUF];
		struct stat st;

		if (str_has_prefix(de->d_name, BLOB_TMP_PREFIX)) {
			unlinkat(s->blobfd, de->d_name, 0);	/* left by a killed writer */
			continue;
		}
		if (strlen(de->d_name) != DIGEST_HEX_LEN)
			continue;
		snprintf(digest, sizeof(digest), DIGEST_PREFIX "%s", de->d_name);
		if (!digest_valid(digest) || set_has(keep, digest))
			continue;
		if (fstatat(s->blobfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(s->blobfd, de->d_name, 0) < 0) {
			pr_warn("%s/blobs/sha256/%s: cannot remove: %s", s->dir, de->d_name, strerror(errno));
			continue;
		}
		pr_debug("removed blob %s", digest);
		res->blobs++;
		res->bytes += st.st_size;
	}
	closedir(dir);
	fsync(s->blobfd);

	/* index.json.tmp.<pid> from a killed write_file_atomic */
	fd = dup(s->dirfd);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir)))
		if (str_has_prefix(de->d_name, "index.json.tmp."))
			unlinkat(s->dirfd, de->d_name, 0);
	closedir(dir);
}

/* "<64 hex>.img" or "<64 hex>-<size>.img" (image_disk_path) */
static bool disk_name_valid(const char *name)
{
	size_t n = strlen(name), i = DIGEST_HEX_LEN;

	if (n < DIGEST_HEX_LEN + 4 || !str_has_suffix(name, ".img"))
		return false;
	if (name[i] == '-')
		for (i++; i < n - 4 && name[i] >= '0' && name[i] <= '9'; i++)
			;
	return i == n - 4 && name[DIGEST_HEX_LEN + 1] != '.';
}

static void sweep_disks(struct store *s, const struct digest_set *keep, struct gc_result *res)
{
	char **used = NULL, **ids = NULL, path[4096];
	struct dirent *de;
	DIR *dir;
	int dfd;

	snprintf(path, sizeof(path), "%s/disks", s->root);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	if (store_images_in_use(s, &used, &ids)) {
		close(dfd);
		return;
	}
	dir = fdopendir(dfd);
	while (dir && (de = readdir(dir))) {
		char digest[DIGEST_BUF];
		bool in_use = false;
		struct stat st;

		if (!disk_name_valid(de->d_name))
			continue;
		snprintf(digest, sizeof(digest), DIGEST_PREFIX "%.64s", de->d_name);
		if (!digest_valid(digest) || set_has(keep, digest))
			continue;
		for (size_t i = 0; used[i]; i++)
			in_use |= !strcmp(used[i], digest);
		if (in_use || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dfd, de->d_name, 0) < 0) {
			pr_warn("%s/%s: cannot remove: %s", path, de->d_name, strerror(errno));
			continue;
		}
		res->disks++;
		res->bytes += (uint64_t)st.st_blocks * 512;
	}
	if (dir)
		closedir(dir);
	else
		close(dfd);
	strv_free(used);
	strv_free(ids);
}

int store_gc(struct store *s, unsigned flags, struct gc_result *res, struct error *e)
{
	struct digest_set keep = { 0 };
	struct oci_index idx;
	int ret;

	memset(res, 0, sizeof(*res));
	/* from shared to exclusive: every other store user must be gone */
	if (flock(s->gc_lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK || !(flags & GC_WAIT)) {
			ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
			err_sys(e, ret, "%s/.gc.lock", s->dir);
			goto out;
		}
		pr_info("waiting for other vmm processes using %s", s->dir);
		while (flock(s->gc_lock_fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				ret = err_sys(e, -errno, "%s/.gc.lock", s->dir);
				goto out;
			}
		}
	}
	ret = store_index_read(s, &idx, e);
	if (ret)
		goto out;
	for (size_t i = 0; i < idx.n_manifests && !ret; i++)
		ret = mark(s, idx.manifests[i].digest, 0, &keep, e);
	index_free(&idx);
	if (ret)
		goto out;
	if (keep.n)	/* an empty store: no set to sort (qsort of NULL is undefined) */
		qsort(keep.v, keep.n, sizeof(*keep.v), cmp_digest);
	sweep_blobs(s, &keep, res);
	if (flags & GC_DISKS)
		sweep_disks(s, &keep, res);
out:
	free(keep.v);
	while (flock(s->gc_lock_fd, LOCK_SH) < 0 && errno == EINTR)
		;
	return ret;
}
