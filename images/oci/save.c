/* Write images as docker-archive or oci-archive tars, verifying blobs on the way out. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/image.h"
#include "images/oci/layer.h"
#include "images/oci/ref.h"
#include "images/oci/save.h"
#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"

#define CHUNK	(256 * 1024)

struct saved {
	struct image *img;
	char **refs;		/* full references to record */
};

struct writer {
	struct archive *a;
	const char *label;
	struct error *e;	/* why the save failed */
	char **written;		/* member names already in the tar */
	size_t n_written;
};

static bool written(struct writer *w, const char *name)
{
	char **v;

	for (size_t i = 0; i < w->n_written; i++)
		if (!strcmp(w->written[i], name))
			return true;
	v = realloc(w->written, (w->n_written + 1) * sizeof(*v));
	if (v) {
		w->written = v;
		v[w->n_written] = strdup(name);
		if (v[w->n_written])
			w->n_written++;
	}
	return false;
}

static int header(struct writer *w, const char *name, uint64_t size, bool dir)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	if (!e)
		return err_set(w->e, -ENOMEM, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, dir ? 0755 : 0644);
	archive_entry_set_size(e, dir ? 0 : (la_int64_t)size);
	archive_entry_set_mtime(e, 0, 0);
	r = archive_write_header(w->a, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return err_set(w->e, -EIO, "%s: cannot write: %s", w->label, archive_error_string(w->a));
	return 0;
}

static int data(struct writer *w, const void *buf, size_t len)
{
	if (len && archive_write_data(w->a, buf, len) != (la_ssize_t)len)
		return err_set(w->e, -EIO, "%s: cannot write: %s", w->label, archive_error_string(w->a));
	return 0;
}

static int add_buf(struct writer *w, const char *name, const void *buf, size_t len)
{
	int ret;

	if (written(w, name))
		return 0;
	ret = header(w, name, len, false);
	return ret ? ret : data(w, buf, len);
}

