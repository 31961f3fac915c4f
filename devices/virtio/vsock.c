/*
 * virtio-vsock device (virtio spec 5.10): three queues (rx, tx, event) and
 * the guest CID in config space. Packets go through vsock-conn.c; host
 * programs come in through vsock-uds.c. All queue work runs on the event
 * loop with the transport lock held; reset/activate arrive on vCPU threads
 * and only set flags.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/virtio/mmio.h"
#include "devices/virtio/vsock-core.h"
#include "devices/virtio/vsock-uds.h"
#include "devices/virtio/vsock.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/vm.h"

#define RXQ		0
#define TXQ		1
#define EVQ		2
#define QUEUE_SIZE	256
#define TX_BATCH	256	/* chains per kick before yielding to the loop */
#define EVENT_TRANSPORT_RESET	0

struct vsock {
	struct vm *vm;
	struct virtio_mmio *t;
	struct vsock_core core;
	struct vsock_uds *uds;
	uint8_t config[8];		/* le64 guest_cid */
	struct virtq_chain *tx_chain;
	struct virtq_chain *rx_chain;
	bool rx_held;			/* rx_chain popped, not used yet */
	bool filling, fill_again;
	bool event_pending;
	uint8_t pkt[VSOCK_HDR_SIZE + VSOCK_MAX_PKT];
};

static struct virtq *queue(struct vsock *v, unsigned q)
{
	return &v->t->queues[q];
}

/* Give the guest every packet we have, as long as it has rx buffers. */
static void fill_rx(struct vsock *v)
{
	struct virtq *q = queue(v, RXQ);
	struct virtq_chain *c = v->rx_chain;
	struct vsock_hdr h;
	bool pushed = false;

	if (v->filling) {	/* called back from inside the core: loop again below */
		v->fill_again = true;
		return;
	}
	if (!virtio_mmio_active(v->t))
		return;
	v->filling = true;
	do {
		v->fill_again = false;
		while (vsock_core_has_rx(&v->core)) {
			uint32_t cap;

			if (!v->rx_held) {
				int ret = virtq_pop(q, &v->vm->mem, c);

				if (ret < 0) {
					virtio_mmio_needs_reset(v->t, "rx queue: malformed descriptor chain");
					goto out;
				}
				if (!ret)
					break;
				v->rx_held = true;
			}
			if (c->out_len <= VSOCK_HDR_SIZE) {
				virtio_mmio_needs_reset(v->t, "rx buffer without room past the packet header");
				goto out;
			}
			cap = c->out_len - VSOCK_HDR_SIZE;
			if (cap > VSOCK_MAX_PKT)
				cap = VSOCK_MAX_PKT;
			if (!vsock_core_next_rx(&v->core, &h, v->pkt + VSOCK_HDR_SIZE, cap))
				break;
			vsock_hdr_encode(&h, v->pkt);
			virtq_chain_write(c, 0, v->pkt, VSOCK_HDR_SIZE + h.len);
			virtq_push(q, c->head, VSOCK_HDR_SIZE + h.len);
			v->rx_held = false;
			pushed = true;
		}
	} while (v->fill_again);
out:
	v->filling = false;
	if (pushed)
		virtio_mmio_signal(v->t, RXQ);
}

static void wake(void *opaque)
{
	fill_rx(opaque);
}

static void process_tx(struct vsock *v)
{
	struct virtq *q = queue(v, TXQ);
	struct virtq_chain *c = v->tx_chain;
	unsigned n;

	for (n = 0; n < TX_BATCH; n++) {
		enum vsock_verdict verdict;
		struct vsock_hdr h;
		const char *why;
		int ret = virtq_pop(q, &v->vm->mem, c);

		if (ret < 0) {
			virtio_mmio_needs_reset(v->t, "tx queue: malformed descriptor chain");
			return;
		}
		if (!ret)
			break;
		if (c->in_len < VSOCK_HDR_SIZE) {
			virtq_push(q, c->head, 0);
			memset(&h, 0, sizeof(h));
			vsock_core_guest_bad(&v->core, &h, VSOCK_PKT_DROP, "packet shorter than its header");
			continue;
		}
		virtq_chain_read(c, 0, v->pkt, VSOCK_HDR_SIZE);
		vsock_hdr_decode(v->pkt, &h);
		verdict = vsock_hdr_check(&h, v->core.cfg.guest_cid, c->in_len - VSOCK_HDR_SIZE, &why);
		if (verdict == VSOCK_PKT_OK)
			virtq_chain_read(c, VSOCK_HDR_SIZE, v->pkt + VSOCK_HDR_SIZE, h.len);
		/* The payload is copied: the buffer goes back before we act on it. */
		virtq_push(q, c->head, 0);
		if (verdict == VSOCK_PKT_OK)
			vsock_core_guest_packet(&v->core, &h, v->pkt + VSOCK_HDR_SIZE);
		else
			vsock_core_guest_bad(&v->core, &h, verdict, why);
	}
	if (n)
		virtio_mmio_signal(v->t, TXQ);
	if (n == TX_BATCH) {	/* more may wait: come back after other loop work */
		uint64_t one = 1;

		if (write(v->t->kick_fd[TXQ], &one, sizeof(one)) < 0)
			dev_debug(v->t->name, "tx re-kick: %s", strerror(errno));
	}
	fill_rx(v);
}

