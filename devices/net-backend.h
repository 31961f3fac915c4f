/*
 * What carries a virtio-net device's frames to the world: libslirp
 * (devices/net-slirp.c) or a tap device (devices/net-tap.c). Frames are
 * plain Ethernet (no virtio header, complete checksums). Everything runs on
 * the event loop thread: the backend calls its peer (the device) from its
 * loop handlers, the device calls the backend from its queue handlers, and
 * each side must cope with being called back from inside its own call.
 */
#ifndef VMM_DEVICES_NET_BACKEND_H
#define VMM_DEVICES_NET_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_backend;

/* The device side, set by the device before the loop runs. */
struct net_backend_peer {
	/* A frame for the guest; the device copies it (or drops and counts it). */
	void (*receive)(void *opaque, const void *frame, size_t len);
	/* send() returned -EAGAIN earlier and may now succeed. */
	void (*writable)(void *opaque);
	void *opaque;
};

struct net_backend_ops {
	/*
	 * A frame from the guest: 0 when taken (or dropped by the backend for
	 * its own reasons), -EAGAIN when full: the device keeps the frame, stops
	 * taking more from the guest and retries after peer.writable().
	 */
	int (*send)(struct net_backend *b, const void *frame, size_t len);
	/* The device holds too many frames the guest has not taken: stop (true) or resume. */
	void (*pause_rx)(struct net_backend *b, bool paused);
	void (*destroy)(struct net_backend *b);
};

struct net_backend {
	const struct net_backend_ops *ops;
	struct net_backend_peer peer;
	const char *name;	/* "slirp", "tap" */
	uint16_t mtu;		/* largest IP packet the backend carries */
	bool csum_valid;	/* frames to the guest carry verified checksums */
};

static inline void net_backend_deliver(struct net_backend *b, const void *frame, size_t len)
{
	if (b->peer.receive)
		b->peer.receive(b->peer.opaque, frame, len);
}

static inline void net_backend_destroy(struct net_backend *b)
{
	if (b)
		b->ops->destroy(b);
}

#endif
