/*
 * The host's loopback behind user-mode networking (devices/net-slirp.c), with real libslirp on a
 * real event loop and real sockets on 127.0.0.1: closed to what the guest starts (TCP, UDP, to
 * the router's address or any other of slirp's network), open when asked for (the control that
 * shows each probe can see a connection), and a published UDP port answers a client on the
 * host's loopback, to that client only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/net-backend.h"
#include "devices/net-slirp.h"
#include "vmm/loop.h"
#include "tests/unit/tap.h"

static const uint8_t guest_mac[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 };
static const uint8_t router_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };

struct guest {
	struct net_backend *b;
	uint8_t last[2048];
	size_t len;
	unsigned frames;
	uint8_t arp_reply[42];	/* to send once out of slirp's callback */
	bool arp_pending;
};

static void got(void *opaque, const void *frame, size_t len)
{
	struct guest *g = opaque;

	g->frames++;
	g->len = len < sizeof(g->last) ? len : sizeof(g->last);
	memcpy(g->last, frame, g->len);
	/* answer slirp's "who has 10.0.2.15" as the guest would (from the loop: see run) */
	if (len >= 42 && g->last[12] == 0x08 && g->last[13] == 0x06 && g->last[21] == 1 &&
	    !memcmp(g->last + 38, "\x0a\x00\x02\x0f", 4)) {
		uint8_t *r = g->arp_reply;

		memcpy(r, g->last + 6, 6);
		memcpy(r + 6, guest_mac, 6);
		memcpy(r + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x02", 10);
		memcpy(r + 22, guest_mac, 6);
		memcpy(r + 28, "\x0a\x00\x02\x0f", 4);
		memcpy(r + 32, g->last + 22, 10);
		g->arp_pending = true;
	}
}

/* One round of the loop, then the guest's pending ARP answer. */
static void run(struct event_loop *loop, struct guest *g)
{
	loop_run_once(loop, 10);
	if (g->arp_pending) {
		g->arp_pending = false;
		g->b->ops->send(g->b, g->arp_reply, sizeof(g->arp_reply));
	}
}

static uint16_t csum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IPv4 frame from the guest (10.0.2.15) to the router: TCP (a bare SYN) or UDP with payload. */
static size_t frame(uint8_t *f, const char *dst, uint8_t proto, uint16_t sport, uint16_t dport, const char *payload)
{
	size_t l4 = proto == IPPROTO_TCP ? 20 : 8 + strlen(payload);
	uint8_t *ip = f + 14, *t = ip + 20;
	uint32_t pseudo;
	uint16_t c;

	memset(f, 0, 14 + 20 + l4);
	memcpy(f, router_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + l4) >> 8);
	ip[3] = (uint8_t)(20 + l4);
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, "10.0.2.15", ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	c = csum(0, ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	t[0] = (uint8_t)(sport >> 8), t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8), t[3] = (uint8_t)dport;
	if (proto == IPPROTO_UDP) {
		t[4] = (uint8_t)(l4 >> 8), t[5] = (uint8_t)l4;	/* checksum 0: none */
		memcpy(t + 8, payload, strlen(payload));
		return 14 + 20 + l4;
	}
	t[7] = 1;		/* sequence number */
	t[12] = 5 << 4;		/* header length */
	t[13] = 0x02;		/* SYN */
	t[14] = 0xff, t[15] = 0xff;	/* window */
	pseudo = (uint32_t)(ip[12] << 8 | ip[13]) + (uint32_t)(ip[14] << 8 | ip[15]) +
		 (uint32_t)(ip[16] << 8 | ip[17]) + (uint32_t)(ip[18] << 8 | ip[19]) + IPPROTO_TCP + (uint32_t)l4;
	c = csum(pseudo, t, l4);
	t[16] = (uint8_t)(c >> 8), t[17] = (uint8_t)c;
	return 14 + 20 + l4;
}

static void spin(struct event_loop *loop, struct guest *g, int ms)
{
	for (int i = 0; i < ms / 10; i++)
		run(loop, g);
}

static int listener(int type, uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 4) < 0) || getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Does a listener on 127.0.0.1 hear from the guest? TCP: a connection; UDP: a datagram. */
static bool reached(struct event_loop *loop, struct guest *g, int type, const char *dst)
{
	uint16_t port;
	int fd = listener(type, &port), c;
	uint8_t f[256], buf[64];
	size_t n = frame(f, dst, type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP, 40000, port, "probe");
	bool heard;

	if (fd < 0)
		return false;
	g->b->ops->send(g->b, f, n);
	spin(loop, g, 1000);
	if (type == SOCK_STREAM) {
		c = accept(fd, NULL, NULL);
		heard = c >= 0;
		if (c >= 0)
			close(c);
	} else {
		heard = recv(fd, buf, sizeof(buf), 0) == 5;
	}
	close(fd);
	return heard;
}

