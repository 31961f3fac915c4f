/*
 * Ports on a container network (devices/net-lan.c), three of them in one process on a real event
 * loop and real unix sockets: unicast, broadcast, a MAC nobody has, spoofed sources, the
 * gateway's ARP and DNS answers, hostile datagrams, published ports through the NAT, cleanup;
 * and a guest on two networks, joining and leaving one while it runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/net-backend.h"
#include "devices/net-dns.h"
#include "devices/net-lan.h"
#include "vmm/base/error.h"
#include "vmm/loop.h"
#include "tests/unit/tap.h"

struct guest {
	struct net_backend *b;
	uint8_t mac[6];
	uint8_t last[70000];
	size_t len;
	unsigned frames;
};

static void got(void *opaque, const void *frame, size_t len)
{
	struct guest *g = opaque;

	g->frames++;
	g->len = len < sizeof(g->last) ? len : sizeof(g->last);
	memcpy(g->last, frame, g->len);
}

static bool resolve(void *opaque, const char *name, struct in_addr *out)
{
	(void)opaque;
	if (strcmp(name, "bravo") && strcmp(name, "b-alias"))
		return false;
	return inet_pton(AF_INET, "10.89.0.3", out) == 1;
}

/* g on one more network: ip's /24, its gateway .1. */
static int join(struct guest *g, const char *dir, const char *ip, bool internal)
{
	struct net_lan_config c = { .dir = dir, .internal = internal };
	struct error e = { 0 };
	int ret;

	inet_pton(AF_INET, ip, &c.ip);
	inet_pton(AF_INET, "255.255.255.0", &c.mask);
	c.gateway.s_addr = (c.ip.s_addr & c.mask.s_addr) | htonl(1);
	ret = net_lan_attach(g->b, &c, &e);
	if (ret)
		printf("# net_lan_attach: %s\n", e.msg);
	return ret;
}

static int port(struct event_loop *loop, const char *dir, struct guest *g, uint8_t last, const char *ip,
		bool internal)
{
	struct error e = { 0 };
	int ret;

	memcpy(g->mac, "\x02\x42\xac\x11\x00", 5);
	g->mac[5] = last;
	ret = net_lan_create(loop, g->mac, resolve, NULL, &g->b, &e);
	if (ret) {
		printf("# net_lan_create: %s\n", e.msg);
		return ret;
	}
	g->b->peer = (struct net_backend_peer){ .receive = got, .opaque = g };
	return join(g, dir, ip, internal);
}

static size_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type, const char *payload)
{
	size_t n = strlen(payload);

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	memcpy(f + 14, payload, n);
	return 14 + n;
}

/* A broadcast "who has target? tell sender" from src. */
static size_t arp_request(uint8_t *f, const uint8_t *src, const char *sender, const char *target)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	eth(f, bcast, src, 0x0806, "");
	memcpy(f + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	memcpy(f + 22, src, 6);
	inet_pton(AF_INET, sender, f + 28);
	memset(f + 32, 0, 6);
	inet_pton(AF_INET, target, f + 38);
	return 42;
}

/* Run the loop until g has more than before frames, or timeout_ms passed. */
static bool wait_frames(struct event_loop *loop, struct guest *g, unsigned before, int timeout_ms)
{
	for (int i = 0; i < timeout_ms / 10 && g->frames <= before; i++)
		loop_run_once(loop, 10);
	return g->frames > before;
}

