/*
 * Making new images: what `vmm build`, `vmm commit` and `vmm import` write.
 * A draft starts from a base image (its config document, layers and history)
 * or from nothing (scratch); callers change its container config, add layers
 * (blobs already in the store) and history, then commit it: the config and an
 * OCI manifest are written as blobs and the image is added to the index
 * under the given names (untagged when there are none).
 *
 *   struct image_draft d;
 *   image_draft_init(&d, base, &e);            base NULL: scratch
 *   json_object *cfg = image_draft_config(&d);  the "config" object to edit
 *   image_draft_add_layer(&d, &layer, "COPY ...", NULL);
 *   image_draft_commit(&d, store, refs, &out, &e);
 *   image_draft_free(&d);
 */
#ifndef VMM_IMAGES_OCI_COMPOSE_H
#define VMM_IMAGES_OCI_COMPOSE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "images/oci/image.h"
#include "vmm/base/digest.h"

struct error;
struct store;

struct draft_layer {
	char digest[DIGEST_BUF];	/* of the blob in the store */
	char diff_id[DIGEST_BUF];	/* of the uncompressed tar */
	uint64_t size;
	const char *media_type;		/* NULL: MT_OCI_LAYER (an uncompressed tar) */
};

struct image_draft {
	json_object *doc;		/* the whole image config document */
	json_object *layers;		/* manifest layer descriptors, in order */
	int64_t created;		/* seconds; 0: the time of the commit */
};

struct image_made {
	char manifest_digest[DIGEST_BUF];
	char config_digest[DIGEST_BUF];	/* the image ID */
};

/* Start from base's documents (NULL: scratch, an empty linux/amd64 config). */
int image_draft_init(struct image_draft *d, const struct image *base, struct error *e);
/* A deep copy (for a build stage that starts from another stage). */
int image_draft_copy(struct image_draft *dst, const struct image_draft *src, struct error *e);
void image_draft_free(struct image_draft *d);
/* The document's "config" object (Env, Cmd, Labels...), created when missing. */
json_object *image_draft_config(struct image_draft *d);
/* Set a top-level field of the document ("author"); value NULL removes it. */
void image_draft_set(struct image_draft *d, const char *key, const char *value);
/* Append a layer and its history entry (created_by, comment may be NULL). */
int image_draft_add_layer(struct image_draft *d, const struct draft_layer *l,
			  const char *created_by, const char *comment);
/* Append a history entry of a step that made no layer. */
int image_draft_add_history(struct image_draft *d, const char *created_by, const char *comment);
/* When the last step was made (its history entry), in seconds; 0 when unknown. */
int64_t image_draft_time(struct image_draft *d);
size_t image_draft_n_layers(const struct image_draft *d);
/* The layer descriptors' digests and diff_ids, base first (for cache keys). */
const char *image_draft_diff_id(const struct image_draft *d, size_t i);
/*
 * The config document as it would be committed now (created times set), and
 * its digest: the image ID of a step. Returns a malloc'd string.
 */
char *image_draft_render(struct image_draft *d, char digest[DIGEST_BUF]);
/*
 * Write the config and the manifest and name the image with refs (NULL or
 * empty: untagged). 0, or -errno with e.
 */
int image_draft_commit(struct image_draft *d, struct store *s, char *const *refs,
		       struct image_made *out, struct error *e);
/* RFC 3339 UTC with nanoseconds, as docker writes "created". */
void format_rfc3339(int64_t secs, long nsec, char *buf, size_t len);

#endif
