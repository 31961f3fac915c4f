/* virtio-rng (spec 5.4): the guest's entropy source, filled from the host's getrandom(). */
#ifndef VMM_DEVICES_VIRTIO_RNG_H
#define VMM_DEVICES_VIRTIO_RNG_H

#include "devices/virtio/mmio.h"

struct vm;
struct virtio_rng;

struct virtio_rng_config {
	struct virtio_mmio_config mmio;
};

int virtio_rng_create(struct vm *vm, const struct virtio_rng_config *cfg, struct virtio_rng **out);
void virtio_rng_destroy(struct virtio_rng *r);
struct virtio_mmio *virtio_rng_transport(struct virtio_rng *r);

#endif
