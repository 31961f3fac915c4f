/*
 * virtio-net queue work without the transport: guest frames out of the
 * transmit queue into a backend, backend frames into the receive queue
 * (mergeable buffers or one buffer per frame), a bounded backlog between
 * them, and counters for everything dropped. No KVM and no locking here:
 * devices/virtio/net.c calls it with the device lock held, on the loop
 * thread; unit tests and fuzzers call it on plain guest memory.
 *
 * The guest is hostile: a malformed descriptor chain or a buffer the spec
 * forbids sets `violation` (the device then goes to NEEDS_RESET); a bad
 * frame (short, oversized, bad header) is dropped and counted. Nothing the
 * guest writes can make this code block, loop without bound or allocate
 * without bound.
 */
#ifndef VMM_DEVICES_VIRTIO_NET_CORE_H
#define VMM_DEVICES_VIRTIO_NET_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/queue.h"

struct guest_mem;
struct net_backend;

#define NET_HDR_SIZE		12	/* struct virtio_net_hdr_v1, num_buffers included */
#define NET_ETH_HLEN		14
#define NET_MAX_FRAME		65550	/* Ethernet bytes, the spec's 65562 minus the header */
#define NET_TX_BUDGET		256	/* chains per kick before yielding to the loop */
#define NET_BACKLOG_FRAMES	512	/* frames held while the guest has no rx buffers */
#define NET_BACKLOG_BYTES	(4u << 20)
#define NET_PAUSE_BYTES		(1u << 20)	/* ask the backend to stop above this */
#define NET_RESUME_BYTES	(256u << 10)	/* and to go on below this */

/* virtio_net_hdr flags and GSO types */
#define NET_HDR_F_NEEDS_CSUM	1
#define NET_HDR_F_DATA_VALID	2
#define NET_HDR_GSO_NONE	0

struct net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

struct net_stats {
	uint64_t rx_frames, rx_bytes;	/* delivered to the guest */
	uint64_t rx_dropped;		/* the backlog was full: the guest was not taking frames */
	uint64_t rx_too_big;		/* larger than the guest's receive buffers */
	uint64_t tx_frames, tx_bytes;	/* handed to the backend */
	uint64_t tx_malformed;		/* bad header, runt or oversized frame: dropped */
	uint64_t tx_errors;		/* the backend failed them */
	uint64_t tx_blocked;		/* times the backend was full */
};

struct net_frame {
	size_t len;
	uint8_t data[];
};

struct net_core {
	const char *name;		/* for log lines */
	const struct guest_mem *mem;
	struct virtq *rxq, *txq;
	struct net_backend *backend;
	/* Negotiated features (net_core_set_features). */
	bool mrg_rxbuf;			/* VIRTIO_NET_F_MRG_RXBUF */
	bool guest_csum;		/* VIRTIO_NET_F_GUEST_CSUM: we may set DATA_VALID */
	bool host_csum;			/* VIRTIO_NET_F_CSUM: the guest may send NEEDS_CSUM */
	bool running;			/* the driver is ready: rx buffers may be used */

	/* Frames from the backend the guest has no buffers for yet: a ring. */
	struct net_frame *backlog[NET_BACKLOG_FRAMES];
	unsigned bl_head, bl_count;
	size_t bl_bytes;
	bool paused;			/* we asked the backend to stop */

	/* A guest frame the backend could not take yet (-EAGAIN). */
	uint8_t *txbuf;			/* NET_MAX_FRAME bytes */
	size_t tx_pending;		/* its length, 0: none */

	struct virtq_chain *tx_chain, *rx_first, *rx_chain;
	struct vring_used_elem used[VIRTQ_MAX_SIZE];

	struct net_stats stats;
	const char *violation;		/* set when the guest broke the protocol */
	bool rx_used, tx_used;		/* chains went back: the guest may want an interrupt */
	bool warned;			/* the first dropped guest frame was logged */
};

int net_core_init(struct net_core *c, const char *name, const struct guest_mem *mem,
		  struct virtq *rxq, struct virtq *txq, struct net_backend *backend);
void net_core_free(struct net_core *c);
void net_core_set_features(struct net_core *c, bool mrg_rxbuf, bool guest_csum, bool host_csum);
/* The driver reset the device: forget its chains and any violation; not running until activated. */
void net_core_reset(struct net_core *c);

/*
 * Take up to NET_TX_BUDGET frames from the transmit queue to the backend.
 * 1: more may be waiting (come back later), 0: done or blocked by the
 * backend, -EINVAL: `violation` is set.
 */
int net_core_tx(struct net_core *c);
/* The backend can take frames again: send the held one, then go on with the queue. */
int net_core_tx_resume(struct net_core *c);

/* A frame from the backend: into the guest's buffers, else the backlog, else dropped. */
void net_core_receive(struct net_core *c, const void *frame, size_t len);
/* Move backlog frames into new receive buffers. 0, or -EINVAL (`violation`). */
int net_core_rx(struct net_core *c);

/* The 16-bit ones' complement checksum of data, folded (not inverted). */
uint16_t net_csum_fold(const uint8_t *data, size_t len);

#endif