static size_t dns_query(uint8_t *f, const uint8_t *src, const char *label)
{
	static const uint8_t gw[6] = { 0x52, 0x55, 10, 89, 0, 1 };
	uint8_t *ip = f + 14, *udp = ip + 20, *dns = udp + 8, *p = dns + 12;
	size_t l = strlen(label), dlen;

	memset(f, 0, 200);
	memcpy(f, gw, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	dns[5] = 1;
	*p++ = (uint8_t)l;
	memcpy(p, label, l);
	p += l;
	*p++ = 0;
	*p++ = 0, *p++ = DNS_TYPE_A, *p++ = 0, *p++ = 1;
	dlen = (size_t)(p - dns);
	ip[0] = 0x45;
	ip[3] = (uint8_t)(28 + dlen);
	ip[8] = 64;
	ip[9] = 17;
	inet_pton(AF_INET, "10.89.0.2", ip + 12);
	inet_pton(AF_INET, "10.89.0.1", ip + 16);
	udp[0] = 0x9c, udp[1] = 0x40;
	udp[3] = 53;
	udp[5] = (uint8_t)(8 + dlen);
	return 14 + 28 + dlen;
}

static void test_ports(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t nobody[6] = { 2, 0x42, 0xac, 0x11, 0, 0x99 };
	char dir[] = "/tmp/vmm-lan.XXXXXX", path[300];
	struct event_loop *loop;
	struct guest *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)), *c = calloc(1, sizeof(*c));
	uint8_t f[2048];
	size_t n;
	unsigned before;
	struct stat st;

	if (!mkdtemp(dir) || loop_create(&loop) || port(loop, dir, a, 2, "10.89.0.2", true) ||
	    port(loop, dir, b, 3, "10.89.0.3", true) || port(loop, dir, c, 4, "10.89.0.4", true)) {
		ok(0, "three ports on one network");
		return;
	}
	snprintf(path, sizeof(path), "%s/0242ac110002", dir);
	ok(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "a port is a socket named by its MAC");

	n = eth(f, b->mac, a->mac, 0x0800, "unicast to bravo");
	before = b->frames;
	a->b->ops->send(a->b, f, n);
	ok(wait_frames(loop, b, before, 2000) && b->len == n && !memcmp(b->last, f, n),
	   "a frame for B's MAC reaches B, byte for byte");
	ok(c->frames == 0 && a->frames == 0, "... and nobody else");

	n = eth(f, bcast, a->mac, 0x0806, "a broadcast");
	a->b->ops->send(a->b, f, n);
	wait_frames(loop, b, 1, 2000);
	wait_frames(loop, c, 0, 2000);
	ok(b->frames == 2 && c->frames == 1 && !memcmp(c->last, f, n), "a broadcast reaches every other port");
	ok(a->frames == 0, "... but not its sender");

	n = eth(f, nobody, a->mac, 0x0800, "to nobody");
	a->b->ops->send(a->b, f, n);
	n = eth(f, b->mac, nobody, 0x0800, "spoofed source");
	a->b->ops->send(a->b, f, n);
	ok(!wait_frames(loop, b, 2, 300) && c->frames == 1, "a frame for a MAC nobody has, and one with a "
	   "source that is not the guest's, go nowhere");

	/* hostile datagrams straight into B's socket: too short, or for someone else */
	{
		int s = socket(AF_UNIX, SOCK_DGRAM, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/0242ac110003", dir);
		sendto(s, "short", 5, 0, (struct sockaddr *)&sa, sizeof(sa));
		n = eth(f, c->mac, a->mac, 0x0800, "for C, sent to B");
		sendto(s, f, n, 0, (struct sockaddr *)&sa, sizeof(sa));
		ok(!wait_frames(loop, b, 2, 300), "a port drops runts and frames for other MACs");
		close(s);
	}

	/* the gateway: ARP and DNS, answered by the port itself on an internal network */
	n = arp_request(f, a->mac, "10.89.0.2", "10.89.0.1");
	before = a->frames;
	a->b->ops->send(a->b, f, n);
	ok(a->frames == before + 1 && a->last[21] == 2 && !memcmp(a->last + 22, "\x52\x55\x0a\x59\x00\x01", 6) &&
	   !memcmp(a->last, a->mac, 6), "ARP for the gateway: answered with 52:55:0a:59:00:01");
	n = dns_query(f, a->mac, "Bravo");
	a->b->ops->send(a->b, f, n);
	ok(a->frames == before + 2 && a->len == n + 16 && (a->last[45] & 0x0f) == 0 &&
	   !memcmp(a->last + a->len - 4, "\x0a\x59\x00\x03", 4), "DNS: a name of the network is its address");
	n = dns_query(f, a->mac, "b-alias");
	a->b->ops->send(a->b, f, n);
	ok(a->frames == before + 3 && !memcmp(a->last + a->len - 4, "\x0a\x59\x00\x03", 4), "DNS: an alias too");
	n = dns_query(f, a->mac, "nobody");
	a->b->ops->send(a->b, f, n);
	ok(a->frames == before + 4 && (a->last[45] & 0x0f) == DNS_RCODE_NXDOMAIN,
	   "DNS: any other name is NXDOMAIN on an internal network");

	net_backend_destroy(a->b);
	snprintf(path, sizeof(path), "%s/0242ac110002", dir);
	ok(stat(path, &st) < 0, "a port's socket is gone with it");
	n = eth(f, a->mac, b->mac, 0x0800, "to a port that left");
	b->b->ops->send(b->b, f, n);
	n = eth(f, c->mac, b->mac, 0x0800, "still there");
	before = c->frames;
	b->b->ops->send(b->b, f, n);
	ok(wait_frames(loop, c, before, 2000) && !memcmp(c->last + 14, "still there", 11),
	   "after a frame to a port that left, the others still talk");
	net_backend_destroy(b->b);
	net_backend_destroy(c->b);
	ok(rmdir(dir) == 0, "nothing is left in the network's folder");
	loop_destroy(loop);
	free(a);
	free(b);
	free(c);
}

