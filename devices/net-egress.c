#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/net-egress.h"
#include "devices/net-slirp.h"
#include "vmm/base/error.h"

#define ETH_HLEN	14
#define ETH_P_IPV4	0x0800
#define ETH_P_ARP	0x0806
#define TCP_SYN		0x02
#define TCP_ACK		0x10

static int bad(struct error *e, const char *s, const char *why)
{
	return err_set(e, -EINVAL, "--egress-allow %s: %s (want CIDR[:PORT[-PORT]][/tcp|/udp] or dns)", s, why);
}

static int parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned long v = 0;

	if (!len || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* "LO[-HI][/tcp|/udp]" */
static int parse_ports(const char *s, struct egress_rule *r)
{
	const char *slash = strchr(s, '/'), *end = slash ? slash : s + strlen(s);
	const char *dash = memchr(s, '-', (size_t)(end - s));

	if (slash) {
		if (!strcmp(slash, "/tcp"))
			r->proto = IPPROTO_TCP;
		else if (!strcmp(slash, "/udp"))
			r->proto = IPPROTO_UDP;
		else
			return -1;
	}
	if (parse_port(s, (size_t)((dash ? dash : end) - s), &r->port_lo))
		return -1;
	r->port_hi = r->port_lo;
	if (dash && parse_port(dash + 1, (size_t)(end - dash - 1), &r->port_hi))
		return -1;
	return r->port_hi < r->port_lo ? -1 : 0;
}

int egress_rule_parse(const char *s, struct egress_rule *r, struct error *e)
{
	const char *colon, *slash;
	char addr[32];
	struct in_addr in;
	size_t alen;
	unsigned long bits = 32;
	char *end;

	*r = (struct egress_rule){ 0 };
	if (!strcmp(s, "dns"))
		s = SLIRP_DNS "/32:53";
	colon = strchr(s, ':');
	alen = colon ? (size_t)(colon - s) : strlen(s);
	if (alen >= sizeof(addr))
		return bad(e, s, "not an IPv4 address or CIDR");
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	slash = strchr(addr, '/');
	if (slash) {
		bits = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end || bits > 32)
			return bad(e, s, "a prefix length from 0 to 32");
		addr[slash - addr] = '\0';
	}
	if (inet_pton(AF_INET, addr, &in) != 1)
		return bad(e, s, "not an IPv4 address or CIDR");
	r->mask = bits ? 0xffffffffu << (32 - bits) : 0;
	r->net = ntohl(in.s_addr) & r->mask;
	if (colon && parse_ports(colon + 1, r))
		return bad(e, s, "ports are 1 to 65535, LO-HI with LO <= HI");
	return 0;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A TCP segment that would make slirp connect somewhere: a SYN without ACK. */
static bool tcp_opens(const uint8_t *tcp)
{
	return (tcp[13] & TCP_SYN) && !(tcp[13] & TCP_ACK);
}

static bool udp_published(const uint16_t *ports, size_t n, uint16_t sport)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i] == sport)
			return true;
	return false;
}

bool egress_dns_abuse(uint32_t dns, const uint8_t *frame, size_t len)
{
	const uint8_t *ip = frame + ETH_HLEN;
	size_t ihl;

	if (len < ETH_HLEN + 20 || be16(frame + 12) != ETH_P_IPV4)
		return false;
	if (be32(ip + 16) != dns)
		return false;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ip[9] == IPPROTO_ICMP)
		return false;
	if ((ip[9] != IPPROTO_TCP && ip[9] != IPPROTO_UDP) || (be16(ip + 6) & 0x1fff) || ihl < 20 ||
	    len < ETH_HLEN + ihl + 4)
		return true;	/* another protocol, a later fragment (no ports) or a cut header */
	if (be16(ip + ihl + 2) == 53)
		return false;
	/*
	 * slirp opens a connection to the resolver only for a SYN; any other segment belongs
	 * to one it has (a published port's, on a network whose gateway is also its DNS) or is
	 * answered with a reset.
	 */
	if (ip[9] == IPPROTO_TCP)
		return len < ETH_HLEN + ihl + 14 || tcp_opens(ip + ihl);
	return true;
}

