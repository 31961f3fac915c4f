/*
 * virtio-rng: one queue of device-writable buffers, each filled with fresh
 * bytes from getrandom(). Without it (and without RDRAND, which PVM hosts
 * hide) the guest's crng waits for interrupt entropy, and VMs restored from
 * one snapshot would start from the same pool until the agent reseeds it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "devices/virtio/mmio.h"
#include "devices/virtio/rng.h"
#include "vmm/vm.h"

#define QUEUE_SIZE	64
#define MAX_FILL	4096	/* bytes per request: the guest asks again for more */

struct virtio_rng {
	struct virtio_mmio *t;
	struct virtq_chain chain;
	uint8_t buf[MAX_FILL];
};

/* Guest kick (loop thread, transport lock held). */
static void rng_notify(void *dev, unsigned q)
{
	struct virtio_rng *r = dev;
	struct virtq *vq = &r->t->queues[q];
	struct virtq_chain *c = &r->chain;
	bool pushed = false;
	int ret;

	while ((ret = virtq_pop(vq, &r->t->vm->mem, c)) == 1) {
		size_t want = c->out_len < MAX_FILL ? c->out_len : MAX_FILL;
		ssize_t got = want ? getrandom(r->buf, want, 0) : 0;

		if (got < 0)
			got = 0;
		virtq_chain_write(c, 0, r->buf, (size_t)got);
		virtq_push(vq, c->head, (uint32_t)got);
		pushed = true;
	}
	if (ret < 0)
		virtio_mmio_needs_reset(r->t, "malformed virtio-rng descriptor chain");
	if (pushed)
		virtio_mmio_signal(r->t, q);
}

static const struct virtio_device_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.features = 1ULL << VIRTIO_F_INDIRECT_DESC,
	.nqueues = 1,
	.queue_size = QUEUE_SIZE,
	.queue_notify = rng_notify,
};

int virtio_rng_create(struct vm *vm, const struct virtio_rng_config *cfg, struct virtio_rng **out)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	ret = virtio_mmio_create(vm, &cfg->mmio, &rng_ops, r, &r->t);
	if (ret) {
		free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void virtio_rng_destroy(struct virtio_rng *r)
{
	if (!r)
		return;
	virtio_mmio_destroy(r->t);
	free(r);
}

struct virtio_mmio *virtio_rng_transport(struct virtio_rng *r)
{
	return r->t;
}
