/*
 * Questions about a root disk opened with rootfs_image_open (diff.h): does a
 * path exist and what is it, and small files' contents (/etc/passwd for a
 * build's --chown NAME). Paths resolve inside the image: symlinks, absolute
 * ones included, never leave it.
 */
#ifndef VMM_IMAGES_ROOTFS_LOOKUP_H
#define VMM_IMAGES_ROOTFS_LOOKUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "images/rootfs/diff.h"

struct rootfs_stat {
	mode_t mode;		/* S_IFMT | permissions */
	uint32_t uid, gid;
	uint64_t size;
};

/* path is absolute in the image; the last component's symlink is followed. 0, -ENOENT, -errno. */
int rootfs_image_stat(struct rootfs_image *img, const char *path, struct rootfs_stat *st);
/* A regular file of at most max bytes, NUL-terminated (malloc'd). 0, -ENOENT, -EFBIG, -errno. */
int rootfs_image_read(struct rootfs_image *img, const char *path, size_t max, char **data,
		      size_t *len);

#endif
