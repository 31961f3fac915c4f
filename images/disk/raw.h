/* raw images: a plain file, sparse where the filesystem allows. */
#ifndef VMM_IMAGES_DISK_RAW_H
#define VMM_IMAGES_DISK_RAW_H

#include <stdint.h>

/* Create (or truncate) a sparse raw image of size bytes. Returns 0 or -errno, logged. */
int raw_create(const char *path, uint64_t size);
/* Grow or shrink a raw image file. Returns 0 or -errno, logged. */
int raw_resize(const char *path, uint64_t size);

#endif
