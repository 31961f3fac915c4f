/* Resolve names to images and read them: manifest, config, layers; all verified. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/image.h"
#include "images/oci/layer.h"
#include "images/oci/ref.h"
#include "vmm/base/hex.h"
#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"

int index_select_platform(const struct oci_index *idx, char *why, size_t whylen)
{
	size_t n = 0;

	for (size_t i = 0; i < idx->n_manifests; i++) {
		const struct descriptor *d = &idx->manifests[i];

		if (media_type_kind(d->media_type, NULL) == MEDIA_MANIFEST &&
		    platform_supported(d->platform_os, d->platform_arch))
			return (int)i;
	}
	if (why && whylen)
		why[0] = '\0';
	for (size_t i = 0; why && i < idx->n_manifests; i++) {
		const struct descriptor *d = &idx->manifests[i];

		if (!d->platform_os || !d->platform_arch || n + 2 >= whylen)
			continue;
		n += snprintf(why + n, whylen - n, "%s%s/%s%s%s", n ? ", " : "", d->platform_os,
			      d->platform_arch, d->platform_variant ? "/" : "",
			      d->platform_variant ? d->platform_variant : "");
		if (n >= whylen)
			n = whylen - 1;
	}
	if (why && !why[0])
		snprintf(why, whylen, "no platforms listed");
	return -ENOENT;
}

/* Read a small verified blob whose size the descriptor also states. */
static int read_doc(struct store *s, const char *digest, uint64_t size, size_t max,
		    char **buf, size_t *len, struct error *e)
{
	int ret = store_blob_read(s, digest, max, buf, len, e);

	if (ret == -ENOENT)
		return err_set(e, ret, "%s: blob missing from the store (the image is incomplete; load or pull it again)",
			       digest);
	if (ret)
		return ret;
	if (size != UINT64_MAX && *len != size) {
		free(*buf);
		*buf = NULL;
		return err_set(e, -EBADMSG, "%s: blob is %zu bytes, its descriptor says %llu", digest, *len,
			       (unsigned long long)size);
	}
	return 0;
}

/*
 * From what index.json names (a manifest or an index) to the linux/amd64 image
 * manifest: its digest and verified bytes.
 */
static int manifest_of(struct store *s, const struct descriptor *desc, char digest[DIGEST_BUF],
		       char **buf, size_t *len, struct error *e)
{
	struct oci_index idx;
	char why[256];
	int ret, at;

	ret = read_doc(s, desc->digest, desc->size, MANIFEST_MAX_SIZE, buf, len, e);
	if (ret)
		return ret;
	memcpy(digest, desc->digest, DIGEST_BUF);
	if (media_type_kind(desc->media_type, NULL) != MEDIA_INDEX)
		return 0;
	ret = index_parse(*buf, *len, &idx, e);
	free(*buf);
	*buf = NULL;
	if (ret)
		return err_wrap(e, ret, "%s: invalid image index", desc->digest);
	at = index_select_platform(&idx, why, sizeof(why));
	if (at < 0) {
		index_free(&idx);
		return err_set(e, -ENOENT, "%s: no %s/%s image in this index (it has %s)", desc->digest,
			       PLATFORM_OS, PLATFORM_ARCH, why);
	}
	memcpy(digest, idx.manifests[at].digest, DIGEST_BUF);
	ret = read_doc(s, idx.manifests[at].digest, idx.manifests[at].size, MANIFEST_MAX_SIZE,
		       buf, len, e);
	index_free(&idx);
	return ret;
}

void image_close(struct image *img)
{
	if (!img)
		return;
	for (size_t i = 0; i < img->n_layers; i++)
		free(img->layers[i].path);
	free(img->layers);
	manifest_free(&img->manifest);
	config_free(&img->config);
	strv_free(img->tags);
	free(img->manifest_json);
	free(img->config_json);
	free(img);
}

