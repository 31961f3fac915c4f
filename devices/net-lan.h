/*
 * A port on container networks (vmm network create; docs/network.md).
 * There is no switch process: each vmm is its own port. The guest's frames
 * reach the other guests of the network over unix datagram sockets, one per
 * guest, named by its MAC in the network's folder (a frame for a MAC goes
 * to that socket, a broadcast to every socket). Frames for the gateway go
 * out through a libslirp NAT of this port's own, which also serves the
 * published ports; an internal network has none and no way out. The
 * gateway answers DNS queries for the network's names itself (resolve),
 * and forwards the rest to the host's resolvers through slirp. One guest
 * may be on several networks through its one interface (an address on
 * each): it has a port in each folder, and a frame goes to the network of
 * the address it is for.
 */
#ifndef VMM_DEVICES_NET_LAN_H
#define VMM_DEVICES_NET_LAN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct error;
struct event_loop;
struct net_backend;

#define NET_LAN_MAX	8	/* networks one guest is on (MACHINE_LAN_MAX, vmm/machine/devices.c checks) */

/* One network: the guest's address on it, its gateway and its folder of ports. */
struct net_lan_config {
	const char *dir;		/* the network's port folder (exists, ours) */
	struct in_addr ip, mask, gateway;	/* network order */
	bool internal;			/* no NAT out, no published ports */
};

/*
 * A port with no network yet. mac: the guest's, its ports' name and the only
 * source it may use. resolve: a name (lower case) of any of its networks to
 * an address, true when known. 0, or -errno with e.
 */
int net_lan_create(struct event_loop *loop, const uint8_t mac[6],
		   bool (*resolve)(void *opaque, const char *name, struct in_addr *out), void *resolve_opaque,
		   struct net_backend **out, struct error *e);
/*
 * Put the guest on one more network (at boot, or while it runs: loop thread).
 * The first one attached publishes the ports. 0, or -errno with e.
 */
int net_lan_attach(struct net_backend *b, const struct net_lan_config *c, struct error *e);
/* Take it off the network of folder dir: 0, or -ENOENT. */
int net_lan_detach(struct net_backend *b, const char *dir);

/* Publish host_addr:host_port on the guest's guest_port through the first network's NAT. -ENODEV: none. */
int net_lan_forward(struct net_backend *b, bool udp, struct in_addr host_addr, uint16_t host_port,
		    uint16_t guest_port);

#endif
