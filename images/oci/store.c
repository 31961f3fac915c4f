/* The store: layout creation, locks, index.json read-modify-write, tags. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/oci/image.h"
#include "images/oci/index.h"
#include "images/oci/ref.h"
#include "images/oci/store.h"
#include "images/oci/store-internal.h"
#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"

#define LAYOUT_FILE	"{\"imageLayoutVersion\":\"1.0.0\"}"
#define EMPTY_INDEX	"{\"schemaVersion\":2,\"manifests\":[]}"

const char *store_root(const struct store *s)
{
	return s->root;
}

static int open_lock(struct store *s, const char *name, struct error *e)
{
	int fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	return fd < 0 ? err_sys(e, -errno, "%s/%s", s->dir, name) : fd;
}

/* Create what is missing of the layout; existing files are left alone. */
static int layout_init(struct store *s, struct error *e)
{
	int ret;

	if ((ret = mkdir_p(s->dirfd, "blobs/sha256", 0700)))
		return err_sys(e, ret, "%s/blobs/sha256", s->dir);
	if (faccessat(s->dirfd, "oci-layout", F_OK, 0) < 0 &&
	    (ret = write_file_atomic(s->dirfd, "oci-layout", LAYOUT_FILE, strlen(LAYOUT_FILE), 0600)))
		return err_sys(e, ret, "%s/oci-layout", s->dir);
	if (faccessat(s->dirfd, "index.json", F_OK, 0) < 0) {
		/* under the index lock, so two first runs do not race */
		flock(s->index_lock_fd, LOCK_EX);
		if (faccessat(s->dirfd, "index.json", F_OK, 0) < 0)
			ret = write_file_atomic(s->dirfd, "index.json", EMPTY_INDEX,
						strlen(EMPTY_INDEX), 0600);
		flock(s->index_lock_fd, LOCK_UN);
		if (ret)
			return err_sys(e, ret, "%s/index.json", s->dir);
	}
	return 0;
}

int store_open(const char *root, struct store **out, struct error *e)
{
	struct store *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return err_set(e, -ENOMEM, "out of memory");
	s->dirfd = s->blobfd = s->gc_lock_fd = s->index_lock_fd = -1;
	if (!(s->root = strdup(root)) || asprintf(&s->dir, "%s/oci", root) < 0) {
		s->dir = NULL;
		ret = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	/* Private: images may hold secrets; nobody but us reads the store. */
	if ((ret = mkdir_p(AT_FDCWD, s->dir, 0700))) {
		err_sys(e, ret, "%s: cannot create the image store", s->dir);
		goto fail;
	}
	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		ret = err_sys(e, -errno, "%s", s->dir);
		goto fail;
	}
	/* A store made by an older vmm was world-readable: close it (ours only). */
	{
		struct stat st;

		if (fstat(s->dirfd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 077))
			fchmod(s->dirfd, 0700);
	}
	if ((s->index_lock_fd = open_lock(s, ".index.lock", e)) < 0 ||
	    (s->gc_lock_fd = open_lock(s, ".gc.lock", e)) < 0) {
		ret = -EACCES;
		goto fail;
	}
	/* held while the store is open: blob collection waits for us */
	while (flock(s->gc_lock_fd, LOCK_SH) < 0) {
		if (errno != EINTR) {
			ret = err_sys(e, -errno, "%s/.gc.lock", s->dir);
			goto fail;
		}
	}
	if ((ret = layout_init(s, e)))
		goto fail;
	s->blobfd = openat(s->dirfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->blobfd < 0) {
		ret = err_sys(e, -errno, "%s/blobs/sha256", s->dir);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	store_close(s);
	return ret;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->blobfd >= 0)
		close(s->blobfd);
	if (s->gc_lock_fd >= 0)
		close(s->gc_lock_fd);
	if (s->index_lock_fd >= 0)
		close(s->index_lock_fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->root);
	free(s->dir);
	free(s);
}

