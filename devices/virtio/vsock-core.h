/*
 * virtio-vsock connections, without the virtqueues (virtio spec 5.10): the
 * packet header, its validation, and the stream connection state machine
 * with credit-based flow control in both directions. Host endpoints are file
 * descriptors served from the event loop. vsock.c feeds it the guest's tx
 * packets and drains the packets it has for the guest's rx queue; unit tests
 * drive it the same way without a VM.
 *
 * Locking: every function runs on the event loop thread with *lock held,
 * except vsock_core_request_reset (any thread, lock held).
 */
#ifndef VMM_DEVICES_VIRTIO_VSOCK_CORE_H
#define VMM_DEVICES_VIRTIO_VSOCK_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio/vsock.h"

struct event_loop;

#define VSOCK_HOST_CID		2
#define VSOCK_HDR_SIZE		44
#define VSOCK_TYPE_STREAM	1
#define VSOCK_MAX_PKT		(64 * 1024)	/* payload bytes in one packet, either way */
#define VSOCK_BUF_ALLOC		(64 * 1024)	/* our receive buffer per connection */
#define VSOCK_MAX_CONNS		128
#define VSOCK_MAX_LISTENERS	16
#define VSOCK_MAX_RST		64		/* RSTs for unknown connections awaiting rx buffers */
#define VSOCK_HOST_PORT_BASE	0x40000000u	/* ports we pick for host-initiated connections */

enum vsock_op {
	VSOCK_OP_INVALID,
	VSOCK_OP_REQUEST,
	VSOCK_OP_RESPONSE,
	VSOCK_OP_RST,
	VSOCK_OP_SHUTDOWN,
	VSOCK_OP_RW,
	VSOCK_OP_CREDIT_UPDATE,
	VSOCK_OP_CREDIT_REQUEST,
};

#define VSOCK_SHUTDOWN_RCV	1
#define VSOCK_SHUTDOWN_SEND	2

/* struct virtio_vsock_hdr, decoded to host byte order. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags;
	uint32_t buf_alloc, fwd_cnt;
};

void vsock_hdr_decode(const uint8_t raw[VSOCK_HDR_SIZE], struct vsock_hdr *h);
void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t raw[VSOCK_HDR_SIZE]);

enum vsock_verdict {
	VSOCK_PKT_OK,
	VSOCK_PKT_DROP,		/* ignore it (wrong addresses, or an RST) */
	VSOCK_PKT_RST,		/* refuse it with an RST to its sender */
};

/*
 * Check a guest tx header; payload_avail is how many bytes follow it in the
 * chain. Sets *why for the log on anything but VSOCK_PKT_OK.
 */
enum vsock_verdict vsock_hdr_check(const struct vsock_hdr *h, uint64_t guest_cid,
				   uint32_t payload_avail, const char **why);

struct vsock_conn;

struct vsock_listener {
	uint32_t port;
	vsock_accept_fn fn;
	void *opaque;
};

struct vsock_accept {
	vsock_accept_fn fn;
	void *opaque;
	int fd;
	uint32_t guest_port;
};

struct vsock_core_config {
	const char *name;		/* for log lines */
	struct event_loop *loop;
	pthread_mutex_t *lock;		/* held around every core call */
	uint64_t guest_cid;
	const char *uds_path;		/* guest->host forwarding to PATH_<port>; NULL: none */
	/* The core has packets for the guest: fill rx buffers (loop thread, lock held). */
	void (*wake)(void *opaque);
	void *opaque;
};

struct vsock_core {
	struct vsock_core_config cfg;
	struct vsock_conn *conns;
	unsigned nconns;
	struct vsock_conn *ready_head, *ready_tail;	/* connections with packets to send */
	struct vsock_hdr rst[VSOCK_MAX_RST];		/* ring of RSTs without a connection */
	unsigned rst_head, rst_count;
	struct vsock_listener listeners[VSOCK_MAX_LISTENERS];
	unsigned nlisteners;
	struct vsock_accept accepts[VSOCK_MAX_LISTENERS];	/* callbacks run after unlocking */
	unsigned naccepts;
	uint32_t next_host_port;
	int work_fd;			/* eventfd: deferred accepts and resets */
	bool reset_pending;
	bool warned;
};

int vsock_core_init(struct vsock_core *c, const struct vsock_core_config *cfg);
void vsock_core_destroy(struct vsock_core *c);

/* A validated packet from the guest (payload holds h->len bytes). */
void vsock_core_guest_packet(struct vsock_core *c, const struct vsock_hdr *h, const void *payload);
/* A packet vsock_hdr_check refused: log once, answer RST where due. */
void vsock_core_guest_bad(struct vsock_core *c, const struct vsock_hdr *h,
			  enum vsock_verdict v, const char *why);
/*
 * The next packet for the guest's rx queue, with at most cap payload bytes:
 * 1 with *h and payload filled, 0 when there is nothing to send.
 */
int vsock_core_next_rx(struct vsock_core *c, struct vsock_hdr *h, void *payload, uint32_t cap);
bool vsock_core_has_rx(const struct vsock_core *c);

int vsock_core_listen(struct vsock_core *c, uint32_t port, vsock_accept_fn fn, void *opaque);
void vsock_core_unlisten(struct vsock_core *c, uint32_t port);
/*
 * A host-initiated connection to guest_port over fd (the core owns fd from
 * now on). uds: answer "OK <host port>\n" on fd once the guest accepts.
 * 0 or -errno (fd closed).
 */
int vsock_core_connect(struct vsock_core *c, int fd, uint32_t guest_port, bool uds);
/* Drop every connection (host fds closed, no packets to the guest). */
void vsock_core_reset_all(struct vsock_core *c);
/* The same from any thread: done on the loop soon (lock held by the caller). */
void vsock_core_request_reset(struct vsock_core *c);
/* Run deferred work now (the work eventfd's handler; lock NOT held). */
void vsock_core_run_deferred(struct vsock_core *c);

#endif
