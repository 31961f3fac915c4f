#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "devices/net-dns.h"
#include "devices/virtio/net-core.h"

#define ETH_HLEN	14
#define IP_HLEN		20
#define UDP_HLEN	8
#define DNS_HLEN	12
#define DNS_PORT	53
#define DNS_TTL		0	/* names follow containers that restart with a new address */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* The question's name: plain labels only (no compression), at most 255 bytes. */
static bool parse_name(const uint8_t *p, size_t len, size_t *pos, char *out)
{
	size_t o = 0;

	for (;;) {
		size_t l;

		if (*pos >= len)
			return false;
		l = p[(*pos)++];
		if (!l)
			break;
		if (l > 63 || *pos + l > len || o + l + 1 > 254)
			return false;
		if (o)
			out[o++] = '.';
		for (size_t i = 0; i < l; i++) {
			uint8_t c = p[*pos + i];

			if (c <= ' ' || c == '.' || c >= 0x7f)
				return false;
			out[o++] = (char)tolower(c);
		}
		*pos += l;
	}
	out[o] = '\0';
	return o > 0;
}

bool dns_query_parse(const uint8_t *f, size_t len, struct in_addr server, struct dns_query *q)
{
	const uint8_t *ip = f + ETH_HLEN, *udp, *dns;
	size_t ihl, ulen, pos;

	if (len < ETH_HLEN + IP_HLEN + UDP_HLEN + DNS_HLEN || get16(f + 12) != 0x0800)
		return false;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if ((ip[0] >> 4) != 4 || ihl < IP_HLEN || ip[9] != IPPROTO_UDP || (get16(ip + 6) & 0x3fff) ||
	    memcmp(ip + 16, &server, 4) || get16(ip + 2) < ihl + UDP_HLEN ||
	    ETH_HLEN + (size_t)get16(ip + 2) > len)
		return false;
	udp = ip + ihl;
	ulen = get16(udp + 4);
	if (get16(udp + 2) != DNS_PORT || ulen < UDP_HLEN + DNS_HLEN || ihl + ulen > get16(ip + 2))
		return false;
	dns = udp + UDP_HLEN;
	ulen -= UDP_HLEN;
	/* a query (QR 0), opcode QUERY, one question, no answers */
	if ((dns[2] & 0xf8) || get16(dns + 4) != 1 || get16(dns + 6) || get16(dns + 8))
		return false;
	pos = DNS_HLEN;
	if (!parse_name(dns, ulen, &pos, q->name) || pos + 4 > ulen || get16(dns + pos + 2) != 1 /* IN */)
		return false;
	q->type = get16(dns + pos);
	q->off = (size_t)(dns - f);
	q->len = pos + 4;
	return true;
}

size_t dns_reply(const uint8_t *f, const struct dns_query *q, const uint8_t server_mac[6],
		 struct in_addr server, int rcode, const struct in_addr *addr, uint8_t *out, size_t cap)
{
	const uint8_t *qip = f + ETH_HLEN, *qudp = qip + (size_t)(qip[0] & 0x0f) * 4;
	bool answer = addr && q->type == DNS_TYPE_A;
	size_t dlen = q->len + (answer ? 16 : 0), total = ETH_HLEN + IP_HLEN + UDP_HLEN + dlen;
	uint8_t *ip = out + ETH_HLEN, *udp = ip + IP_HLEN, *dns = udp + UDP_HLEN;
	uint16_t sum;

	if (total > cap)
		return 0;
	memcpy(out, f + 6, 6);		/* to the sender's MAC */
	memcpy(out + 6, server_mac, 6);
	put16(out + 12, 0x0800);
	memset(ip, 0, IP_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP_HLEN + UDP_HLEN + dlen));
	put16(ip + 6, 0x4000);		/* don't fragment */
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &server, 4);
	memcpy(ip + 16, qip + 12, 4);	/* to the sender's address */
	sum = (uint16_t)~net_csum_fold(ip, IP_HLEN);	/* over the header, its checksum field zero */
	memcpy(ip + 10, &sum, 2);
	put16(udp, DNS_PORT);
	memcpy(udp + 2, qudp, 2);	/* to the sender's port */
	put16(udp + 4, (uint16_t)(UDP_HLEN + dlen));
	put16(udp + 6, 0);		/* no checksum: allowed over IPv4 */
	memcpy(dns, f + q->off, q->len);
	dns[2] = 0x84 | (dns[2] & 0x01);	/* a reply, authoritative, RD as asked */
	dns[3] = 0x80 | (rcode & 0x0f);	/* recursion available */
	put16(dns + 6, answer ? 1 : 0);
	put16(dns + 8, 0);
	put16(dns + 10, 0);		/* no EDNS: its record is not copied back */
	if (answer) {
		uint8_t *a = dns + q->len;

		put16(a, 0xc000 | DNS_HLEN);	/* the question's name */
		put16(a + 2, DNS_TYPE_A);
		put16(a + 4, 1);
		memset(a + 6, 0, 4);
		a[9] = DNS_TTL;
		put16(a + 10, 4);
		memcpy(a + 12, addr, 4);
	}
	return total;
}