/* Read and validate index.json; the caller holds the index lock. */
static int index_load(struct store *s, struct oci_index *idx, struct error *e)
{
	size_t len;
	char *buf;
	int ret;

	ret = read_file(s->dirfd, "index.json", MANIFEST_MAX_SIZE, &buf, &len);
	if (ret == -ENOENT) {
		memset(idx, 0, sizeof(*idx));
		return 0;
	}
	if (ret)
		return err_sys(e, ret, "%s/index.json", s->dir);
	ret = index_parse(buf, len, idx, e);
	free(buf);
	if (ret && e) {
		char why[ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", e->msg);
		err_set(e, ret, "%s/index.json: %.300s (the store's index is damaged; fix or remove it)",
			s->dir, why);
	}
	return ret;
}

static int lock_index(struct store *s, int how, struct error *e)
{
	while (flock(s->index_lock_fd, how) < 0)
		if (errno != EINTR)
			return err_sys(e, -errno, "%s/.index.lock", s->dir);
	return 0;
}

int store_index_read(struct store *s, struct oci_index *idx, struct error *e)
{
	int ret = lock_index(s, LOCK_SH, e);

	if (ret)
		return ret;
	ret = index_load(s, idx, e);
	flock(s->index_lock_fd, LOCK_UN);
	return ret;
}

int store_index_find(struct store *s, const char *digest, struct descriptor *out, struct error *e)
{
	struct oci_index idx;
	int ret = store_index_read(s, &idx, e);

	if (ret)
		return ret;
	ret = -ENOENT;
	for (size_t i = 0; i < idx.n_manifests && ret == -ENOENT; i++)
		if (!strcmp(idx.manifests[i].digest, digest))
			ret = descriptor_copy(out, &idx.manifests[i]);
	index_free(&idx);
	if (!ret) {
		free(out->ref_name);
		out->ref_name = NULL;
	} else if (ret == -ENOENT) {
		err_set(e, ret, "%s: not in the store's index", digest);
	}
	return ret;
}

int store_index_update(struct store *s, int (*fn)(struct oci_index *idx, void *arg), void *arg,
		       struct error *e)
{
	struct oci_index idx;
	char *json;
	int ret, changed;

	if ((ret = lock_index(s, LOCK_EX, e)))
		return ret;
	if ((ret = index_load(s, &idx, e)))
		goto out;
	changed = fn(&idx, arg);
	if (changed <= 0) {
		ret = changed;	/* fn's own -errno: the caller knows what it means */
		goto out_free;
	}
	json = index_to_json(&idx);
	if (!json) {
		ret = err_set(e, -ENOMEM, "out of memory");
		goto out_free;
	}
	ret = write_file_atomic(s->dirfd, "index.json", json, strlen(json), 0600);
	if (ret)
		err_sys(e, ret, "%s/index.json: cannot write", s->dir);
	free(json);
out_free:
	index_free(&idx);
out:
	flock(s->index_lock_fd, LOCK_UN);
	return ret;
}

struct tag_op {
	const char *ref;
	const struct descriptor *desc;
	char *old;
	bool gone;
};

static int do_tag_add(struct oci_index *idx, void *arg)
{
	struct tag_op *op = arg;

	return index_set_ref(idx, op->desc, op->ref, op->old);
}

int store_tag_add(struct store *s, const char *ref, const struct descriptor *desc,
		  char old_digest[DIGEST_BUF], struct error *e)
{
	char full[REF_STR_MAX];
	struct image_ref r;
	struct tag_op op = { .desc = desc, .old = old_digest };
	const char *why;
	int ret;

	if (old_digest)
		old_digest[0] = '\0';
	if (ref) {
		if (ref_parse(ref, REF_DEFAULT_TAG, &r, &why))
			return err_set(e, -EINVAL, "%s: invalid reference: %s", ref, why);
		ref_format(&r, full, sizeof(full));
		op.ref = full;
	}
	ret = image_check(s, desc, e);
	if (ret)
		return ret;
	ret = store_index_update(s, do_tag_add, &op, e);
	return ret < 0 ? ret : 0;
}

static int do_tag_remove(struct oci_index *idx, void *arg)
{
	struct tag_op *op = arg;

	return index_remove_ref(idx, op->ref, &op->gone);
}

int store_tag_remove(struct store *s, const char *ref, bool *image_gone, struct error *e)
{
	struct tag_op op = { .ref = ref };
	int ret = store_index_update(s, do_tag_remove, &op, e);

	if (image_gone)
		*image_gone = op.gone;
	return ret < 0 ? ret : 0;
}

static int do_image_remove(struct oci_index *idx, void *arg)
{
	return index_remove_digest(idx, arg);
}

int store_image_remove(struct store *s, const char *manifest_digest, struct error *e)
{
	int ret = store_index_update(s, do_image_remove, (void *)manifest_digest, e);

	return ret < 0 ? ret : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_tags_of(struct store *s, const char *manifest_digest, char ***tags, struct error *e)
{
	struct oci_index idx;
	size_t n = 0;
	char **v;
	int ret;

	if ((ret = store_index_read(s, &idx, e)))
		return ret;
	v = calloc(idx.n_manifests + 1, sizeof(*v));
	if (!v) {
		index_free(&idx);
		return err_set(e, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < idx.n_manifests; i++) {
		const struct descriptor *d = &idx.manifests[i];

		if (!d->ref_name || strcmp(d->digest, manifest_digest))
			continue;
		if (!(v[n++] = strdup(d->ref_name))) {
			strv_free(v);
			index_free(&idx);
			return err_set(e, -ENOMEM, "out of memory");
		}
	}
	index_free(&idx);
	qsort(v, n, sizeof(*v), cmp_str);
	*tags = v;
	return 0;
}

int store_images_in_use(struct store *s, char ***config_digests, char ***container_ids)
{
	char **digests = calloc(1, sizeof(char *)), **ids = calloc(1, sizeof(char *));
	struct dirent *de;
	char path[4096];
	DIR *dir;
	int ret = 0;

	if (!digests || !ids) {
		ret = -ENOMEM;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/containers", s->root);
	dir = opendir(path);
	if (!dir)
		goto out;	/* no containers */
	while ((de = readdir(dir))) {
		char file[4608], digest[DIGEST_BUF], *buf;
		json_object *o, *img;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s/config.json", path, de->d_name);
		if (read_file(AT_FDCWD, file, 16 << 20, &buf, &len))
			continue;
		o = json_parse_object(buf, len, NULL);
		free(buf);
		if (!o)
			continue;
		if (json_object_object_get_ex(o, "Image", &img) &&
		    json_object_is_type(img, json_type_string)) {
			const char *v = json_object_get_string(img);

			snprintf(digest, sizeof(digest), "%s%s",
				 str_has_prefix(v, DIGEST_PREFIX) ? "" : DIGEST_PREFIX, v);
			if (digest_valid(digest) &&
			    ((ret = strv_push(&digests, digest)) || (ret = strv_push(&ids, de->d_name)))) {
				json_object_put(o);
				break;
			}
		}
		json_object_put(o);
	}
	closedir(dir);
out:
	if (ret) {
		strv_free(digests);
		strv_free(ids);
		return ret;
	}
	*config_digests = digests;
	*container_ids = ids;
	return 0;
}