static struct guest *guest(struct event_loop *loop, bool host_loopback)
{
	struct guest *g = calloc(1, sizeof(*g));

	if (!g || net_slirp_create(loop, NULL, host_loopback, NULL, 0, &g->b)) {
		free(g);
		return NULL;
	}
	g->b->peer = (struct net_backend_peer){ .receive = got, .opaque = g };
	return g;
}

static void test_closed_and_open(struct event_loop *loop)
{
	struct guest *open = guest(loop, true), *closed = guest(loop, false);

	if (!open || !closed) {
		ok(0, "two slirp backends");
		return;
	}
	ok(reached(loop, open, SOCK_STREAM, "10.0.2.2"), "open: a TCP connect to 10.0.2.2 reaches 127.0.0.1");
	ok(reached(loop, open, SOCK_DGRAM, "10.0.2.2"), "open: a datagram to 10.0.2.2 reaches 127.0.0.1");
	ok(!reached(loop, closed, SOCK_STREAM, "10.0.2.2"), "closed: a TCP connect to 10.0.2.2 reaches nothing");
	ok(!reached(loop, closed, SOCK_DGRAM, "10.0.2.2"), "closed: a datagram to 10.0.2.2 reaches nothing");
	ok(!reached(loop, closed, SOCK_STREAM, "10.0.2.77"), "closed: nor to another address of slirp's network");
	ok(!reached(loop, closed, SOCK_DGRAM, "10.0.2.255"), "closed: nor a datagram to its broadcast address");
	ok(!reached(loop, closed, SOCK_STREAM, "127.0.0.1"), "closed: nor a TCP connect to 127.0.0.1 itself");
	ok(!reached(loop, closed, SOCK_DGRAM, "127.0.0.1"), "closed: nor a datagram to 127.0.0.1 itself");
	net_backend_destroy(open->b);
	net_backend_destroy(closed->b);
	free(open);
	free(closed);
}

/* -p 127.0.0.1:HP:5353/udp: the guest answers a client on the host's loopback, and only it. */
static void test_udp_published(struct event_loop *loop)
{
	struct guest *g = guest(loop, false);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint16_t hp, cport, other_port;
	int hold = listener(SOCK_DGRAM, &hp), client = listener(SOCK_DGRAM, &cport);
	int other = listener(SOCK_DGRAM, &other_port);
	uint8_t f[256], buf[64];
	uint16_t seen_port = 0;
	size_t n;

	if (!g || hold < 0 || client < 0 || other < 0) {
		ok(0, "a slirp backend and three sockets");
		return;
	}
	close(hold);	/* a port that was free a moment ago */
	ok(net_slirp_forward(g->b, true, sa.sin_addr, hp, 5353) == 0, "a UDP port published on 127.0.0.1");
	sa.sin_port = htons(hp);
	sendto(client, "ask", 3, 0, (struct sockaddr *)&sa, sizeof(sa));
	for (int i = 0; i < 300 && !seen_port; i++) {
		run(loop, g);
		if (g->len >= 45 && g->last[23] == IPPROTO_UDP && !memcmp(g->last + 42, "ask", 3))
			seen_port = (uint16_t)(g->last[34] << 8 | g->last[35]);
	}
	ok(seen_port && !memcmp(g->last + 26, "\x0a\x00\x02\x02", 4),
	   "the client's datagram reaches the guest, from 10.0.2.2:%u", seen_port);
	n = frame(f, "10.0.2.2", IPPROTO_UDP, 5353, seen_port, "reply");
	g->b->ops->send(g->b, f, n);
	spin(loop, g, 500);
	ok(recv(client, buf, sizeof(buf), 0) == 5 && !memcmp(buf, "reply", 5),
	   "the guest's answer reaches the client on the host's loopback");
	n = frame(f, "10.0.2.2", IPPROTO_UDP, 5353, other_port, "probe");
	g->b->ops->send(g->b, f, n);
	spin(loop, g, 500);
	ok(recv(other, buf, sizeof(buf), 0) < 0 && errno == EAGAIN,
	   "from the same port, another loopback port is not reached");
	close(client);
	close(other);
	net_backend_destroy(g->b);
	free(g);
}

int main(void)
{
	struct event_loop *loop;

	if (loop_create(&loop)) {
		ok(0, "an event loop");
		return tap_done();
	}
	test_closed_and_open(loop);
	test_udp_published(loop);
	loop_destroy(loop);
	return tap_done();
}
