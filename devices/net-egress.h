/*
 * An egress allow-list for user-mode networking (`vmm run --egress-allow`):
 * the guest's frames are checked before libslirp sees them, so a CI job
 * reaches only the addresses and ports it was given. libslirp itself can
 * only refuse everything (`restricted`) or the host's loopback.
 *
 * Let through: ARP; IPv4 TCP, UDP and ICMP to an address a rule holds (TCP
 * and UDP on a port it holds, ICMP only for a rule without ports); TCP
 * segments that open no connection (slirp answers those of no connection
 * it made with a reset, so they reach nobody); and UDP from a published
 * port (the answers of -p ...:PORT/udp). Dropped: everything else, IPv6 and
 * IPv4 fragments included (a later fragment has no ports to check).
 */
#ifndef VMM_DEVICES_NET_EGRESS_H
#define VMM_DEVICES_NET_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;

#define EGRESS_MAX_RULES	64

struct egress_rule {
	uint32_t net, mask;		/* host byte order */
	uint16_t port_lo, port_hi;	/* 0, 0: every port */
	uint8_t proto;			/* 0: TCP and UDP; else IPPROTO_TCP or IPPROTO_UDP */
};

/*
 * "CIDR[:PORT[-PORT]][/tcp|/udp]" (an address alone is a /32), or "dns":
 * slirp's resolver, 10.0.2.3 port 53. 0 or -EINVAL with e.
 */
int egress_rule_parse(const char *s, struct egress_rule *r, struct error *e);

/*
 * Whether the Ethernet frame may leave. n == 0: no list, everything may.
 * udp_ports: the guest's published UDP ports (nudp of them).
 */
bool egress_allows(const struct egress_rule *rules, size_t n, const uint16_t *udp_ports, size_t nudp,
		   const uint8_t *frame, size_t len);

/*
 * Is the frame IPv4 for dns (host byte order) and anything but DNS (TCP or
 * UDP port 53)? libslirp sends every port of its DNS forwarder's address to
 * the host's resolver: when that is a loopback address (127.0.0.53), this
 * would open the host's loopback services to the guest. A TCP segment other
 * than a SYN opens nothing and is let through: on a network whose gateway is
 * also its DNS, a published port's connections use that address.
 */
bool egress_dns_abuse(uint32_t dns, const uint8_t *frame, size_t len);

/* A client that wrote to a published UDP port, as slirp shows it to the guest (host order). */
struct udp_peer {
	uint32_t addr;
	uint16_t port, guest_port;
};

/*
 * The host's loopback, kept closed here rather than by libslirp: its switch
 * (disable_host_loopback) also drops a published UDP port's answers to a
 * client on the host's loopback. To slirp, every address of its network
 * (net/mask, host order) but its resolver's (dns) is the host's loopback;
 * and a frame for 127.0.0.0/8 or 0.0.0.0/8 itself, which slirp would send
 * there as it is, is always refused. Is the frame for one of them, and able
 * to reach a service there? A TCP
 * segment other than a SYN opens nothing, and a UDP datagram may answer one
 * of peers (from the port it wrote to, to its address and port); ICMP (echo)
 * reaches no service; everything else (a SYN, other UDP, fragments, other
 * protocols) is refused.
 */
bool egress_to_loopback(uint32_t net, uint32_t mask, uint32_t dns, const struct udp_peer *peers, size_t npeers,
			const uint8_t *frame, size_t len);

/*
 * A frame slirp gives the guest: a UDP datagram from slirp's network to one
 * of the published udp_ports is a peer, kept in the ring peers (npeers
 * slots, *next the one to fill).
 */
void egress_note_peer(struct udp_peer *peers, size_t npeers, size_t *next, uint32_t net, uint32_t mask,
		      const uint16_t *udp_ports, size_t nudp, const uint8_t *frame, size_t len);

#endif
