/* virtio-blk (spec 5.2): read, write, flush, get-id, discard, write-zeroes over a disk backend. */
#ifndef VMM_DEVICES_VIRTIO_BLK_H
#define VMM_DEVICES_VIRTIO_BLK_H

#include <stdbool.h>

#include "images/disk/disk.h"

struct cmdline;
struct vm;
struct virtio_blk;

#define VIRTIO_BLK_ID_BYTES 20

struct virtio_blk_config {
	const char *path;
	enum disk_format format;	/* DISK_FMT_AUTO: probe */
	bool read_only;
	const char *serial;		/* GET_ID answer, at most 20 bytes; NULL: none */
	bool allow_unsafe_backing;
	const char *const *trusted_dirs;	/* backing files trusted there (the store) */
};

/* Open the disk and attach a virtio-blk device for it. Logs; 0 or -errno. */
int virtio_blk_create(struct vm *vm, struct cmdline *cmdline, const struct virtio_blk_config *cfg,
		      struct virtio_blk **out);
/* Detach: flushes and closes the disk. */
void virtio_blk_destroy(struct virtio_blk *b);

#endif