bool egress_to_loopback(uint32_t net, uint32_t mask, uint32_t dns, const struct udp_peer *peers, size_t npeers,
			const uint8_t *frame, size_t len)
{
	const uint8_t *ip = frame + ETH_HLEN, *l4;
	uint32_t dst;
	size_t ihl;

	if (len < ETH_HLEN + 20 || be16(frame + 12) != ETH_P_IPV4)
		return false;
	dst = be32(ip + 16);
	if ((dst >> 24) == 127 || (dst >> 24) == 0)
		return true;	/* the host's loopback named outright: slirp would connect there as asked */
	if ((dst & mask) != net || dst == dns)
		return false;	/* not slirp's network, or its resolver (egress_dns_abuse) */
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	l4 = ip + ihl;
	if (ip[9] == IPPROTO_ICMP)
		return false;	/* echo: slirp answers for its router, and a ping reaches no service */
	if ((ip[0] >> 4) != 4 || ihl < 20 || (be16(ip + 6) & 0x3fff) ||
	    (ip[9] != IPPROTO_TCP && ip[9] != IPPROTO_UDP) || len < ETH_HLEN + ihl + (ip[9] == IPPROTO_TCP ? 14 : 4))
		return true;	/* another protocol, a fragment or a cut header */
	if (ip[9] == IPPROTO_TCP)
		return tcp_opens(l4);
	for (size_t i = 0; i < npeers; i++)
		if (peers[i].port && peers[i].addr == dst && peers[i].port == be16(l4 + 2) &&
		    peers[i].guest_port == be16(l4))
			return false;
	return true;
}

void egress_note_peer(struct udp_peer *peers, size_t npeers, size_t *next, uint32_t net, uint32_t mask,
		      const uint16_t *udp_ports, size_t nudp, const uint8_t *frame, size_t len)
{
	const uint8_t *ip = frame + ETH_HLEN, *l4;
	struct udp_peer p;
	size_t ihl;

	if (!npeers || !nudp || len < ETH_HLEN + 20 || be16(frame + 12) != ETH_P_IPV4 || ip[9] != IPPROTO_UDP)
		return;	/* every frame to the guest comes here: no published UDP port, nothing to note */
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	l4 = ip + ihl;
	if (ihl < 20 || (be16(ip + 6) & 0x1fff) || len < ETH_HLEN + ihl + 4)
		return;
	p.addr = be32(ip + 12);
	p.port = be16(l4);
	p.guest_port = be16(l4 + 2);
	if (!p.port || (p.addr & mask) != net || !udp_published(udp_ports, nudp, p.guest_port))
		return;	/* port 0 marks a free slot */
	for (size_t i = 0; i < npeers; i++)
		if (!memcmp(&peers[i], &p, sizeof(p)))
			return;
	peers[*next % npeers] = p;
	*next = (*next + 1) % npeers;
}

bool egress_allows(const struct egress_rule *rules, size_t n, const uint16_t *udp_ports, size_t nudp,
		   const uint8_t *frame, size_t len)
{
	const uint8_t *ip, *l4;
	size_t ihl, total;
	uint32_t dst;
	uint8_t proto;

	if (!n)
		return true;
	if (len < ETH_HLEN)
		return false;
	if (be16(frame + 12) == ETH_P_ARP)
		return true;
	if (be16(frame + 12) != ETH_P_IPV4 || len < ETH_HLEN + 20)
		return false;
	ip = frame + ETH_HLEN;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	total = be16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || total > len - ETH_HLEN)
		return false;
	if (be16(ip + 6) & 0x3fff)	/* more fragments, or an offset */
		return false;
	proto = ip[9];
	dst = be32(ip + 16);
	l4 = ip + ihl;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		uint16_t sport, dport;

		if (total - ihl < (proto == IPPROTO_TCP ? 20u : 8u))
			return false;
		sport = be16(l4);
		dport = be16(l4 + 2);
		if (proto == IPPROTO_TCP && !tcp_opens(l4))
			return true;	/* opens nothing: slirp resets what it did not open */
		if (proto == IPPROTO_UDP && udp_published(udp_ports, nudp, sport))
			return true;
		for (size_t i = 0; i < n; i++)
			if ((dst & rules[i].mask) == rules[i].net && (!rules[i].proto || rules[i].proto == proto) &&
			    (!rules[i].port_lo || (dport >= rules[i].port_lo && dport <= rules[i].port_hi)))
				return true;
		return false;
	}
	if (proto == IPPROTO_ICMP)
		for (size_t i = 0; i < n; i++)
			if ((dst & rules[i].mask) == rules[i].net && !rules[i].port_lo)
				return true;
	return false;
}
