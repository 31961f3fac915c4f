/*
 * A container network's gateway from a hostile guest: any frame through the
 * DNS query parser and, when it is a query, the reply builder
 * (devices/net-dns.c), and through the DNS forwarder's port check and the
 * host-loopback filter, both ways (devices/net-egress.c). Input: the frame. Checked: a parsed name is plain
 * lower-case labels within bounds; the question lies inside the frame; the
 * reply fits its buffer and is as long as it says; ASan/UBSan do the rest.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "devices/net-dns.h"
#include "devices/net-egress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = { 0x52, 0x55, 10, 89, 0, 1 };
	uint8_t out[70000];
	struct in_addr gw = { htonl(0x0a590001) }, addr = { htonl(0x0a590007) };
	struct dns_query q;
	size_t n;

	static const uint16_t published[1] = { 5353 };
	struct udp_peer peers[4] = { { 0 } };
	size_t next = 0;

	egress_dns_abuse(0x0a590001, data, size);
	egress_note_peer(peers, 4, &next, 0x0a590000, 0xffffff00, published, 1, data, size);
	if (next > 1)
		__builtin_trap();
	egress_to_loopback(0x0a590000, 0xffffff00, 0x0a590003, peers, 4, data, size);
	if (!dns_query_parse(data, size, gw, &q))
		return 0;
	n = strlen(q.name);
	if (!n || n > 253 || q.name[0] == '.' || q.name[n - 1] == '.' || q.off + q.len > size)
		__builtin_trap();
	for (size_t i = 0; i < n; i++)
		if (q.name[i] >= 'A' && q.name[i] <= 'Z')
			__builtin_trap();
	n = dns_reply(data, &q, mac, gw, DNS_RCODE_OK, &addr, out, sizeof(out));
	if (!n || n > sizeof(out) || n != 42 + q.len + (q.type == DNS_TYPE_A ? 16 : 0))
		__builtin_trap();
	if (dns_reply(data, &q, mac, gw, DNS_RCODE_NXDOMAIN, NULL, out, 41))
		__builtin_trap();
	return 0;
}