/* A stored blob as it is, hashed on the way to compare with its digest. */
static int add_blob(struct writer *w, struct store *s, const char *name, const char *digest,
		    uint64_t size)
{
	char path[4096], got[DIGEST_BUF];
	struct sha256 *h;
	uint64_t done = 0;
	char *buf;
	int fd, ret;

	if (written(w, name))
		return 0;
	store_blob_path(s, digest, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(w->e, -errno, "%s: %s (the image is incomplete; load or pull it again)", path,
			       strerror(errno));
	h = sha256_new();
	buf = malloc(CHUNK);
	ret = (!h || !buf) ? err_set(w->e, -ENOMEM, "out of memory") : header(w, name, size, false);
	while (!ret && done < size) {
		ssize_t n = read(fd, buf, MIN((uint64_t)CHUNK, size - done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = err_set(w->e, n < 0 ? -errno : -EIO, "%s: %s", path,
				      n < 0 ? strerror(errno) : "shorter than its descriptor says");
			break;
		}
		sha256_update(h, buf, n);
		ret = data(w, buf, n);
		done += n;
	}
	if (!ret) {
		sha256_final(h, got);
		if (strcmp(got, digest))
			ret = err_set(w->e, -EBADMSG, "%s: corrupt blob (its content has digest %s); the archive "
				      "is incomplete (remove the image and load or pull it again)", path, got);
	}
	sha256_free(h);
	free(buf);
	close(fd);
	return ret;
}

struct raw_in {
	int fd;
	struct sha256 *hash;		/* of the compressed bytes */
	char buf[CHUNK];
};

static la_ssize_t raw_read(struct archive *a, void *ctx, const void **out)
{
	struct raw_in *in = ctx;
	ssize_t n;

	(void)a;
	do
		n = read(in->fd, in->buf, sizeof(in->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	sha256_update(in->hash, in->buf, n);
	*out = in->buf;
	return n;
}

/*
 * One pass over a compressed blob with libarchive's raw format and filters:
 * the digest of the blob, the diff_id and size of its content; the content
 * goes to w when not NULL (after a header of usize_known bytes).
 */
static int decompress_pass(const struct image_layer *l, struct writer *w, uint64_t usize_known,
			   char blob_digest[DIGEST_BUF], char diff_id[DIGEST_BUF], uint64_t *usize,
			   struct error *e)
{
	struct archive *a = archive_read_new();
	struct raw_in *in = calloc(1, sizeof(*in));
	struct sha256 *h = sha256_new();
	struct archive_entry *ent;
	char *buf = malloc(CHUNK);
	int ret = 0;

	*usize = 0;
	if (in)
		in->fd = -1;
	if (!a || !in || !h || !buf || !(in->hash = sha256_new())) {
		ret = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	in->fd = open(l->path, O_RDONLY | O_CLOEXEC);
	if (in->fd < 0) {
		ret = err_set(e, -errno, "%s: %s (the image is incomplete; load or pull it again)", l->path,
			      strerror(errno));
		goto out;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open(a, in, NULL, raw_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ent) != ARCHIVE_OK)
		ret = err_set(e, -EBADMSG, "%s: cannot decompress: %s", l->path, archive_error_string(a));
	while (!ret) {
		la_ssize_t n = archive_read_data(a, buf, CHUNK);

		if (n < 0) {
			ret = err_set(e, -EBADMSG, "%s: cannot decompress: %s", l->path, archive_error_string(a));
		} else if (n == 0) {
			break;
		} else if (w && *usize + n > usize_known) {
			ret = err_set(e, -EBADMSG, "%s: the layer changed while being written", l->path);
		} else {
			*usize += n;
			sha256_update(h, buf, n);
			if (w)
				ret = data(w, buf, n);
		}
	}
	if (!ret) {
		/* the filters may stop before the end of the blob (trailing bytes) */
		while (raw_read(a, in, (const void **)&ent) > 0)
			;
		sha256_final(in->hash, blob_digest);
		sha256_final(h, diff_id);
	}
out:
	if (in && in->fd >= 0)
		close(in->fd);
	if (in)
		sha256_free(in->hash);
	free(in);
	sha256_free(h);
	free(buf);
	archive_read_free(a);
	return ret;
}

/* A layer uncompressed, as docker-archives hold them, checked against its digests. */
static int add_layer_plain(struct writer *w, struct store *s, const struct image_layer *l,
			   const char *name)
{
	char blob[DIGEST_BUF], diff[DIGEST_BUF];
	uint64_t usize, usize2;
	int ret;

	if (l->compression == COMPRESSION_NONE)
		return add_blob(w, s, name, l->digest, l->size);
	if (written(w, name))
		return 0;
	/* first pass: check both digests and learn the size the tar header needs */
	ret = decompress_pass(l, NULL, 0, blob, diff, &usize, w->e);
	if (!ret && (strcmp(blob, l->digest) || strcmp(diff, l->diff_id)))
		ret = err_set(w->e, -EBADMSG, "%s: corrupt layer (%s does not match) (remove the image and load "
			      "or pull it again)", l->path, strcmp(blob, l->digest) ? "its digest" : "its diff_id");
	if (ret)
		return ret;
	ret = header(w, name, usize, false);
	if (!ret)
		ret = decompress_pass(l, w, usize, blob, diff, &usize2, w->e);
	if (!ret && (usize2 != usize || strcmp(diff, l->diff_id)))
		ret = err_set(w->e, -EBADMSG, "%s: the layer changed while being written", l->path);
	return ret;
}

static int save_docker(struct writer *w, struct store *s, struct saved *v, size_t n)
{
	json_object *manifest = json_object_new_array(), *repos = json_object_new_object();
	const char *json;
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		struct image *img = v[i].img;
		json_object *entry = json_object_new_object(), *layers = json_object_new_array();
		json_object *tags = NULL;
		char name[DIGEST_HEX_LEN + 16];

		snprintf(name, sizeof(name), "%s.json", digest_hex(img->config_digest));
		ret = add_buf(w, name, img->config_json, img->config_len);
		json_object_object_add(entry, "Config", json_object_new_string(name));
		for (size_t j = 0; j < img->n_layers && !ret; j++) {
			snprintf(name, sizeof(name), "%s.tar", digest_hex(img->layers[j].diff_id));
			ret = add_layer_plain(w, s, &img->layers[j], name);
			json_object_array_add(layers, json_object_new_string(name));
		}
		for (size_t j = 0; v[i].refs[j]; j++) {
			char repo[REF_STR_MAX], shortref[REF_STR_MAX];
			struct image_ref ref;
			json_object *r;

			if (ref_parse(v[i].refs[j], 0, &ref, NULL) || !ref.tag[0])
				continue;
			ref_format_short(&ref, shortref, sizeof(shortref));
			if (!tags)
				tags = json_object_new_array();
			json_object_array_add(tags, json_object_new_string(shortref));
			ref_format_short_repo(&ref, repo, sizeof(repo));
			if (!json_object_object_get_ex(repos, repo, &r)) {
				r = json_object_new_object();
				json_object_object_add(repos, repo, r);
			}
			if (img->n_layers)
				json_object_object_add(r, ref.tag, json_object_new_string(
					digest_hex(img->layers[img->n_layers - 1].diff_id)));
		}
		json_object_object_add(entry, "RepoTags", tags);
		json_object_object_add(entry, "Layers", layers);
		json_object_array_add(manifest, entry);
	}
	if (!ret) {
		json = json_compact(manifest);
		ret = add_buf(w, "manifest.json", json, strlen(json));
	}
	if (!ret && json_object_object_length(repos)) {
		json = json_compact(repos);
		ret = add_buf(w, "repositories", json, strlen(json));
	}
	json_object_put(manifest);
	json_object_put(repos);
	return ret;
}

static json_object *index_entry(const struct image *img, const char *ref)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "mediaType", json_object_new_string(img->manifest.media_type));
	json_object_object_add(o, "digest", json_object_new_string(img->manifest_digest));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)img->manifest_len));
	if (ref) {
		json_object *ann = json_object_new_object();

		json_object_object_add(ann, ANNOT_CONTAINERD_NAME, json_object_new_string(ref));
		json_object_object_add(ann, ANNOT_REF_NAME, json_object_new_string(ref));
		json_object_object_add(o, "annotations", ann);
	}
	return o;
}