/* A port with a NAT: a published UDP port reaches the guest's own address on the network. */
static void test_uplink(void)
{
	char dir[] = "/tmp/vmm-lan.XXXXXX";
	struct event_loop *loop;
	struct guest *g = calloc(1, sizeof(*g));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int us;
	uint8_t f[256];
	size_t n;

	if (!mkdtemp(dir) || loop_create(&loop) || port(loop, dir, g, 2, "10.89.0.2", false)) {
		ok(0, "a port with a NAT");
		return;
	}
	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bind(us, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(us, (struct sockaddr *)&sa, &sl);
	close(us);	/* a port that was free a moment ago */
	ok(net_lan_forward(g->b, true, sa.sin_addr, ntohs(sa.sin_port), 5353) == 0, "a UDP port published");
	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* slirp asks who has 10.89.0.2 first, then sends; answer its ARP as a guest would */
	sendto(us, "to-guest", 8, 0, (struct sockaddr *)&sa, sizeof(sa));
	for (int i = 0; i < 3 && g->frames < 1; i++)
		wait_frames(loop, g, 0, 1000);
	if (g->frames && g->last[12] == 0x08 && g->last[13] == 0x06) {
		uint8_t req[64];

		memcpy(req, g->last, 42);
		n = eth(f, req + 6, g->mac, 0x0806, "");
		memcpy(f + 14, "\x00\x01\x08\x00\x06\x04\x00\x02", 8);
		memcpy(f + 22, g->mac, 6);
		memcpy(f + 28, req + 38, 4);
		memcpy(f + 32, req + 22, 10);
		g->b->ops->send(g->b, f, 42);
		ok(!memcmp(req + 38, "\x0a\x59\x00\x02", 4), "the NAT asks for the guest's address on the network");
		/* the datagram waits in slirp's queue until its next round */
		for (int i = 0; i < 10 && g->last[12] == 0x08 && g->last[13] == 0x06; i++)
			wait_frames(loop, g, g->frames, 1000);
	}
	ok(g->len == 42 + 8 && !memcmp(g->last + 42, "to-guest", 8) && !memcmp(g->last + 30, "\x0a\x59\x00\x02", 4) &&
	   g->last[36] == 5353 >> 8 && g->last[37] == (5353 & 0xff),
	   "the datagram arrives at 10.89.0.2:5353 (%zu bytes)", g->len);
	n = dns_query(f, g->mac, "bravo");
	g->b->ops->send(g->b, f, n);
	ok(!memcmp(g->last + g->len - 4, "\x0a\x59\x00\x03", 4), "DNS: the network's names before the host's");
	close(us);
	/* a published TCP port: the host's connect becomes a SYN to the guest's address */
	us = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bind(us, (struct sockaddr *)&sa, sizeof(sa));
	sl = sizeof(sa);
	getsockname(us, (struct sockaddr *)&sa, &sl);
	close(us);
	ok(net_lan_forward(g->b, false, sa.sin_addr, ntohs(sa.sin_port), 80) == 0, "a TCP port published");
	us = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	connect(us, (struct sockaddr *)&sa, sizeof(sa));
	for (int i = 0; i < 5 && !(g->len >= 54 && g->last[23] == 6); i++)
		wait_frames(loop, g, g->frames, 1000);
	ok(g->len >= 54 && g->last[23] == 6 && !memcmp(g->last + 30, "\x0a\x59\x00\x02", 4) && g->last[37] == 80 &&
	   (g->last[47] & 0x12) == 0x02, "the connect arrives as a SYN to 10.89.0.2:80 (%zu bytes, proto %u)",
	   g->len, g->len > 23 ? g->last[23] : 0);
	close(us);
	net_backend_destroy(g->b);
	ok(rmdir(dir) == 0, "nothing is left in the network's folder");
	loop_destroy(loop);
	free(g);
}

/* An IPv4 header's worth: what the port reads to find the destination's network. */
static size_t ipv4(uint8_t *f, const uint8_t *dst, const uint8_t *src, const char *to)
{
	memset(f, 0, 64);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	inet_pton(AF_INET, to, f + 30);
	memcpy(f + 34, "payload", 7);
	return 41;
}

/* X is on networks A and B; Y on A only, Z on B only. */
static void test_two_networks(void)
{
	char da[] = "/tmp/vmm-lan.XXXXXX", db[] = "/tmp/vmm-lan.XXXXXX", path[300];
	struct event_loop *loop;
	struct guest *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y)), *z = calloc(1, sizeof(*z));
	struct error e = { 0 };
	struct net_lan_config again = { .dir = da, .internal = true };
	uint8_t f[128];
	size_t n;
	struct stat st;

	if (!mkdtemp(da) || !mkdtemp(db) || loop_create(&loop) || port(loop, da, x, 2, "10.89.0.2", true) ||
	    join(x, db, "10.90.0.2", true) || port(loop, da, y, 3, "10.89.0.3", true) ||
	    port(loop, db, z, 4, "10.90.0.4", true)) {
		ok(0, "a guest on two networks");
		return;
	}
	snprintf(path, sizeof(path), "%s/0242ac110002", db);
	ok(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "a guest on two networks has a port in each folder");
	ok(net_lan_attach(x->b, &again, &e) == -EEXIST, "joining a network it is on: refused");

	n = ipv4(f, z->mac, x->mac, "10.90.0.4");
	x->b->ops->send(x->b, f, n);
	ok(wait_frames(loop, z, 0, 2000) && z->len == n && !memcmp(z->last, f, n),
	   "X reaches Z on their common network B");
	n = ipv4(f, x->mac, z->mac, "10.90.0.2");
	z->b->ops->send(z->b, f, n);
	ok(wait_frames(loop, x, 0, 2000) && !memcmp(x->last, f, n), "... and Z reaches X");
	n = ipv4(f, z->mac, y->mac, "10.90.0.4");
	y->b->ops->send(y->b, f, n);
	ok(!wait_frames(loop, z, 1, 300), "Y, on A only, does not reach Z on B");

	/* ARP asks on the network of the address asked for */
	n = arp_request(f, x->mac, "10.90.0.2", "10.90.0.4");
	x->b->ops->send(x->b, f, n);
	ok(wait_frames(loop, z, 1, 2000) && z->last[12] == 0x08 && z->last[13] == 0x06, "X's ARP for 10.90.0.4 "
	   "reaches Z");
	ok(!wait_frames(loop, y, 0, 300), "... and not Y, on the other network");
	{	/* W is on both too: a frame for it arrives once, even after one to a MAC nobody has */
		static const uint8_t nobody[6] = { 2, 0x42, 0xac, 0x11, 0, 0x99 };
		struct guest *w = calloc(1, sizeof(*w));

		if (w && !port(loop, da, w, 5, "10.89.0.5", true) && !join(w, db, "10.90.0.5", true)) {
			n = ipv4(f, nobody, x->mac, "10.90.0.9");
			x->b->ops->send(x->b, f, n);
			n = ipv4(f, w->mac, x->mac, "10.90.0.5");
			x->b->ops->send(x->b, f, n);
			wait_frames(loop, w, 0, 2000);
			ok(!wait_frames(loop, w, 1, 300) && w->frames == 1, "a frame for a guest on both networks "
			   "arrives once (%u)", w->frames);
			net_backend_destroy(w->b);
		} else {
			ok(0, "a fourth guest on both networks");
		}
		free(w);
	}
	n = dns_query(f, x->mac, "bravo");	/* to A's gateway: the names of both networks answer */
	x->b->ops->send(x->b, f, n);
	ok(x->frames == 2 && !memcmp(x->last + x->len - 4, "\x0a\x59\x00\x03", 4), "DNS on a guest of two networks");

	ok(net_lan_detach(x->b, db) == 0 && stat(path, &st) < 0, "leaving B while running: its port there goes");
	ok(net_lan_detach(x->b, db) == -ENOENT, "... once");
	n = ipv4(f, x->mac, z->mac, "10.90.0.2");
	z->b->ops->send(z->b, f, n);
	ok(!wait_frames(loop, x, 2, 300), "Z no longer reaches X");
	ok(join(x, db, "10.90.0.2", true) == 0, "joining B again");
	z->b->ops->send(z->b, f, n);
	ok(wait_frames(loop, x, 2, 2000) && !memcmp(x->last, f, n), "... and Z reaches X again");

	net_backend_destroy(x->b);
	net_backend_destroy(y->b);
	net_backend_destroy(z->b);
	ok(rmdir(da) == 0 && rmdir(db) == 0, "nothing is left in either folder");
	loop_destroy(loop);
	free(x);
	free(y);
	free(z);
}

int main(void)
{
	test_ports();
	test_uplink();
	test_two_networks();
	return tap_done();
}
