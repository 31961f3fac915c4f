/* virtio-blk (spec 5.2): read, write, flush, get-id, discard, write-zeroes over a block backend. */
#ifndef VMM_DEVICES_VIRTIO_BLK_H
#define VMM_DEVICES_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/mmio.h"

struct vm;
struct virtio_blk;

#define VIRTIO_BLK_ID_BYTES 20

/*
 * What the device reads and writes (the machine adapts a disk image to it).
 * Calls are synchronous, on the event loop thread; 0 or -errno. A failed
 * request becomes an I/O error for the guest and a warning naming the
 * backend and error(opaque), the backend's account of the failure.
 */
struct blk_backend_ops {
	int (*read)(void *opaque, void *buf, size_t len, uint64_t off);
	int (*write)(void *opaque, const void *buf, size_t len, uint64_t off);
	int (*flush)(void *opaque);
	int (*discard)(void *opaque, uint64_t off, uint64_t len);
	int (*write_zeroes)(void *opaque, uint64_t off, uint64_t len, bool may_unmap);
	const char *(*error)(void *opaque);
	/* Flush and release. */
	void (*close)(void *opaque);
};

struct blk_backend {
	const struct blk_backend_ops *ops;
	void *opaque;
	const char *name;	/* for messages: the image's path */
	uint64_t size;		/* bytes */
	bool read_only;
};

struct virtio_blk_config {
	struct virtio_mmio_config mmio;
	struct blk_backend backend;	/* the device owns it from now on, even on failure */
	const char *serial;		/* GET_ID answer, at most 20 bytes; NULL: none */
};

int virtio_blk_create(struct vm *vm, const struct virtio_blk_config *cfg, struct virtio_blk **out);
/* Detach and close the backend (flushed). */
void virtio_blk_destroy(struct virtio_blk *b);
struct virtio_mmio *virtio_blk_transport(struct virtio_blk *b);
/* Bytes the guest read and wrote so far (any thread). */
void virtio_blk_stats(struct virtio_blk *b, uint64_t *read, uint64_t *written);

#endif
