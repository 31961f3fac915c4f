/*
 * virtio-net device: the transport glue around net-core.c. Queue work runs
 * on the event loop with the transport lock held, entered either from a
 * guest kick (queue_notify) or from the backend (a frame for the guest, or
 * room for the guest's frames). The backend may call back into the device
 * while the device is calling it (slirp answers an ARP request from inside
 * slirp_input): `in_device` says the lock is already ours. activate/reset
 * arrive on vCPU threads and only touch plain fields.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/net-backend.h"
#include "devices/virtio/mmio.h"
#include "devices/virtio/net.h"
#include "vmm/base/log.h"
#include "vmm/vm.h"

#define RXQ		0
#define TXQ		1
#define QUEUE_SIZE	256

#define VIRTIO_NET_F_CSUM	0
#define VIRTIO_NET_F_GUEST_CSUM	1
#define VIRTIO_NET_F_MTU	3
#define VIRTIO_NET_F_MAC	5
#define VIRTIO_NET_F_MRG_RXBUF	15
#define VIRTIO_NET_F_STATUS	16
#define VIRTIO_NET_S_LINK_UP	1

#define CONFIG_SIZE	12	/* mac[6], le16 status, le16 max_virtqueue_pairs, le16 mtu */

struct virtio_net {
	struct vm *vm;
	struct virtio_mmio *t;
	struct net_backend *backend;
	struct net_core core;
	uint8_t config[CONFIG_SIZE];
	bool in_device;		/* loop thread: inside a device handler, the lock is held */
};

/* Under the lock: pass on what the core did (interrupts, a protocol violation). */
static void finish(struct virtio_net *n)
{
	struct net_core *c = &n->core;

	if (c->violation) {
		virtio_mmio_needs_reset(n->t, c->violation);
		c->running = false;
	}
	if (c->rx_used)
		virtio_mmio_signal(n->t, RXQ);
	if (c->tx_used)
		virtio_mmio_signal(n->t, TXQ);
	c->rx_used = c->tx_used = false;
}

static void kick_again(struct virtio_net *n, unsigned q)
{
	uint64_t one = 1;

	if (write(n->t->kick_fd[q], &one, sizeof(one)) < 0)
		dev_debug(n->t->name, "re-kick: %s", strerror(errno));
}

/* Guest kick (loop thread, lock held by the transport). */
static void net_notify(void *dev, unsigned q)
{
	struct virtio_net *n = dev;

	n->in_device = true;
	n->core.running = virtio_mmio_active(n->t);
	if (q == TXQ && net_core_tx(&n->core) > 0)
		kick_again(n, TXQ);	/* more waiting: after other loop work */
	/* New rx buffers, or frames the backend produced while we sent. */
	if (!n->core.violation)
		net_core_rx(&n->core);
	finish(n);
	n->in_device = false;
}

/* Backend callbacks, loop thread. */
static void net_enter(struct virtio_net *n, bool *outer)
{
	*outer = !n->in_device;
	if (*outer) {
		pthread_mutex_lock(&n->t->lock);
		n->in_device = true;
	}
	n->core.running = virtio_mmio_active(n->t);
}

static void net_leave(struct virtio_net *n, bool outer)
{
	if (!outer)
		return;		/* the outer handler finishes */
	finish(n);
	n->in_device = false;
	pthread_mutex_unlock(&n->t->lock);
}

static void net_receive(void *opaque, const void *frame, size_t len)
{
	struct virtio_net *n = opaque;
	bool outer;

	net_enter(n, &outer);
	net_core_receive(&n->core, frame, len);
	net_leave(n, outer);
}

static void net_writable(void *opaque)
{
	struct virtio_net *n = opaque;
	bool outer;

	net_enter(n, &outer);
	if (n->core.running && net_core_tx_resume(&n->core) > 0)
		kick_again(n, TXQ);
	if (!n->core.violation)
		net_core_rx(&n->core);
	net_leave(n, outer);
}

static void net_config_read(void *dev, uint32_t off, void *data, unsigned len)
{
	struct virtio_net *n = dev;

	memcpy(data, n->config + off, len);
}

/* vCPU thread, lock held: plain fields only (no loop, no backend). */
static void net_activate(void *dev)
{
	struct virtio_net *n = dev;

	net_core_set_features(&n->core, virtio_mmio_has_feature(n->t, VIRTIO_NET_F_MRG_RXBUF),
			      virtio_mmio_has_feature(n->t, VIRTIO_NET_F_GUEST_CSUM),
			      virtio_mmio_has_feature(n->t, VIRTIO_NET_F_CSUM));
}

static void net_reset(void *dev)
{
	struct virtio_net *n = dev;

	net_core_reset(&n->core);
}

static const struct virtio_device_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.features = (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
		    (1ULL << VIRTIO_NET_F_MTU) | (1ULL << VIRTIO_NET_F_MAC) |
		    (1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_NET_F_STATUS) |
		    (1ULL << VIRTIO_F_INDIRECT_DESC),
	.nqueues = 2,
	.queue_size = QUEUE_SIZE,
	.config_size = CONFIG_SIZE,
	.config_read = net_config_read,
	.queue_notify = net_notify,
	.activate = net_activate,
	.reset = net_reset,
};

int virtio_net_create(struct vm *vm, const struct virtio_net_config *cfg, struct virtio_net **out)
{
	struct net_backend *b = cfg->backend;
	struct virtio_net *n = calloc(1, sizeof(*n));
	int ret = -ENOMEM;

	if (!n)
		goto fail;
	n->vm = vm;
	n->backend = b;
	memcpy(n->config, cfg->mac, 6);
	n->config[6] = VIRTIO_NET_S_LINK_UP;
	n->config[8] = 1;		/* one queue pair */
	n->config[10] = b->mtu & 0xff;
	n->config[11] = b->mtu >> 8;
	ret = virtio_mmio_create(vm, &cfg->mmio, &net_ops, n, &n->t);
	if (ret)
		goto fail;
	ret = net_core_init(&n->core, n->t->name, &vm->mem, &n->t->queues[RXQ], &n->t->queues[TXQ], b);
	if (ret) {
		virtio_mmio_destroy(n->t);
		goto fail;
	}
	b->peer = (struct net_backend_peer){ .receive = net_receive, .writable = net_writable, .opaque = n };
	*out = n;
	return 0;
fail:
	net_backend_destroy(b);
	free(n);
	return ret;
}

void virtio_net_destroy(struct virtio_net *n)
{
	if (!n)
		return;
	net_backend_destroy(n->backend);
	net_core_free(&n->core);
	virtio_mmio_destroy(n->t);
	free(n);
}

struct virtio_mmio *virtio_net_transport(struct virtio_net *n)
{
	return n->t;
}

void virtio_net_stats(struct virtio_net *n, struct net_stats *out)
{
	pthread_mutex_lock(&n->t->lock);
	*out = n->core.stats;
	pthread_mutex_unlock(&n->t->lock);
}
