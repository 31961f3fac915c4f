/*
 * virtio-net (virtio spec 5.1) over virtio-mmio: one receive and one
 * transmit queue, a MAC address, link status, the backend's MTU, mergeable
 * receive buffers and checksum offload both ways (the device completes
 * partial checksums itself, so backends always see whole frames). No
 * segmentation offloads: with slirp the link MTU is 65520, which gives the
 * guest's TCP large frames without them.
 *
 * Frames come and go through a struct net_backend (devices/net-backend.h);
 * the device owns it from virtio_net_create on.
 */
#ifndef VMM_DEVICES_VIRTIO_NET_H
#define VMM_DEVICES_VIRTIO_NET_H

#include <stdint.h>

#include "devices/virtio/mmio.h"
#include "devices/virtio/net-core.h"

struct net_backend;
struct vm;
struct virtio_net;

struct virtio_net_config {
	struct virtio_mmio_config mmio;
	uint8_t mac[6];
	struct net_backend *backend;	/* owned by the device from now on, even on failure */
};

/* Add the device before the machine boots. 0 or -errno. */
int virtio_net_create(struct vm *vm, const struct virtio_net_config *cfg, struct virtio_net **out);
/* After the event loop has stopped: the device and its backend. */
void virtio_net_destroy(struct virtio_net *n);
struct virtio_mmio *virtio_net_transport(struct virtio_net *n);
/* Its counters so far (any thread). */
void virtio_net_stats(struct virtio_net *n, struct net_stats *out);

#endif
