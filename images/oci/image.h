/*
 * Images in the store, as `vmm run` and the image commands see them: resolve
 * a name (full or short reference, image ID or a unique prefix of it >= 4 hex
 * digits, "sha256:..." of the config or the manifest) to its manifest, its
 * verified config, and the ordered layers with their blob paths.
 *
 *   struct image *img;
 *   if (image_open(store, "busybox", &img, &e) == 0) {
 *           for (size_t i = 0; i < img->n_layers; i++)
 *                   ... image_layer_verify(img, i, &e), then img->layers[i].path ...
 *           ... img->config.entrypoint, img->config.cmd, img->config.env ...
 *           image_close(img);
 *   }
 */
#ifndef VMM_IMAGES_OCI_IMAGE_H
#define VMM_IMAGES_OCI_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/oci/spec.h"
#include "images/oci/store.h"

struct image_layer {
	char digest[DIGEST_BUF];	/* of the blob as stored (compressed or not) */
	char diff_id[DIGEST_BUF];	/* of the uncompressed tar (config rootfs.diff_ids) */
	const char *media_type;		/* points into the manifest */
	uint64_t size;			/* of the blob */
	enum compression compression;
	char *path;			/* $VMM_ROOT/oci/blobs/sha256/<hex> */
};

struct image {
	struct store *store;
	char digest[DIGEST_BUF];		/* what index.json names (may be an image index) */
	char manifest_digest[DIGEST_BUF];	/* the linux/amd64 image manifest */
	char config_digest[DIGEST_BUF];		/* the image ID */
	struct manifest manifest;
	struct image_config config;
	struct image_layer *layers;		/* in order, base first */
	size_t n_layers;
	char **tags;		/* full references naming it, sorted, NULL-terminated */
	uint64_t size;		/* sum of the layer blob sizes */
	char *manifest_json;	/* the verified bytes */
	size_t manifest_len;
	char *config_json;
	size_t config_len;
};

/*
 * Open an image by name or ID (see above). -ENOENT, -EINVAL, -EBADMSG... with
 * e saying what: "busybox:1: no such image ...", invalid references, corrupt blobs.
 */
int image_open(struct store *s, const char *name, struct image **out, struct error *e);
/* Open by the digest index.json names it with. */
int image_open_digest(struct store *s, const char *digest, struct image **out, struct error *e);
void image_close(struct image *img);

/*
 * docker tag: target (a name, ":latest" when untagged, never a digest) names
 * the image src names. 0, or -ENOENT / -EINVAL with e.
 */
int image_tag(struct store *s, const char *src, const char *target, struct error *e);

/*
 * Resolve a name to the digest index.json names the image with, without
 * opening it. tag (may be NULL) receives the full reference matched when the
 * name was a tag, "" when it was an ID or a digest. -ENOENT names unknown ones.
 */
int image_resolve(struct store *s, const char *name, char digest[DIGEST_BUF], char *tag,
		  size_t taglen, struct error *e);

/*
 * Hash layer i's blob and compare with its digest and size, and hash what it
 * unpacks to and compare with the config's diff_id.
 */
int image_layer_verify(const struct image *img, size_t i, struct error *e);

/*
 * "$VMM_ROOT/disks/<config hex>.img": where the image's base disk is cached;
 * "<config hex>-<size>.img" for one of a size asked for (0: the default).
 */
int image_disk_path(const struct image *img, uint64_t size, char *buf, size_t len);

/*
 * Whether the manifest (or index) desc describes a complete linux/amd64 image
 * in the store: blobs present and verified, documents valid. e says what is wrong.
 */
int image_check(struct store *s, const struct descriptor *desc, struct error *e);

/* One row per index.json entry, for listings. */
struct image_entry {
	char digest[DIGEST_BUF];	/* as index.json names it */
	char config_digest[DIGEST_BUF];	/* "" when the manifest is unreadable */
	char *ref;			/* full reference, NULL when untagged */
};

/* Every entry of the index with its image ID. Free with image_entries_free(). */
int image_entries(struct store *s, struct image_entry **out, size_t *n, struct error *e);
void image_entries_free(struct image_entry *e, size_t n);

/*
 * Pick the linux/amd64 manifest of an index. Returns its position, or -ENOENT
 * with what the index offers written into why ("linux/arm64, linux/arm/v7").
 */
int index_select_platform(const struct oci_index *idx, char *why, size_t whylen);

#endif
