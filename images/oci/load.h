/*
 * `vmm load`: bring images from a docker-archive (what `docker save` writes),
 * an oci-archive (an OCI layout as a tar) or an OCI layout directory into the
 * store. Everything is validated before anything is committed: a bad input
 * leaves the store as it was.
 */
#ifndef VMM_IMAGES_OCI_LOAD_H
#define VMM_IMAGES_OCI_LOAD_H

#include <stddef.h>

#include "vmm/base/digest.h"
#include "images/oci/store.h"

struct loaded_image {
	char digest[DIGEST_BUF];	/* the manifest, as index.json names it */
	char config_digest[DIGEST_BUF];	/* the image ID */
	char **refs;		/* full references now naming it (NULL-terminated, maybe empty) */
	char **replaced;	/* parallel to refs: the image ID the tag was taken from, or "" */
};

/*
 * Load from path (a tar, possibly gzip/zstd/xz-compressed, or a layout
 * directory) or, when path is NULL, a tar read from fd. 0, or -errno with e
 * naming the input. Free the result with loaded_images_free().
 */
int image_load(struct store *s, const char *path, int fd, struct loaded_image **out, size_t *n,
	       struct error *e);
void loaded_images_free(struct loaded_image *v, size_t n);

#endif