/* Read and validate everything but the layer contents. */
static int image_read(struct store *s, const struct descriptor *desc, struct image **out, struct error *e)
{
	struct image *img = calloc(1, sizeof(*img));
	size_t n_diff;
	int ret;

	if (!img)
		return err_set(e, -ENOMEM, "out of memory");
	img->store = s;
	memcpy(img->digest, desc->digest, DIGEST_BUF);
	ret = manifest_of(s, desc, img->manifest_digest, &img->manifest_json, &img->manifest_len, e);
	if (ret)
		goto fail;
	ret = manifest_parse(img->manifest_json, img->manifest_len, &img->manifest, e);
	if (ret) {
		err_wrap(e, ret, "%s: invalid manifest", img->manifest_digest);
		goto fail;
	}
	memcpy(img->config_digest, img->manifest.config.digest, DIGEST_BUF);
	ret = read_doc(s, img->config_digest, img->manifest.config.size, CONFIG_MAX_SIZE,
		       &img->config_json, &img->config_len, e);
	if (ret)
		goto fail;
	ret = config_parse(img->config_json, img->config_len, &img->config, e);
	if (ret) {
		err_wrap(e, ret, "%s: invalid image config", img->config_digest);
		goto fail;
	}
	if (!platform_supported(img->config.os, img->config.architecture)) {
		ret = err_set(e, -ENOTSUP, "%s: the image is for %s/%s; vmm runs %s/%s images only",
			      img->config_digest, img->config.os, img->config.architecture, PLATFORM_OS,
			      PLATFORM_ARCH);
		goto fail;
	}
	n_diff = strv_len(img->config.diff_ids);
	if (n_diff != img->manifest.n_layers) {
		ret = err_set(e, -EINVAL, "%s: the manifest has %zu layers but the config lists %zu diff_ids",
			      img->manifest_digest, img->manifest.n_layers, n_diff);
		goto fail;
	}
	img->layers = calloc(n_diff + 1, sizeof(*img->layers));
	if (!img->layers) {
		ret = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n_diff; i++) {
		const struct descriptor *d = &img->manifest.layers[i];
		struct image_layer *l = &img->layers[i];
		char path[4096];

		memcpy(l->digest, d->digest, DIGEST_BUF);
		memcpy(l->diff_id, img->config.diff_ids[i], DIGEST_BUF);
		l->media_type = d->media_type;
		l->size = d->size;
		media_type_kind(d->media_type, &l->compression);
		store_blob_path(s, d->digest, path, sizeof(path));
		if (!(l->path = strdup(path))) {
			ret = err_set(e, -ENOMEM, "out of memory");
			goto fail;
		}
		img->n_layers = i + 1;
		img->size += d->size;
	}
	*out = img;
	return 0;
fail:
	image_close(img);
	return ret;
}

int image_check(struct store *s, const struct descriptor *desc, struct error *e)
{
	struct image *img;
	int ret;

	if (media_type_kind(desc->media_type, NULL) != MEDIA_MANIFEST &&
	    media_type_kind(desc->media_type, NULL) != MEDIA_INDEX)
		return err_set(e, -ENOTSUP, "%s: unsupported media type '%s' (not an image manifest or index)",
			       desc->digest, desc->media_type);
	ret = image_read(s, desc, &img, e);
	if (ret)
		return ret;
	for (size_t i = 0; i < img->n_layers && !ret; i++) {
		uint64_t size;

		ret = store_blob_size(s, img->layers[i].digest, &size);
		if (ret)
			err_set(e, ret, "%s: layer %s missing from the store", img->manifest_digest,
				img->layers[i].digest);
		else if (size != img->layers[i].size)
			ret = err_set(e, -EBADMSG, "%s: layer %s is %llu bytes, the manifest says %llu",
				      img->manifest_digest, img->layers[i].digest,
				      (unsigned long long)size, (unsigned long long)img->layers[i].size);
	}
	image_close(img);
	return ret;
}

int image_open_digest(struct store *s, const char *digest, struct image **out, struct error *e)
{
	struct oci_index idx;
	struct image *img;
	long at = -1;
	int ret;

	ret = store_index_read(s, &idx, e);
	if (ret)
		return ret;
	for (size_t i = 0; i < idx.n_manifests && at < 0; i++)
		if (!strcmp(idx.manifests[i].digest, digest))
			at = (long)i;
	if (at < 0) {
		index_free(&idx);
		return err_set(e, -ENOENT, "%s: no such image in the store", digest);
	}
	ret = image_read(s, &idx.manifests[at], &img, e);
	index_free(&idx);
	if (ret)
		return ret;
	ret = store_tags_of(s, img->digest, &img->tags, e);
	if (ret) {
		image_close(img);
		return ret;
	}
	*out = img;
	return 0;
}

