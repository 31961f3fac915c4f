/* The --egress-allow rules and the frame check (devices/net-egress.c), with hand-made frames. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "devices/net-egress.h"
#include "vmm/base/error.h"
#include "tests/unit/tap.h"

/* An Ethernet + IPv4 frame to a.b.c.d, proto, dport, from sport; TCP with flags. */
static size_t frame(uint8_t *f, const uint8_t dst[4], uint8_t proto, uint16_t sport, uint16_t dport,
		    uint8_t tcp_flags, uint16_t frag)
{
	size_t l4 = proto == IPPROTO_TCP ? 20 : 8;

	memset(f, 0, 14 + 20 + l4);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)((20 + l4) >> 8);
	f[17] = (uint8_t)(20 + l4);
	f[20] = (uint8_t)(frag >> 8);
	f[21] = (uint8_t)frag;
	f[23] = proto;
	f[26] = 10, f[27] = 0, f[28] = 2, f[29] = 15;
	memcpy(f + 30, dst, 4);
	f[34] = (uint8_t)(sport >> 8), f[35] = (uint8_t)sport;
	f[36] = (uint8_t)(dport >> 8), f[37] = (uint8_t)dport;
	if (proto == IPPROTO_TCP)
		f[34 + 13] = tcp_flags;
	return 14 + 20 + l4;
}

static void test_parse(void)
{
	struct egress_rule r;
	struct error e = { 0 };

	ok(egress_rule_parse("10.1.0.0/16:443/tcp", &r, &e) == 0 && r.net == 0x0a010000 && r.mask == 0xffff0000 &&
	   r.port_lo == 443 && r.port_hi == 443 && r.proto == IPPROTO_TCP, "CIDR, port and protocol");
	ok(egress_rule_parse("192.168.1.7", &r, &e) == 0 && r.mask == 0xffffffff && !r.port_lo && !r.proto,
	   "an address alone is a /32, every port");
	ok(egress_rule_parse("10.0.0.9/8:8000-8099", &r, &e) == 0 && r.net == 0x0a000000 && r.port_lo == 8000 &&
	   r.port_hi == 8099 && !r.proto, "host bits are masked off; a port range, TCP and UDP");
	ok(egress_rule_parse("0.0.0.0/0:53/udp", &r, &e) == 0 && r.mask == 0 && r.proto == IPPROTO_UDP,
	   "/0: any address");
	ok(egress_rule_parse("dns", &r, &e) == 0 && r.net == 0x0a000203 && r.port_lo == 53, "dns: slirp's resolver");
	static const char *const bad[] = { "", "10.0.0.1/33", "10.0.0/8", "host.example", "10.0.0.1:0",
		"10.0.0.1:65536", "10.0.0.1:90-80", "10.0.0.1:80/sctp", "10.0.0.1:", "10.0.0.1/:80",
		"10.0.0.1:80-", "10.0.0.1:-80", "10.0.0.1/8x", "::1", NULL };
	for (int i = 0; bad[i]; i++) {
		e = (struct error){ 0 };
		ok(egress_rule_parse(bad[i], &r, &e) == -EINVAL && strstr(e.msg, "--egress-allow"),
		   "refused: '%s' (%s)", bad[i], e.msg);
	}
}

