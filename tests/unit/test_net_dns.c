/* The gateway's DNS on a container network (devices/net-dns.c): queries from hand-made frames, every cut. */
#include <arpa/inet.h>
#include <string.h>

#include "devices/net-dns.h"
#include "tests/unit/tap.h"

static const uint8_t guest_mac[6] = { 2, 0x42, 0xac, 0x11, 0, 2 };
static const uint8_t gw_mac[6] = { 0x52, 0x55, 10, 89, 0, 1 };

/* Ethernet + IPv4 + UDP to 10.89.0.1:53 from 10.89.0.2:40000, with a DNS query for name (labels). */
static size_t query(uint8_t *f, const char *name, uint16_t type, uint16_t id)
{
	uint8_t *ip = f + 14, *udp = ip + 20, *dns = udp + 8, *p = dns + 12;
	size_t dlen, total;

	memset(f, 0, 600);
	memcpy(f, gw_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	dns[0] = (uint8_t)(id >> 8), dns[1] = (uint8_t)id;
	dns[2] = 0x01;		/* RD */
	dns[5] = 1;		/* one question */
	for (const char *s = name; *s;) {
		size_t l = strcspn(s, ".");

		*p++ = (uint8_t)l;
		memcpy(p, s, l);
		p += l;
		s += l;
		if (*s)
			s++;
	}
	*p++ = 0;
	*p++ = (uint8_t)(type >> 8), *p++ = (uint8_t)type;
	*p++ = 0, *p++ = 1;
	dlen = (size_t)(p - dns);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + 8 + dlen) >> 8), ip[3] = (uint8_t)(20 + 8 + dlen);
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 10, ip[13] = 89, ip[14] = 0, ip[15] = 2;
	ip[16] = 10, ip[17] = 89, ip[18] = 0, ip[19] = 1;
	udp[0] = 40000 >> 8, udp[1] = 40000 & 0xff;
	udp[3] = 53;
	udp[4] = (uint8_t)((8 + dlen) >> 8), udp[5] = (uint8_t)(8 + dlen);
	total = 14 + 20 + 8 + dlen;
	return total;
}

static struct in_addr gw(void)
{
	struct in_addr a;

	inet_pton(AF_INET, "10.89.0.1", &a);
	return a;
}

static void test_parse(void)
{
	uint8_t f[600];
	struct dns_query q;
	size_t n = query(f, "CatServer.", DNS_TYPE_A, 7);
	struct in_addr other;
	bool all_cuts_refused = true;

	ok(dns_query_parse(f, n, gw(), &q) && !strcmp(q.name, "catserver") && q.type == DNS_TYPE_A,
	   "a query for one name, lower case, without the final dot");
	inet_pton(AF_INET, "10.89.0.9", &other);
	ok(!dns_query_parse(f, n, other, &q), "a query to another address is not the gateway's");
	for (size_t cut = 0; cut < n; cut++)
		all_cuts_refused &= !dns_query_parse(f, cut, gw(), &q);
	ok(all_cuts_refused, "every cut of the frame is refused");
	n = query(f, "a.b", DNS_TYPE_A, 1);
	f[14 + 20 + 8 + 12] = 0xc0;	/* a compression pointer in a question */
	ok(!dns_query_parse(f, n, gw(), &q), "a compressed name is refused");
	n = query(f, "web", DNS_TYPE_A, 1);
	f[14 + 20 + 8 + 2] |= 0x80;	/* a reply, not a query */
	ok(!dns_query_parse(f, n, gw(), &q), "a reply is not a query");
	n = query(f, "web", DNS_TYPE_A, 1);
	f[14 + 6] = 0x20;		/* more fragments */
	ok(!dns_query_parse(f, n, gw(), &q), "a fragment is refused");
	n = query(f, "web", DNS_TYPE_A, 1);
	f[14 + 20 + 8 + 13] = 0x20;	/* a label with a space */
	ok(!dns_query_parse(f, n, gw(), &q), "a name with a space is refused");
	n = query(f, "web", DNS_TYPE_A, 1);
	f[14 + 20 + 8 + 12] = 64;	/* a label longer than 63 */
	ok(!dns_query_parse(f, n, gw(), &q), "a label over 63 bytes is refused");
}

static void test_reply(void)
{
	uint8_t f[600], r[600];
	struct dns_query q;
	struct in_addr a;
	size_t n = query(f, "web", DNS_TYPE_A, 0x1234), rn;
	uint16_t sum = 0;
	uint32_t acc = 0;

	inet_pton(AF_INET, "10.89.0.7", &a);
	ok(dns_query_parse(f, n, gw(), &q), "query parsed");
	rn = dns_reply(f, &q, gw_mac, gw(), DNS_RCODE_OK, &a, r, sizeof(r));
	ok(rn == n + 16, "the reply is the query and one A record (%zu)", rn);
	ok(!memcmp(r, guest_mac, 6) && !memcmp(r + 6, gw_mac, 6), "from the gateway's MAC to the guest's");
	ok(r[14 + 12] == 10 && r[14 + 15] == 1 && r[14 + 16] == 10 && r[14 + 19] == 2, "from 10.89.0.1 to 10.89.0.2");
	ok(r[34] == 0 && r[35] == 53 && r[36] == (40000 >> 8) && r[37] == (40000 & 0xff), "from port 53 to the asker's");
	for (int i = 0; i < 20; i += 2)
		acc += (uint32_t)(r[14 + i] << 8 | r[15 + i]);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	sum = (uint16_t)~acc;
	ok(sum == 0, "the IP header checksum is right");
	ok(r[42] == 0x12 && r[43] == 0x34 && (r[44] & 0x80) && (r[45] & 0x0f) == 0, "the same ID, a reply, NOERROR");
	ok(r[42 + 7] == 1 && !memcmp(r + rn - 4, &a, 4), "one answer with the address");
	n = query(f, "web", DNS_TYPE_AAAA, 5);
	dns_query_parse(f, n, gw(), &q);
	rn = dns_reply(f, &q, gw_mac, gw(), DNS_RCODE_OK, &a, r, sizeof(r));
	ok(rn == n && r[42 + 7] == 0 && (r[45] & 0x0f) == 0, "AAAA of a known name: NOERROR and no answer");
	n = query(f, "nobody", DNS_TYPE_A, 6);
	dns_query_parse(f, n, gw(), &q);
	rn = dns_reply(f, &q, gw_mac, gw(), DNS_RCODE_NXDOMAIN, NULL, r, sizeof(r));
	ok(rn == n && (r[45] & 0x0f) == DNS_RCODE_NXDOMAIN, "an unknown name: NXDOMAIN");
	ok(dns_reply(f, &q, gw_mac, gw(), DNS_RCODE_OK, &a, r, 20) == 0, "a buffer too small gives nothing");
}

int main(void)
{
	test_parse();
	test_reply();
	return tap_done();
}
