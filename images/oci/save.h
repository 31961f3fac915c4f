/* `vmm save`: images from the store as a docker-archive or an oci-archive tar. */
#ifndef VMM_IMAGES_OCI_SAVE_H
#define VMM_IMAGES_OCI_SAVE_H

#include <stddef.h>

#include "images/oci/store.h"

enum save_format {
	SAVE_DOCKER_ARCHIVE,	/* manifest.json, <config>.json, <diff_id>.tar (uncompressed) */
	SAVE_OCI_ARCHIVE,	/* oci-layout, index.json, blobs/sha256/... (blobs as stored) */
};

/*
 * Write the images named (names, IDs, as image_resolve takes them) into one tar
 * on fd. A name that is a tag is recorded in the archive; an ID records none
 * (as docker does). Layers are verified against their digests while they are
 * written: on a mismatch e says so and the output is incomplete.
 */
int image_save(struct store *s, char *const *names, size_t n, enum save_format fmt, int fd,
	       const char *label, struct error *e);

#endif
