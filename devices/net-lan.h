/*
 * A port on a container network (vmm network create; docs/network.md).
 * There is no switch process: each vmm is its own port. The guest's frames
 * reach the other guests of the network over unix datagram sockets, one per
 * guest, named by its MAC in the network's folder (a frame for a MAC goes
 * to that socket, a broadcast to every socket). Frames for the gateway go
 * out through a libslirp NAT of this port's own, which also serves the
 * published ports; an internal network has none and no way out. The
 * gateway answers DNS queries for the network's names itself (resolve),
 * and forwards the rest to the host's resolvers through slirp.
 */
#ifndef VMM_DEVICES_NET_LAN_H
#define VMM_DEVICES_NET_LAN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct error;
struct event_loop;
struct net_backend;

struct net_lan_config {
	const char *dir;		/* the network's port folder (exists, ours) */
	uint8_t mac[6];			/* the guest's: its socket's name, and the only source it may use */
	struct in_addr ip, mask, gateway;	/* network order */
	bool internal;			/* no NAT out, no published ports */
	/* A name (lower case) of the network to its address: true when known. */
	bool (*resolve)(void *opaque, const char *name, struct in_addr *out);
	void *resolve_opaque;
};

/* 0, or -errno with e. */
int net_lan_create(struct event_loop *loop, const struct net_lan_config *c, struct net_backend **out,
		   struct error *e);

/* Publish host_addr:host_port on the guest's guest_port (net_slirp_forward). -ENODEV when internal. */
int net_lan_forward(struct net_backend *b, bool udp, struct in_addr host_addr, uint16_t host_port,
		    uint16_t guest_port);

#endif