static int save_oci(struct writer *w, struct store *s, struct saved *v, size_t n)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	json_object *index = json_object_new_object(), *manifests = json_object_new_array();
	char name[128];
	const char *json;
	int ret;

	json_object_object_add(index, "schemaVersion", json_object_new_int(2));
	json_object_object_add(index, "mediaType", json_object_new_string(MT_OCI_INDEX));
	json_object_object_add(index, "manifests", manifests);
	ret = add_buf(w, "oci-layout", layout, strlen(layout));
	if (!ret && !(ret = header(w, "blobs/", 0, true)))
		ret = header(w, "blobs/sha256/", 0, true);
	for (size_t i = 0; i < n && !ret; i++) {
		struct image *img = v[i].img;

		for (size_t j = 0; j < img->n_layers && !ret; j++) {
			snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(img->layers[j].digest));
			ret = add_blob(w, s, name, img->layers[j].digest, img->layers[j].size);
		}
		snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(img->config_digest));
		if (!ret)
			ret = add_buf(w, name, img->config_json, img->config_len);
		snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(img->manifest_digest));
		if (!ret)
			ret = add_buf(w, name, img->manifest_json, img->manifest_len);
		if (!v[i].refs[0])
			json_object_array_add(manifests, index_entry(img, NULL));
		for (size_t j = 0; v[i].refs[j]; j++)
			json_object_array_add(manifests, index_entry(img, v[i].refs[j]));
	}
	if (!ret) {
		json = json_compact(index);
		ret = add_buf(w, "index.json", json, strlen(json));
	}
	json_object_put(index);
	return ret;
}

int image_save(struct store *s, char *const *names, size_t n, enum save_format fmt, int fd,
	       const char *label, struct error *e)
{
	struct saved *v = calloc(n + 1, sizeof(*v));
	struct writer w = { .label = label, .e = e };
	size_t nv = 0;
	int ret = 0;

	if (!v)
		return err_set(e, -ENOMEM, "out of memory");
	/* resolve everything before writing a byte */
	for (size_t i = 0; i < n && !ret; i++) {
		char digest[DIGEST_BUF], tag[REF_STR_MAX];
		size_t j;

		if ((ret = image_resolve(s, names[i], digest, tag, sizeof(tag), e)))
			break;
		for (j = 0; j < nv; j++)
			if (!strcmp(v[j].img->digest, digest))
				break;
		if (j == nv) {
			if ((ret = image_open_digest(s, digest, &v[nv].img, e)))
				break;
			if (!(v[nv].refs = calloc(1, sizeof(char *)))) {
				ret = err_set(e, -ENOMEM, "out of memory");
				break;
			}
			nv++;
		}
		if (tag[0] && (ret = strv_add_once(&v[j].refs, tag)))
			err_set(e, ret, "out of memory");
	}
	if (ret)
		goto out;
	w.a = archive_write_new();
	if (!w.a) {
		ret = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	archive_write_set_format_pax_restricted(w.a);
	archive_write_add_filter_none(w.a);
	archive_write_set_bytes_in_last_block(w.a, 1);
	if (archive_write_open_fd(w.a, fd) != ARCHIVE_OK) {
		ret = err_set(e, -EIO, "%s: %s", label, archive_error_string(w.a));
		goto out;
	}
	ret = fmt == SAVE_OCI_ARCHIVE ? save_oci(&w, s, v, nv) : save_docker(&w, s, v, nv);
	if (archive_write_close(w.a) != ARCHIVE_OK && !ret)
		ret = err_set(e, -EIO, "%s: cannot write: %s", label, archive_error_string(w.a));
out:
	if (w.a)
		archive_write_free(w.a);
	for (size_t i = 0; i < w.n_written; i++)
		free(w.written[i]);
	free(w.written);
	for (size_t i = 0; i < nv; i++) {
		image_close(v[i].img);
		strv_free(v[i].refs);
	}
	free(v);
	return ret;
}
