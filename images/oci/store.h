/*
 * The image store: an OCI image layout under $VMM_ROOT/oci (oci-layout,
 * index.json, blobs/sha256/<hex>) that skopeo and umoci can read.
 *
 *  - Blobs are content-addressed and verified: a writer hashes while it
 *    streams into an unnamed temp file in blobs/sha256 and links it under its
 *    digest only if the digest is the expected one; small blobs (manifests,
 *    configs) are verified again each time they are read.
 *  - Tags are index.json entries whose org.opencontainers.image.ref.name
 *    annotation is the full normalized reference
 *    ("docker.io/library/busybox:latest"); an entry without one is an
 *    untagged image. index.json is replaced atomically, read-modify-write
 *    under an flock'd lock file (oci/.index.lock).
 *  - Every open store holds a shared lock on oci/.gc.lock; deleting blobs
 *    (store_gc) takes it exclusively, so a blob being written by one process
 *    is never collected by another before it is tagged. Close the store as
 *    soon as the blobs are no longer needed (vmm run: once its disk is built).
 *
 * Errors: functions return 0 or -errno; those with a struct error fill it
 * with the failure and its context. -EBADMSG means a digest mismatch,
 * -ENOENT a missing blob, image or tag.
 */
#ifndef VMM_IMAGES_OCI_STORE_H
#define VMM_IMAGES_OCI_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/base/digest.h"
#include "images/oci/spec.h"
#include "vmm/base/strv.h"

struct error;
struct store;
struct blob_writer;

/* Open $root/oci, creating the layout when missing. */
int store_open(const char *root, struct store **out, struct error *e);
void store_close(struct store *s);
const char *store_root(const struct store *s);		/* $VMM_ROOT */

/* --- blobs --- */

/* "$VMM_ROOT/oci/blobs/sha256/<hex>" for a valid digest; -EINVAL otherwise. */
int store_blob_path(const struct store *s, const char *digest, char *buf, size_t len);
/* The size of a present blob, or -errno. */
int store_blob_size(const struct store *s, const char *digest, uint64_t *size);

/*
 * Stream a blob in. max_size bounds what may be written (0: BLOB_MAX_SIZE);
 * a write past it fails with -EFBIG. Nothing is visible in the store until
 * commit; abort (or a crash) leaves nothing behind.
 */
int store_blob_begin(struct store *s, uint64_t max_size, struct blob_writer **out, struct error *e);
int store_blob_write(struct blob_writer *w, const void *data, size_t len);
/*
 * Finish hashing and fsync without committing: the digest of what was
 * written (the writer stays usable for commit or abort; no more writes).
 */
int store_blob_digest(struct blob_writer *w, char digest[DIGEST_BUF]);
/* Read back what was written (for small JSON blobs before deciding on them). */
int store_blob_pread(struct blob_writer *w, void *buf, size_t len, uint64_t off);
/*
 * Link the blob under its digest. When expected is not NULL and differs from
 * the computed digest, nothing is linked and -EBADMSG is returned (without a
 * message in e: the caller names its input). digest (may be NULL) receives
 * the computed digest. The writer is freed in every case.
 */
int store_blob_commit(struct blob_writer *w, const char *expected, char digest[DIGEST_BUF],
		      struct error *e);
void store_blob_abort(struct blob_writer *w);
/* Write a whole small blob (begin, write, commit). */
int store_blob_put(struct store *s, const void *data, size_t len, const char *expected,
		   char digest[DIGEST_BUF], struct error *e);

/*
 * Read a blob of at most max bytes and verify its digest (-EBADMSG: corrupt).
 * For manifests and configs. A missing blob is -ENOENT without a message.
 */
int store_blob_read(struct store *s, const char *digest, size_t max, char **data, size_t *len,
		    struct error *e);
/*
 * Hash a blob in place and compare with its digest and, unless size is
 * UINT64_MAX, its size: for layers before they are used.
 */
int store_blob_verify(struct store *s, const char *digest, uint64_t size, struct error *e);

/* --- the index: images and tags --- */

/* A consistent snapshot of index.json (validated). Free with index_free(). */
int store_index_read(struct store *s, struct oci_index *idx, struct error *e);

/* A copy of the index entry of a digest (free with descriptor_free); -ENOENT. */
int store_index_find(struct store *s, const char *digest, struct descriptor *out, struct error *e);

/*
 * Read-modify-write index.json under the lock: fn changes idx and returns 1
 * when something changed (the file is then replaced atomically), 0 when not,
 * or -errno to abort without writing (returned as it is, e untouched).
 */
int store_index_update(struct store *s, int (*fn)(struct oci_index *idx, void *arg), void *arg,
		       struct error *e);

/*
 * Make ref (any form ref_parse accepts; stored normalized) name the manifest
 * desc, whose blob and every blob it references must already be in the store
 * (checked, and the manifest validated, before the index changes). A tag
 * that named another image moves; that image stays as an untagged one when
 * nothing else names it (its digest goes to old_digest, "" otherwise; may be
 * NULL). ref NULL adds the image untagged (a no-op when it is there).
 */
int store_tag_add(struct store *s, const char *ref, const struct descriptor *desc,
		  char old_digest[DIGEST_BUF], struct error *e);
/*
 * Remove a tag (normalized reference); -ENOENT when no such tag. *image_gone
 * (may be NULL) tells whether the manifest it named is no longer in the index.
 */
int store_tag_remove(struct store *s, const char *ref, bool *image_gone, struct error *e);
/* Remove every index entry of a manifest. */
int store_image_remove(struct store *s, const char *manifest_digest, struct error *e);
/*
 * The tags naming a manifest (full references, NULL-terminated, sorted;
 * never NULL on success). Free with strv_free().
 */
int store_tags_of(struct store *s, const char *manifest_digest, char ***tags, struct error *e);

/* --- garbage --- */

struct gc_result {
	unsigned blobs, disks;		/* removed */
	uint64_t bytes;			/* reclaimed */
};

enum {
	GC_WAIT = 1 << 0,	/* wait for other store users instead of returning -EBUSY */
	GC_DISKS = 1 << 1,	/* also cached disks of images that are gone (and unused) */
};

/*
 * Delete blobs no manifest in the index references (and stale temp files);
 * with GC_DISKS, $VMM_ROOT/disks/<config hex>.img whose image is gone and
 * that no container uses. Needs every other store user gone: -EBUSY without
 * GC_WAIT when there are some.
 */
int store_gc(struct store *s, unsigned flags, struct gc_result *res, struct error *e);

/*
 * Config digests of the images that containers use: the "Image" field of
 * $VMM_ROOT/containers/<id>/config.json, normalized to "sha256:<hex>", with the
 * container ids in parallel. NULL-terminated vectors (empty, never NULL).
 */
int store_images_in_use(struct store *s, char ***config_digests, char ***container_ids);

#endif
