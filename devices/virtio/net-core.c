#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/net-backend.h"
#include "devices/virtio/net-core.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

int net_core_init(struct net_core *c, const char *name, const struct guest_mem *mem,
		  struct virtq *rxq, struct virtq *txq, struct net_backend *backend)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->mem = mem;
	c->rxq = rxq;
	c->txq = txq;
	c->backend = backend;
	c->txbuf = malloc(NET_MAX_FRAME);
	c->tx_chain = malloc(sizeof(*c->tx_chain));
	c->rx_first = malloc(sizeof(*c->rx_first));
	c->rx_chain = malloc(sizeof(*c->rx_chain));
	if (!c->txbuf || !c->tx_chain || !c->rx_first || !c->rx_chain) {
		net_core_free(c);
		return -ENOMEM;
	}
	return 0;
}

static void backlog_clear(struct net_core *c)
{
	while (c->bl_count) {
		free(c->backlog[c->bl_head]);
		c->backlog[c->bl_head] = NULL;
		c->bl_head = (c->bl_head + 1) % NET_BACKLOG_FRAMES;
		c->bl_count--;
	}
	c->bl_bytes = 0;
}

void net_core_free(struct net_core *c)
{
	backlog_clear(c);
	free(c->txbuf);
	free(c->tx_chain);
	free(c->rx_first);
	free(c->rx_chain);
	c->txbuf = NULL;
	c->tx_chain = c->rx_first = c->rx_chain = NULL;
}

void net_core_set_features(struct net_core *c, bool mrg_rxbuf, bool guest_csum, bool host_csum)
{
	c->mrg_rxbuf = mrg_rxbuf;
	c->guest_csum = guest_csum;
	c->host_csum = host_csum;
}

static void set_paused(struct net_core *c, bool paused)
{
	if (c->paused == paused)
		return;
	c->paused = paused;
	if (c->backend && c->backend->ops->pause_rx)
		c->backend->ops->pause_rx(c->backend, paused);
}

void net_core_reset(struct net_core *c)
{
	/* Frames held for the guest stay: they go into the next driver's buffers. */
	c->violation = NULL;
	c->tx_pending = 0;
	c->running = false;
	c->rx_used = c->tx_used = false;
}

static void violation(struct net_core *c, const char *why)
{
	if (!c->violation)
		c->violation = why;
}

/* A guest frame we will not pass on: counted, the first one logged. */
static void tx_drop(struct net_core *c, const char *why, size_t len)
{
	c->stats.tx_malformed++;
	if (!c->warned)
		dev_warn(c->name, "dropping a %zu-byte frame from the guest: %s (further drops at debug level)",
			 len, why);
	else
		dev_debug(c->name, "dropped a %zu-byte guest frame: %s", len, why);
	c->warned = true;
}

