/*
 * Layer content: tell plain, gzip and zstd tars apart, and compute a layer's
 * diff_id (the sha256 of the uncompressed tar) from a compressed stream.
 */
#ifndef VMM_IMAGES_OCI_LAYER_H
#define VMM_IMAGES_OCI_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/base/digest.h"
#include "images/oci/spec.h"

/* From the first bytes (at least 4 for an answer other than NONE). */
enum compression layer_sniff(const void *buf, size_t len);

/* The layer media type (OCI) for a compression. */
const char *layer_media_type(enum compression c);

struct diff_hasher;

/* Hash the uncompressed form of a stream compressed with c. */
int diff_hasher_new(enum compression c, struct diff_hasher **out);
/* Feed compressed bytes; -EBADMSG when they are not valid data of that kind. */
int diff_hasher_update(struct diff_hasher *h, const void *data, size_t len);
/* -EBADMSG when the stream ended early (truncated). */
int diff_hasher_final(struct diff_hasher *h, char diff_id[DIGEST_BUF], uint64_t *usize);
void diff_hasher_free(struct diff_hasher *h);
/* The diff_id of a whole layer file (read from its start): 0 or -errno (-EBADMSG: corrupt data). */
int layer_diff_id(int fd, enum compression c, char diff_id[DIGEST_BUF]);


#endif
