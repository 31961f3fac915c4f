/*
 * User-mode networking with libslirp, inside the VMM and without
 * privileges: the guest is 10.0.2.15/24 behind a virtual router 10.0.2.2
 * that reaches the host's own addresses (its loopback included), with a DNS
 * forwarder at 10.0.2.3 that asks the host's resolvers. Guest connections
 * become ordinary host sockets; host ports can be forwarded to the guest.
 *
 * libslirp's sockets are watched through a private epoll set registered
 * in the event loop (refilled from slirp_pollfds_fill whenever slirp may
 * want other events), its protocol timers through timerfds: no polling
 * thread and no busy loop.
 */
#ifndef VMM_DEVICES_NET_SLIRP_H
#define VMM_DEVICES_NET_SLIRP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_loop;
struct net_backend;

#define SLIRP_NET	"10.0.2.0"
#define SLIRP_GUEST	"10.0.2.15"
#define SLIRP_GUEST_CIDR "10.0.2.15/24"
#define SLIRP_GATEWAY	"10.0.2.2"
#define SLIRP_DNS	"10.0.2.3"
#define SLIRP_MTU	65520	/* libslirp's largest, as slirp4netns uses: fewer, larger frames */

struct egress_rule;

/* The virtual network's addresses, when not the default 10.0.2.0/24 above. */
struct slirp_addrs {
	struct in_addr net, mask;
	struct in_addr host;	/* the router: the host's addresses */
	struct in_addr guest;	/* where published ports lead */
	struct in_addr dns;	/* the DNS forwarder (may be the router itself) */
};

/*
 * 0 or -errno. addrs: NULL for the default network. rules (n of them,
 * copied): the egress allow-list (net-egress.h); none: the guest may reach
 * anything slirp reaches.
 */
int net_slirp_create(struct event_loop *loop, const struct slirp_addrs *addrs, bool host_loopback,
		     const struct egress_rule *rules, size_t n, struct net_backend **out);

/*
 * Forward host_addr:host_port (TCP or UDP) to the guest's guest_port. The
 * port must be free: callers check first to explain why when it is not.
 * 0 or -EADDRINUSE (or another -errno).
 */
int net_slirp_forward(struct net_backend *b, bool udp, struct in_addr host_addr, uint16_t host_port,
		      uint16_t guest_port);

#endif
