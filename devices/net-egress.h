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
 * than a bare SYN opens nothing and is let through: on a network whose gateway
 * is also its DNS, a published port's connections use that address.
 */
bool egress_dns_abuse(uint32_t dns, const uint8_t *frame, size_t len);

#endif