void image_entries_free(struct image_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].ref);
	free(e);
}

int image_entries(struct store *s, struct image_entry **out, size_t *n_out, struct error *e)
{
	struct image_entry *v;
	struct oci_index idx;
	size_t n = 0;
	int ret;

	ret = store_index_read(s, &idx, e);
	if (ret)
		return ret;
	v = calloc(idx.n_manifests + 1, sizeof(*v));
	if (!v) {
		index_free(&idx);
		return err_set(e, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < idx.n_manifests; i++) {
		const struct descriptor *d = &idx.manifests[i];
		struct image_entry *en = &v[n];
		bool found = false;

		/* entries of one manifest share the config: read it once */
		for (size_t j = 0; j < n && !found; j++) {
			if (!strcmp(v[j].digest, d->digest)) {
				memcpy(en->config_digest, v[j].config_digest, DIGEST_BUF);
				found = true;
			}
		}
		if (!found) {
			char mdigest[DIGEST_BUF], *buf;
			struct manifest m;
			size_t len;

			/* unreadable images keep an empty ID: they can still be removed by name */
			if (manifest_of(s, d, mdigest, &buf, &len, NULL) == 0) {
				if (manifest_parse(buf, len, &m, NULL) == 0) {
					memcpy(en->config_digest, m.config.digest, DIGEST_BUF);
					manifest_free(&m);
				}
				free(buf);
			}
		}
		memcpy(en->digest, d->digest, DIGEST_BUF);
		if (d->ref_name && !(en->ref = strdup(d->ref_name))) {
			index_free(&idx);
			image_entries_free(v, n);
			return err_set(e, -ENOMEM, "out of memory");
		}
		n++;
	}
	index_free(&idx);
	*out = v;
	*n_out = n;
	return 0;
}

/* Image IDs: a config digest, or a unique prefix of its hex (>= 4 digits). */
static int resolve_id(struct store *s, const char *hex, const char *name, char digest[DIGEST_BUF],
		      struct error *e)
{
	size_t len = strlen(hex), n;
	struct image_entry *v;
	long match = -1;
	int ret;

	ret = image_entries(s, &v, &n, e);
	if (ret)
		return ret;

	for (size_t i = 0; i < n; i++) {
		if (len == DIGEST_HEX_LEN && !strcmp(digest_hex(v[i].digest), hex))
			match = (long)i;	/* a manifest digest, as index.json names it */
	}
	for (size_t i = 0; i < n && match < 0; i++) {
		if (!v[i].config_digest[0] || strncmp(digest_hex(v[i].config_digest), hex, len))
			continue;
		for (size_t j = i + 1; j < n; j++) {
			if (!strncmp(digest_hex(v[j].config_digest), hex, len) &&
			    strcmp(v[j].config_digest, v[i].config_digest)) {
				ret = err_set(e, -EINVAL, "%s: ambiguous image ID prefix (matches %.12s and %.12s)",
					      name, digest_hex(v[i].config_digest), digest_hex(v[j].config_digest));
				image_entries_free(v, n);
				return ret;
			}
		}
		match = (long)i;
	}
	if (match >= 0)
		memcpy(digest, v[match].digest, DIGEST_BUF);
	image_entries_free(v, n);
	return match >= 0 ? 0 : -ENOENT;
}

int image_resolve(struct store *s, const char *name, char digest[DIGEST_BUF], char *tag,
		  size_t taglen, struct error *e)
{
	struct oci_index idx;
	struct image_ref ref;
	const char *why = NULL, *hex = NULL;
	bool by_ref;
	int ret;

	if (tag && taglen)
		tag[0] = '\0';
	if (str_has_prefix(name, DIGEST_PREFIX)) {
		hex = name + 7;
		if (strlen(hex) < 4 || strlen(hex) > DIGEST_HEX_LEN || !hex_valid(hex, strlen(hex)))
			return err_set(e, -EINVAL, "%s: invalid image ID (want sha256: and at least 4 hex digits)",
				       name);
		by_ref = false;
	} else {
		by_ref = ref_parse(name, REF_DEFAULT_TAG, &ref, &why) == 0;
		if (strlen(name) >= 4 && strlen(name) <= DIGEST_HEX_LEN && hex_valid(name, strlen(name)))
			hex = name;
		if (!by_ref && !hex)
			return err_set(e, -EINVAL, "%s: invalid reference format: %s", name, why);
	}
	ret = store_index_read(s, &idx, e);
	if (ret)
		return ret;
	ret = -ENOENT;
	if (by_ref) {
		char full[REF_STR_MAX];

		ref_format(&ref, full, sizeof(full));
		for (size_t i = 0; i < idx.n_manifests && ret; i++) {
			const struct descriptor *d = &idx.manifests[i];

			/* name@digest: the manifest digest decides (the name is not checked) */
			if (ref.digest[0] ? !strcmp(d->digest, ref.digest) :
			    (d->ref_name && !strcmp(d->ref_name, full))) {
				memcpy(digest, d->digest, DIGEST_BUF);
				if (tag && taglen && !ref.digest[0])
					snprintf(tag, taglen, "%s", full);
				ret = 0;
			}
		}
	}
	index_free(&idx);
	if (ret == -ENOENT && hex)
		ret = resolve_id(s, hex, name, digest, e);
	if (ret == -ENOENT)
		err_set(e, ret, "%s: no such image (see 'vmm images'; add one with 'vmm load' or 'vmm pull')",
			name);
	return ret;
}

int image_open(struct store *s, const char *name, struct image **out, struct error *e)
{
	char digest[DIGEST_BUF];
	int ret = image_resolve(s, name, digest, NULL, 0, e);

	if (ret)
		return ret;
	return image_open_digest(s, digest, out, e);
}

int image_layer_verify(const struct image *img, size_t i, struct error *e)
{
	const struct image_layer *l;
	char diff_id[DIGEST_BUF];
	int fd, ret;

	if (i >= img->n_layers)
		return err_set(e, -EINVAL, "layer %zu: no such layer", i);
	l = &img->layers[i];
	if ((ret = store_blob_verify(img->store, l->digest, l->size, e)))
		return ret;
	/*
	 * And what it unpacks to is what the config says: a manifest that pairs
	 * a config with another image's layers builds no disk under its name.
	 */
	fd = open(l->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, -errno, "layer %s", l->digest);
	ret = layer_diff_id(fd, l->compression, diff_id);
	close(fd);
	if (ret)
		return err_sys(e, ret, "layer %s: corrupt %s data", l->digest, compression_name(l->compression));
	if (strcmp(diff_id, l->diff_id))
		return err_set(e, -EBADMSG, "layer %s unpacks to %s, but the image's config says %s",
			       l->digest, diff_id, l->diff_id);
	return 0;
}

int image_disk_path(const struct image *img, uint64_t size, char *buf, size_t len)
{
	char suffix[32] = "";

	if (size)
		snprintf(suffix, sizeof(suffix), "-%" PRIu64, size);
	if ((size_t)snprintf(buf, len, "%s/disks/%s%s.img", store_root(img->store),
			     digest_hex(img->config_digest), suffix) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int image_tag(struct store *s, const char *src, const char *target, struct error *e)
{
	char digest[DIGEST_BUF];
	struct descriptor desc;
	struct image_ref ref;
	const char *why;
	int ret;

	if (ref_parse(target, REF_DEFAULT_TAG, &ref, &why))
		return err_set(e, -EINVAL, "%s: invalid reference format: %s", target, why);
	if (ref.digest[0])
		return err_set(e, -EINVAL, "%s: refusing to create a tag with a digest reference", target);
	if ((ret = image_resolve(s, src, digest, NULL, 0, e)) || (ret = store_index_find(s, digest, &desc, e)))
		return ret;
	ret = store_tag_add(s, target, &desc, NULL, e);
	descriptor_free(&desc);
	return ret;
}