static void test_frames(void)
{
	static const uint8_t host[4] = { 10, 0, 2, 2 }, far[4] = { 93, 184, 216, 34 }, dns[4] = { 10, 0, 2, 3 };
	struct egress_rule rules[2];
	uint16_t udp_pub[1] = { 5353 };
	struct error e = { 0 };
	uint8_t f[128];
	size_t n;

	egress_rule_parse("10.0.2.2:8080/tcp", &rules[0], &e);
	egress_rule_parse("dns", &rules[1], &e);
	n = frame(f, far, IPPROTO_TCP, 40000, 80, 0x02, 0);
	ok(egress_allows(NULL, 0, NULL, 0, f, n), "no rules: everything leaves");
	ok(!egress_allows(rules, 2, NULL, 0, f, n), "a SYN to an address no rule holds is dropped");
	n = frame(f, host, IPPROTO_TCP, 40000, 8080, 0x02, 0);
	ok(egress_allows(rules, 2, NULL, 0, f, n), "a SYN to the allowed address and port leaves");
	n = frame(f, host, IPPROTO_TCP, 40000, 8081, 0x02, 0);
	ok(!egress_allows(rules, 2, NULL, 0, f, n), "a SYN to another port of that address is dropped");
	n = frame(f, far, IPPROTO_TCP, 80, 40000, 0x12, 0);
	ok(egress_allows(rules, 2, NULL, 0, f, n), "a SYN+ACK (answering a published port) leaves");
	n = frame(f, far, IPPROTO_TCP, 40000, 80, 0x10, 0);
	ok(egress_allows(rules, 2, NULL, 0, f, n), "an ACK opens nothing: it leaves (slirp resets it)");
	n = frame(f, host, IPPROTO_UDP, 40000, 8080, 0, 0);
	ok(!egress_allows(rules, 2, NULL, 0, f, n), "UDP to a TCP-only rule is dropped");
	n = frame(f, dns, IPPROTO_UDP, 40000, 53, 0, 0);
	ok(egress_allows(rules, 2, NULL, 0, f, n), "dns: UDP to 10.0.2.3:53 leaves");
	n = frame(f, far, IPPROTO_UDP, 5353, 40000, 0, 0);
	ok(!egress_allows(rules, 2, NULL, 0, f, n) && egress_allows(rules, 2, udp_pub, 1, f, n),
	   "UDP from a published port leaves only when it is published");
	n = frame(f, host, IPPROTO_TCP, 40000, 8080, 0x02, 0x2000);
	ok(!egress_allows(rules, 2, NULL, 0, f, n), "a fragment (more fragments set) is dropped");
	n = frame(f, host, IPPROTO_TCP, 40000, 8080, 0x02, 0x0001);
	ok(!egress_allows(rules, 2, NULL, 0, f, n), "a fragment (an offset) is dropped");
	n = frame(f, host, IPPROTO_ICMP, 0, 0, 0, 0);
	ok(!egress_allows(rules, 2, NULL, 0, f, n), "ICMP to an address whose rule has ports is dropped");
	egress_rule_parse("10.0.2.0/24", &rules[0], &e);
	ok(egress_allows(rules, 1, NULL, 0, f, n), "ICMP to an address of a rule without ports leaves");
	/* what the guest may mangle */
	n = frame(f, host, IPPROTO_TCP, 40000, 8080, 0x02, 0);
	ok(!egress_allows(rules, 2, NULL, 0, f, 14 + 20 + 10), "a TCP header cut short is dropped");
	f[17] = 200;
	ok(!egress_allows(rules, 2, NULL, 0, f, n), "an IP length past the frame is dropped");
	f[17] = 40;
	f[14] = 0x44;
	ok(!egress_allows(rules, 2, NULL, 0, f, n), "a header length under 20 is dropped");
	f[14] = 0x65;
	ok(!egress_allows(rules, 2, NULL, 0, f, n), "IP version 6 in an IPv4 frame is dropped");
	f[12] = 0x86, f[13] = 0xdd;
	ok(!egress_allows(rules, 2, NULL, 0, f, n), "IPv6 is dropped");
	f[12] = 0x08, f[13] = 0x06;
	ok(egress_allows(rules, 2, NULL, 0, f, 42), "ARP leaves");
	ok(!egress_allows(rules, 2, NULL, 0, f, 10), "a runt frame is dropped");
	n = frame(f, host, IPPROTO_TCP, 40000, 8080, 0x02, 0);
	for (size_t len = 0; len <= n; len++) {
		uint8_t *cut = malloc(len ? len : 1);

		if (!cut)
			break;
		memcpy(cut, f, len);
		(void)egress_allows(rules, 2, udp_pub, 1, cut, len);
		free(cut);
	}
	ok(1, "every cut of a frame is looked at without reading past it (ASan build)");
}

/* slirp's DNS forwarder (10.0.2.3) takes DNS only: its other ports may be the host's loopback resolver's. */
static void test_dns_only(void)
{
	static const uint8_t dns[4] = { 10, 0, 2, 3 }, other[4] = { 10, 0, 2, 4 };
	const uint32_t a = 0x0a000203;
	uint8_t f[128];
	size_t n;

	static const struct {
		bool other;
		uint8_t proto, flags;
		uint16_t sport, dport, frag;
		bool refused;
		const char *what;
	} cases[] = {
		{ false, IPPROTO_UDP, 0, 40000, 53, 0, false, "UDP to the forwarder's port 53: DNS" },
		{ false, IPPROTO_TCP, 0x02, 40000, 53, 0, false, "TCP to its port 53: DNS too" },
		{ false, IPPROTO_TCP, 0x02, 40000, 8000, 0, true, "TCP to its port 8000: refused" },
		{ false, IPPROTO_TCP, 0x02, 80, 40000, 0, true,
		  "a bare SYN, even from a published port: refused (slirp would open it)" },
		{ false, IPPROTO_TCP, 0x12, 80, 40000, 0, false,
		  "a SYN+ACK from a published port: let through (it opens nothing)" },
		{ false, IPPROTO_TCP, 0x10, 80, 40000, 0, false, "an ACK: let through" },
		{ false, IPPROTO_UDP, 0, 40000, 5353, 0, true, "UDP to its port 5353: refused" },
		{ false, IPPROTO_UDP, 0, 40000, 53, 0x0010, true,
		  "a later fragment to it (no ports to check): refused" },
		{ false, IPPROTO_ICMP, 0, 0, 0, 0, false, "ICMP to it: let through" },
		{ true, IPPROTO_TCP, 0x02, 40000, 8000, 0, false, "another address: not its business" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = frame(f, cases[i].other ? other : dns, cases[i].proto, cases[i].sport, cases[i].dport,
			  cases[i].flags, cases[i].frag);
		ok(egress_dns_abuse(a, f, n) == cases[i].refused, "%s", cases[i].what);
	}
	n = frame(f, dns, IPPROTO_TCP, 80, 40000, 0x10, 0);
	ok(egress_dns_abuse(a, f, 14 + 20 + 13), "a TCP header cut before its flags: refused");
	ok(egress_dns_abuse(a, f, 14 + 20 + 2), "a header cut before the port: refused");
}

int main(void)
{
	test_parse();
	test_frames();
	test_dns_only();
	return tap_done();
}