static void deliver_event(struct vsock *v)
{
	struct virtq *q = queue(v, EVQ);
	struct virtq_chain *c = v->tx_chain;
	uint8_t ev[4] = { EVENT_TRANSPORT_RESET };
	int ret;

	if (!v->event_pending || !virtio_mmio_active(v->t))
		return;
	ret = virtq_pop(q, &v->vm->mem, c);
	if (ret < 0) {
		virtio_mmio_needs_reset(v->t, "event queue: malformed descriptor chain");
		return;
	}
	if (!ret)
		return;		/* when the guest adds an event buffer */
	if (c->out_len < sizeof(ev)) {
		virtio_mmio_needs_reset(v->t, "event buffer smaller than an event");
		return;
	}
	virtq_chain_write(c, 0, ev, sizeof(ev));
	virtq_push(q, c->head, sizeof(ev));
	v->event_pending = false;
	virtio_mmio_signal(v->t, EVQ);
}

static void vsock_notify(void *dev, unsigned q)
{
	struct vsock *v = dev;

	if (q == TXQ)
		process_tx(v);
	else if (q == RXQ)
		fill_rx(v);
	else if (q == EVQ)
		deliver_event(v);
}

static void vsock_config_read(void *dev, uint32_t off, void *data, unsigned len)
{
	struct vsock *v = dev;

	memcpy(data, v->config + off, len);
}

/* vCPU thread: the driver reset the device. Connections go on the loop. */
static void vsock_reset(void *dev)
{
	struct vsock *v = dev;

	v->rx_held = false;
	v->event_pending = false;
	vsock_core_request_reset(&v->core);
}

static const struct virtio_device_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.features = 0,		/* stream sockets only */
	.nqueues = 3,
	.queue_size = QUEUE_SIZE,
	.config_size = 8,
	.config_read = vsock_config_read,
	.queue_notify = vsock_notify,
	.reset = vsock_reset,
};

int vsock_create(struct vm *vm, const struct vsock_config *cfg, struct vsock **out)
{
	uint64_t cid = cfg->guest_cid ? cfg->guest_cid : VSOCK_DEFAULT_CID;
	struct vsock_core_config cc = {
		.name = "virtio-vsock", .loop = vm->loop, .guest_cid = cid,
		.uds_path = cfg->uds_path, .wake = wake,
	};
	struct vsock *v;
	int ret;

	if (cid < 3 || cid >= 0xffffffffULL)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->vm = vm;
	v->tx_chain = malloc(sizeof(*v->tx_chain));
	v->rx_chain = malloc(sizeof(*v->rx_chain));
	if (!v->tx_chain || !v->rx_chain) {
		ret = -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < 8; i++)
		v->config[i] = cid >> (8 * i);
	ret = virtio_mmio_create(vm, &cfg->mmio, &vsock_ops, v, &v->t);
	if (ret)
		goto fail;
	cc.lock = &v->t->lock;
	cc.opaque = v;
	ret = vsock_core_init(&v->core, &cc);
	if (ret)
		goto fail_mmio;
	*out = v;
	return 0;
fail_mmio:
	virtio_mmio_destroy(v->t);
fail:
	free(v->tx_chain);
	free(v->rx_chain);
	free(v);
	return ret;
}

int vsock_serve_uds(struct vsock *v, struct error *e)
{
	if (!v->core.cfg.uds_path || v->uds)
		return 0;
	return vsock_uds_create(&v->core, v->core.cfg.uds_path, &v->uds, e);
}

struct virtio_mmio *vsock_transport(struct vsock *v)
{
	return v->t;
}

void vsock_destroy(struct vsock *v)
{
	if (!v)
		return;
	vsock_uds_destroy(v->uds);
	vsock_core_destroy(&v->core);
	virtio_mmio_destroy(v->t);
	free(v->tx_chain);
	free(v->rx_chain);
	free(v);
}

int vsock_listen(struct vsock *v, uint32_t port, vsock_accept_fn fn, void *opaque)
{
	int ret;

	pthread_mutex_lock(&v->t->lock);
	ret = vsock_core_listen(&v->core, port, fn, opaque);
	pthread_mutex_unlock(&v->t->lock);
	return ret;
}

void vsock_unlisten(struct vsock *v, uint32_t port)
{
	pthread_mutex_lock(&v->t->lock);
	vsock_core_unlisten(&v->core, port);
	pthread_mutex_unlock(&v->t->lock);
}

void vsock_transport_reset(struct vsock *v)
{
	pthread_mutex_lock(&v->t->lock);
	vsock_core_reset_all(&v->core);
	v->event_pending = true;
	deliver_event(v);
	pthread_mutex_unlock(&v->t->lock);
}