uint16_t net_csum_fold(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;
	size_t i = 0;

	for (; i + 4 <= len; i += 4) {
		uint32_t w;

		memcpy(&w, p + i, 4);
		sum += w;
	}
	for (; i + 2 <= len; i += 2) {
		uint16_t w;

		memcpy(&w, p + i, 2);
		sum += w;
	}
	if (i < len) {
		uint16_t w = 0;

		memcpy(&w, p + i, 1);	/* the odd byte, padded with zero in memory order */
		sum += w;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * Check a guest frame's header; complete a partial checksum in place.
 * NULL when the frame may go, else why not.
 */
static const char *tx_prepare(struct net_core *c, const struct net_hdr *h, uint8_t *frame, size_t len)
{
	if (h->gso_type != NET_HDR_GSO_NONE)
		return "segmentation offload was not negotiated";
	if (h->flags & NET_HDR_F_NEEDS_CSUM) {
		size_t start = h->csum_start, off = h->csum_offset;
		uint16_t sum;

		if (!c->host_csum)
			return "checksum offload was not negotiated";
		if (start >= len || off > len - start || len - start - off < 2)
			return "checksum position outside the frame";
		sum = ~net_csum_fold(frame + start, len - start);
		memcpy(frame + start + off, &sum, 2);
	}
	return NULL;
}

static int tx_send(struct net_core *c, size_t len)
{
	int ret = c->backend ? c->backend->ops->send(c->backend, c->txbuf, len) : 0;

	if (ret == -EAGAIN) {
		c->tx_pending = len;
		c->stats.tx_blocked++;
		return ret;
	}
	if (ret < 0) {
		c->stats.tx_errors++;
		return 0;
	}
	c->stats.tx_frames++;
	c->stats.tx_bytes += len;
	return 0;
}

int net_core_tx(struct net_core *c)
{
	struct virtq_chain *ch = c->tx_chain;
	unsigned n;

	if (c->tx_pending || c->violation)
		return 0;
	for (n = 0; n < NET_TX_BUDGET; n++) {
		struct net_hdr h;
		const char *why;
		size_t len;
		int ret = virtq_pop(c->txq, c->mem, ch);

		if (ret < 0) {
			violation(c, "tx queue: malformed descriptor chain");
			return -EINVAL;
		}
		if (!ret)
			return 0;
		if (ch->out_len) {
			violation(c, "tx queue: chain with device-writable buffers");
			return -EINVAL;
		}
		len = ch->in_len;
		if (len < NET_HDR_SIZE + NET_ETH_HLEN || len - NET_HDR_SIZE > NET_MAX_FRAME) {
			virtq_push(c->txq, ch->head, 0);
			c->tx_used = true;
			tx_drop(c, len < NET_HDR_SIZE ? "shorter than the virtio-net header" :
				   len < NET_HDR_SIZE + NET_ETH_HLEN ? "shorter than an Ethernet header" :
				   "larger than the largest frame", len);
			continue;
		}
		len -= NET_HDR_SIZE;
		virtq_chain_read(ch, 0, &h, NET_HDR_SIZE);
		virtq_chain_read(ch, NET_HDR_SIZE, c->txbuf, len);
		/* Copied: the buffer goes back before the backend sees the frame. */
		virtq_push(c->txq, ch->head, 0);
		c->tx_used = true;
		why = tx_prepare(c, &h, c->txbuf, len);
		if (why) {
			tx_drop(c, why, len);
			continue;
		}
		if (tx_send(c, len) == -EAGAIN)
			return 0;
	}
	return 1;
}

int net_core_tx_resume(struct net_core *c)
{
	size_t len = c->tx_pending;

	if (!len)
		return net_core_tx(c);
	c->tx_pending = 0;
	if (tx_send(c, len) == -EAGAIN)
		return 0;
	return net_core_tx(c);
}

/* ---- receive ---- */

static int rx_pop(struct net_core *c, struct virtq_chain *ch)
{
	int ret = virtq_pop(c->rxq, c->mem, ch);

	if (ret < 0) {
		violation(c, "rx queue: malformed descriptor chain");
		return -EINVAL;
	}
	if (ret && ch->in_len) {
		violation(c, "rx queue: chain with device-readable buffers");
		return -EINVAL;
	}
	if (ret && ch->out_len < NET_HDR_SIZE) {
		violation(c, "rx queue: buffer smaller than the virtio-net header");
		return -EINVAL;
	}
	return ret;
}

static void rx_header(struct net_core *c, struct net_hdr *h, uint16_t nbufs)
{
	memset(h, 0, sizeof(*h));
	if (c->guest_csum && c->backend && c->backend->csum_valid)
		h->flags = NET_HDR_F_DATA_VALID;
	h->gso_type = NET_HDR_GSO_NONE;
	h->num_buffers = nbufs;
}

/* One frame into one chain (no mergeable buffers). */
static int rx_single(struct net_core *c, const void *frame, size_t len)
{
	struct virtq_chain *ch = c->rx_first;
	struct net_hdr h;
	int ret = rx_pop(c, ch);

	if (ret <= 0)
		return ret;
	if (ch->out_len - NET_HDR_SIZE < len) {
		virtq_unpop(c->rxq, 1);	/* a smaller frame may fit it */
		c->stats.rx_too_big++;
		return 1;
	}
	rx_header(c, &h, 1);
	virtq_chain_write(ch, 0, &h, NET_HDR_SIZE);
	virtq_chain_write(ch, NET_HDR_SIZE, frame, len);
	virtq_push(c->rxq, ch->head, NET_HDR_SIZE + len);
	return 1;
}

/*
 * One frame over as many chains as it needs (VIRTIO_NET_F_MRG_RXBUF); they
 * go back to the guest together, the header's num_buffers counting them.
 */
static int rx_merged(struct net_core *c, const void *frame, size_t len)
{
	const uint8_t *src = frame;
	struct net_hdr h;
	unsigned n;
	size_t done;
	int ret;

again:
	n = 0;
	done = 0;
	while (n == 0 || done < len) {
		struct virtq_chain *ch = n ? c->rx_chain : c->rx_first;
		size_t room, take;

		if (n == c->rxq->num) {	/* every buffer the guest can give is too small */
			virtq_unpop(c->rxq, n);
			c->stats.rx_too_big++;
			return 1;
		}
		ret = rx_pop(c, ch);
		if (ret < 0)
			return ret;
		if (!ret) {
			if (n && virtq_unpop(c->rxq, n))
				goto again;	/* more arrived while we looked */
			return 0;
		}
		room = n ? ch->out_len : ch->out_len - NET_HDR_SIZE;
		take = MIN(room, len - done);
		virtq_chain_write(ch, n ? 0 : NET_HDR_SIZE, src + done, take);
		c->used[n].id = ch->head;
		c->used[n].len = take + (n ? 0 : NET_HDR_SIZE);
		done += take;
		n++;
	}
	rx_header(c, &h, n);
	virtq_chain_write(c->rx_first, 0, &h, NET_HDR_SIZE);
	virtq_push_many(c->rxq, c->used, n);
	return 1;
}

/* 1: delivered (or dropped as too big), 0: no buffers now, -EINVAL: violation. */
static int rx_deliver(struct net_core *c, const void *frame, size_t len)
{
	uint64_t too_big = c->stats.rx_too_big;
	int ret;

	if (c->violation || !c->running || !c->rxq->ready)
		return 0;
	ret = c->mrg_rxbuf ? rx_merged(c, frame, len) : rx_single(c, frame, len);
	if (ret == 1 && c->stats.rx_too_big == too_big) {
		c->stats.rx_frames++;
		c->stats.rx_bytes += len;
		c->rx_used = true;
	}
	return ret;
}

void net_core_receive(struct net_core *c, const void *frame, size_t len)
{
	struct net_frame *f;

	if (!len || len > NET_MAX_FRAME) {
		c->stats.rx_too_big++;
		return;
	}
	if (!c->bl_count && rx_deliver(c, frame, len))
		return;		/* delivered, dropped, or a violation the caller handles */
	if (c->bl_count == NET_BACKLOG_FRAMES || c->bl_bytes + len > NET_BACKLOG_BYTES ||
	    !(f = malloc(sizeof(*f) + len))) {
		c->stats.rx_dropped++;
		return;
	}
	f->len = len;
	memcpy(f->data, frame, len);
	c->backlog[(c->bl_head + c->bl_count) % NET_BACKLOG_FRAMES] = f;
	c->bl_count++;
	c->bl_bytes += len;
	if (c->bl_bytes > NET_PAUSE_BYTES || c->bl_count > NET_BACKLOG_FRAMES / 2)
		set_paused(c, true);
}

int net_core_rx(struct net_core *c)
{
	while (c->bl_count) {
		struct net_frame *f = c->backlog[c->bl_head];
		int ret = rx_deliver(c, f->data, f->len);

		if (ret < 0)
			return ret;
		if (!ret)
			break;
		c->backlog[c->bl_head] = NULL;
		c->bl_head = (c->bl_head + 1) % NET_BACKLOG_FRAMES;
		c->bl_count--;
		c->bl_bytes -= f->len;
		free(f);
	}
	if (c->paused && c->bl_bytes < NET_RESUME_BYTES && c->bl_count < NET_BACKLOG_FRAMES / 4)
		set_paused(c, false);
	return c->violation ? -EINVAL : 0;
}
