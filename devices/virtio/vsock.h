/*
 * virtio-vsock: a userspace device (no vhost) giving the guest AF_VSOCK
 * stream sockets to the host (CID 2). Host endpoints, all served from the
 * event loop (docs/vsock.md):
 *  - in-process listeners: VMM code listens on a host port and receives each
 *    guest connection as a socket file descriptor (vsock_listen);
 *  - a unix socket PATH (uds_path): host programs connect, send
 *    "CONNECT <guest port>\n" and get "OK <host port>\n" (Firecracker's
 *    protocol); guest connections to host port P go to the unix socket
 *    PATH_P when it exists.
 * Guest connections to any other host port are refused with RST.
 */
#ifndef VMM_DEVICES_VIRTIO_VSOCK_H
#define VMM_DEVICES_VIRTIO_VSOCK_H

#include <stdint.h>

#include "devices/virtio/mmio.h"

struct error;
struct vm;
struct vsock;

#define VSOCK_DEFAULT_CID	3

struct vsock_config {
	struct virtio_mmio_config mmio;
	uint64_t guest_cid;	/* 3 .. 0xfffffffe; 0 means VSOCK_DEFAULT_CID */
	const char *uds_path;	/* guest connections to host port P go to PATH_P; NULL: none */
};

/*
 * Called on the event loop thread (no device lock held) with a new guest
 * connection to a listened port: fd is a non-blocking, close-on-exec stream
 * socket the callee now owns; closing it closes the guest's connection.
 */
typedef void (*vsock_accept_fn)(void *opaque, int fd, uint32_t guest_port);

/* Add the device before the machine boots. 0 or -errno (-EINVAL: a bad CID). */
int vsock_create(struct vm *vm, const struct vsock_config *cfg, struct vsock **out);
/*
 * Listen on cfg.uds_path for host programs (the CONNECT handshake). 0 or
 * -errno with e saying what is wrong with the path.
 */
int vsock_serve_uds(struct vsock *v, struct error *e);
/* After the event loop has stopped. */
void vsock_destroy(struct vsock *v);
struct virtio_mmio *vsock_transport(struct vsock *v);

/*
 * Accept guest connections to host port `port` (loop thread or before boot).
 * 0, -EADDRINUSE, or -ENOSPC (too many listeners).
 */
int vsock_listen(struct vsock *v, uint32_t port, vsock_accept_fn fn, void *opaque);
void vsock_unlisten(struct vsock *v, uint32_t port);

/*
 * Tell the guest its transport was reset (VIRTIO_VSOCK_EVENT_TRANSPORT_RESET,
 * e.g. after a snapshot restore): the guest drops all its connections, and so
 * do we. Loop thread.
 */
void vsock_transport_reset(struct vsock *v);

#endif
