/* virtio-rng (spec 5.4): the guest's entropy source, filled from the host's getrandom(). */
#ifndef VMM_DEVICES_VIRTIO_RNG_H
#define VMM_DEVICES_VIRTIO_RNG_H

struct cmdline;
struct vm;
struct virtio_rng;

int virtio_rng_create(struct vm *vm, struct cmdline *cmdline, struct virtio_rng **out);
void virtio_rng_destroy(struct virtio_rng *r);

#endif
