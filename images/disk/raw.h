/* raw images: a plain file, sparse where the filesystem allows. */
#ifndef VMM_IMAGES_DISK_RAW_H
#define VMM_IMAGES_DISK_RAW_H

#include <stdint.h>

struct error;

/* Create (or truncate) a sparse raw image of size bytes. 0 or -errno with e. */
int raw_create(const char *path, uint64_t size, struct error *e);
/* Grow or shrink a raw image file. 0 or -errno with e. */
int raw_resize(const char *path, uint64_t size, struct error *e);

#endif
