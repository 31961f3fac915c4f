/* The unix socket front end of virtio-vsock: CONNECT <port> handshakes (vsock-uds.c). */
#ifndef VMM_DEVICES_VIRTIO_VSOCK_UDS_H
#define VMM_DEVICES_VIRTIO_VSOCK_UDS_H

#include <stdint.h>

struct error;
struct vsock_core;
struct vsock_uds;

/* Listen on the unix socket path (a stale socket file is replaced). 0 or -errno with e. */
int vsock_uds_create(struct vsock_core *core, const char *path, struct vsock_uds **out,
		     struct error *e);
void vsock_uds_destroy(struct vsock_uds *u);
/* "CONNECT <port>" without its newline: 0 with *port set, or -EINVAL. */
int vsock_uds_parse_connect(const char *line, uint32_t *port);

#endif
