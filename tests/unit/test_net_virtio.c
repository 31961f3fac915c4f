/*
 * virtio-net queue handling (devices/virtio/net-core.c) against a scripted
 * guest driver on plain guest memory: headers, checksum completion, merged
 * receive buffers, hostile chains and frames, backpressure both ways; then
 * the real slirp backend end to end (ARP, ICMP, UDP through host sockets, a
 * UDP host forward), driven by the event loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/net-backend.h"
#include "devices/net-slirp.h"
#include "devices/virtio/net-core.h"
#include "tests/unit/tap.h"
#include "vmm/loop.h"
#include "vmm/memory.h"
#include "vmm/base/util.h"

#define QN	64
#define RXBASE	0x10000ULL
#define TXBASE	0x20000ULL
#define DATA	0x100000ULL

static struct guest_mem mem;
static uint64_t data_next = DATA;

/* ---- a scripted guest driver ---- */

struct gq {
	uint64_t base;
	struct virtq q;
	uint16_t next_desc, avail_idx;
};

static uint64_t galloc(size_t len)
{
	uint64_t a = data_next;

	data_next = ALIGN_UP(data_next + len, 64);
	return a;
}

static void *hva(uint64_t gpa, size_t len)
{
	return guest_mem_ptr(&mem, gpa, len);
}

static void gq_init(struct gq *g, uint64_t base)
{
	memset(hva(base, 0x3000), 0, 0x3000);
	memset(g, 0, sizeof(*g));
	g->base = base;
	g->q.num = QN;
	g->q.desc_gpa = base;
	g->q.avail_gpa = base + 0x1000;
	g->q.used_gpa = base + 0x2000;
	virtq_enable(&g->q, &mem);
}

struct gbuf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* Chain n buffers and make them available; returns the head. */
static uint16_t gq_add(struct gq *g, const struct gbuf *b, unsigned n)
{
	struct vring_desc *d = hva(g->base, 16 * QN);
	uint16_t *avail = hva(g->base + 0x1000, 4 + 2 * QN);
	uint16_t head = g->next_desc % QN;

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (g->next_desc + i) % QN;

		d[idx].addr = b[i].gpa;
		d[idx].len = b[i].len;
		d[idx].flags = (b[i].write ? VRING_DESC_F_WRITE : 0) | (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		d[idx].next = (idx + 1) % QN;
	}
	g->next_desc += n;
	avail[2 + g->avail_idx % QN] = head;
	g->avail_idx++;
	__atomic_store_n(&avail[1], g->avail_idx, __ATOMIC_RELEASE);
	return head;
}

static uint16_t used_idx(struct gq *g)
{
	return ((uint16_t *)hva(g->base + 0x2000, 4))[1];
}

static struct vring_used_elem used_elem(struct gq *g, unsigned i)
{
	struct vring_used_elem *e = hva(g->base + 0x2000 + 4, 8 * QN);

	return e[i % QN];
}

/* A transmit chain: header then frame, in one or two buffers. */
static uint16_t tx_frame(struct gq *g, const struct net_hdr *h, const void *frame, size_t len, bool split)
{
	uint64_t a = galloc(NET_HDR_SIZE + len);

	memcpy(hva(a, NET_HDR_SIZE), h, NET_HDR_SIZE);
	memcpy(hva(a + NET_HDR_SIZE, len), frame, len);
	if (split) {
		struct gbuf b[2] = { { a, NET_HDR_SIZE, false }, { a + NET_HDR_SIZE, len, false } };

		return gq_add(g, b, 2);
	}
	{
		struct gbuf b = { a, NET_HDR_SIZE + len, false };

		return gq_add(g, &b, 1);
	}
}

static uint64_t rx_buffer(struct gq *g, uint32_t len)
{
	uint64_t a = galloc(len);
	struct gbuf b = { a, len, true };

	memset(hva(a, len), 0xee, len);
	gq_add(g, &b, 1);
	return a;
}

/* ---- a recording backend (the wire) ---- */

struct wire {
	struct net_backend b;
	uint8_t last[NET_MAX_FRAME];
	size_t last_len;
	unsigned frames;
	int fail;		/* next send returns this */
	bool paused;
};

static int wire_send(struct net_backend *b, const void *frame, size_t len)
{
	struct wire *w = (struct wire *)b;

	if (w->fail) {
		int r = w->fail;

		w->fail = 0;
		return r;
	}
	memcpy(w->last, frame, len);
	w->last_len = len;
	w->frames++;
	return 0;
}

static void wire_pause(struct net_backend *b, bool paused)
{
	((struct wire *)b)->paused = paused;
}

static void wire_destroy(struct net_backend *b)
{
	(void)b;
}

static const struct net_backend_ops wire_ops = { wire_send, wire_pause, wire_destroy };

static struct gq rxg, txg;
static struct net_core core;

static unsigned rx_seen;	/* receive-ring entries the test has looked at (guest_got) */

static void fresh(struct net_backend *b, bool mrg, bool guest_csum, bool host_csum)
{
	rx_seen = 0;
	if (core.txbuf)
		net_core_free(&core);
	gq_init(&rxg, RXBASE);
	gq_init(&txg, TXBASE);
	data_next = DATA;
	net_core_init(&core, "test-net", &mem, &rxg.q, &txg.q, b);
	net_core_set_features(&core, mrg, guest_csum, host_csum);
	core.running = true;
}

/* ---- frames ---- */

static const uint8_t guest_mac[6] = { 0x02, 0, 0, 0, 0, 0x15 };

static size_t eth(uint8_t *f, const uint8_t dst[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = type >> 8;
	f[13] = type & 0xff;
	return 14;
}

static uint16_t ip_csum(const uint8_t *p, size_t len)
{
	return ~net_csum_fold(p, len);
}

/* Ethernet + IPv4 + UDP with payload; UDP checksum left for the caller. */
static size_t udp_frame(uint8_t *f, const uint8_t dst_mac[6], const char *src, const char *dst,
			uint16_t sport, uint16_t dport, const void *payload, size_t plen)
{
	size_t off = eth(f, dst_mac, 0x0800);
	uint8_t *ip = f + off, *udp = ip + 20;
	uint16_t tot = 20 + 8 + plen, ulen = 8 + plen, c;

	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[2] = tot >> 8;
	ip[3] = tot & 0xff;
	ip[6] = 0x40;	/* DF */
	ip[8] = 64;
	ip[9] = 17;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	c = ip_csum(ip, 20);
	memcpy(ip + 10, &c, 2);
	udp[0] = sport >> 8;
	udp[1] = sport & 0xff;
	udp[2] = dport >> 8;
	udp[3] = dport & 0xff;
	udp[4] = ulen >> 8;
	udp[5] = ulen & 0xff;
	memcpy(udp + 8, payload, plen);
	return off + 28 + plen;
}

/* The UDP checksum over pseudo header + datagram: 0 when valid (folded sum 0xffff). */
static uint16_t udp_verify(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14;
	size_t ulen = len - 34;
	uint8_t *buf = malloc(12 + ulen + 1);
	uint16_t r;

	memcpy(buf, ip + 12, 8);
	buf[8] = 0;
	buf[9] = 17;
	buf[10] = ulen >> 8;
	buf[11] = ulen & 0xff;
	memcpy(buf + 12, ip + 20, ulen);
	r = ~net_csum_fold(buf, 12 + ulen);
	free(buf);
	return r;
}

/* Partial checksum as Linux leaves it: the pseudo header sum, not inverted. */
static void udp_partial(uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14;
	uint8_t ph[12];
	uint16_t s;

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	ph[10] = (len - 34) >> 8;
	ph[11] = (len - 34) & 0xff;
	s = net_csum_fold(ph, 12);
	memcpy(f + 34 + 6, &s, 2);
}

/* ---- transmit ---- */

static void test_tx(void)
{
	struct wire w = { .b = { .ops = &wire_ops, .name = "wire", .mtu = 1500 } };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct net_hdr h = { 0 };
	uint8_t f[2048];
	size_t len = udp_frame(f, bcast, "10.0.2.15", "10.0.2.2", 1000, 2000, "hello, wire", 11);
	uint16_t head;

	fresh(&w.b, false, false, false);
	head = tx_frame(&txg, &h, f, len, true);
	ok(net_core_tx(&core) == 0 && w.frames == 1 && w.last_len == len && !memcmp(w.last, f, len),
	   "tx: header + frame in two buffers reach the backend intact");
	ok(used_idx(&txg) == 1 && used_elem(&txg, 0).id == head && core.tx_used, "tx: the chain went back");
	tx_frame(&txg, &h, f, len, false);
	ok(net_core_tx(&core) == 0 && w.frames == 2 && w.last_len == len, "tx: header and frame in one buffer");
	ok(core.stats.tx_frames == 2 && core.stats.tx_bytes == 2 * len, "tx: counted");

	/* Checksum offload */
	h.flags = NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 34;
	h.csum_offset = 6;
	udp_partial(f, len);
	tx_frame(&txg, &h, f, len, true);
	net_core_tx(&core);
	ok(w.frames == 2 && core.stats.tx_malformed == 1, "tx: NEEDS_CSUM without the feature is dropped");
	fresh(&w.b, false, false, true);
	w.frames = 0;
	tx_frame(&txg, &h, f, len, true);
	net_core_tx(&core);
	ok(w.frames == 1 && udp_verify(w.last, w.last_len) == 0, "tx: a partial UDP checksum is completed");
	h.csum_offset = len - 34 - 1;
	tx_frame(&txg, &h, f, len, true);
	net_core_tx(&core);
	ok(w.frames == 1 && core.stats.tx_malformed == 1, "tx: checksum position past the end dropped");
	h.csum_start = 60000;
	h.csum_offset = 0;
	tx_frame(&txg, &h, f, len, true);
	net_core_tx(&core);
	ok(w.frames == 1 && core.stats.tx_malformed == 2, "tx: checksum start past the end dropped");
	memset(&h, 0, sizeof(h));
	h.gso_type = 1;
	tx_frame(&txg, &h, f, len, true);
	net_core_tx(&core);
	ok(w.frames == 1 && core.stats.tx_malformed == 3, "tx: segmentation offload not negotiated: dropped");
	h.gso_type = 0;

	/* Runts, truncated headers, oversized frames: dropped, buffers returned, no reset. */
	{
		uint64_t a = galloc(8);
		struct gbuf b = { a, 8, false };
		uint16_t before = used_idx(&txg);

		gq_add(&txg, &b, 1);
		net_core_tx(&core);
		ok(core.stats.tx_malformed == 4 && used_idx(&txg) == before + 1 && !core.violation,
		   "tx: chain shorter than the header dropped and returned");
	}
	tx_frame(&txg, &h, f, 10, false);
	net_core_tx(&core);
	ok(core.stats.tx_malformed == 5 && !core.violation, "tx: runt frame dropped");
	{
		uint64_t a = galloc(70000);
		struct gbuf b[2] = { { a, NET_HDR_SIZE, false }, { a + NET_HDR_SIZE, 70000 - NET_HDR_SIZE, false } };

		memset(hva(a, NET_HDR_SIZE), 0, NET_HDR_SIZE);
		gq_add(&txg, b, 2);
		net_core_tx(&core);
		ok(core.stats.tx_malformed == 6 && w.frames == 1 && !core.violation, "tx: oversized frame dropped");
	}

	/* Backend full: the frame is kept, nothing more is taken until it has room. */
	w.fail = -EAGAIN;
	tx_frame(&txg, &h, f, len, true);
	tx_frame(&txg, &h, f, len, true);
	ok(net_core_tx(&core) == 0 && core.tx_pending == len && w.frames == 1, "tx: backend full holds the frame");
	ok(txg.q.last_avail == txg.avail_idx - 1, "tx: the next chain stays in the queue");
	ok(net_core_tx(&core) == 0 && w.frames == 1, "tx: no progress while blocked");
	ok(net_core_tx_resume(&core) == 0 && w.frames == 3 && !core.tx_pending, "tx: resume sends both");
	w.fail = -EIO;
	tx_frame(&txg, &h, f, len, true);
	net_core_tx(&core);
	ok(core.stats.tx_errors == 1 && !core.tx_pending, "tx: backend error counted, frame gone");

	/* Protocol violations */
	{
		uint64_t a = galloc(64);
		struct gbuf b[2] = { { a, NET_HDR_SIZE, false }, { a + 32, 32, true } };

		memset(hva(a, 64), 0, 64);
		gq_add(&txg, b, 2);
		ok(net_core_tx(&core) < 0 && core.violation, "tx: device-writable buffer is a violation");
	}
	fresh(&w.b, false, false, false);
	{
		struct vring_desc *d = hva(TXBASE, 16 * QN);
		uint16_t *avail = hva(TXBASE + 0x1000, 6);

		d[0] = (struct vring_desc){ galloc(64), 64, VRING_DESC_F_NEXT, 1 };
		d[1] = (struct vring_desc){ galloc(64), 64, VRING_DESC_F_NEXT, 0 };
		avail[2] = 0;
		avail[1] = 1;
		ok(net_core_tx(&core) < 0 && core.violation, "tx: descriptor loop is a violation");
		ok(net_core_tx(&core) == 0, "tx: nothing more after a violation");
	}
	net_core_reset(&core);
	ok(!core.violation, "reset clears the violation");
}

/* ---- receive ---- */

static void test_rx(void)
{
	struct wire w = { .b = { .ops = &wire_ops, .name = "wire", .mtu = 1500, .csum_valid = true } };
	uint8_t frame[5000];
	struct net_hdr h;
	uint64_t a, b, c;

	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = i * 7 + 3;

	/* One buffer per frame */
	fresh(&w.b, false, false, false);
	a = rx_buffer(&rxg, 1526);
	net_core_receive(&core, frame, 1000);
	memcpy(&h, hva(a, NET_HDR_SIZE), NET_HDR_SIZE);
	ok(used_idx(&rxg) == 1 && used_elem(&rxg, 0).len == NET_HDR_SIZE + 1000, "rx: frame in one buffer");
	ok(h.num_buffers == 1 && h.flags == 0 && h.gso_type == 0, "rx: header (one buffer, no DATA_VALID)");
	ok(!memcmp(hva(a + NET_HDR_SIZE, 1000), frame, 1000), "rx: frame bytes");
	ok(core.rx_used && core.stats.rx_frames == 1, "rx: interrupt wanted, counted");

	a = rx_buffer(&rxg, 600);
	net_core_receive(&core, frame, 1000);
	ok(core.stats.rx_too_big == 1 && used_idx(&rxg) == 1, "rx: frame larger than the buffer dropped");
	net_core_receive(&core, frame, 500);
	ok(used_idx(&rxg) == 2 && !memcmp(hva(a + NET_HDR_SIZE, 500), frame, 500),
	   "rx: the buffer serves the next frame that fits");

	/* Nothing available: backlog, delivered when buffers come */
	net_core_receive(&core, frame, 300);
	ok(core.bl_count == 1 && used_idx(&rxg) == 2, "rx: no buffer: frame held");
	a = rx_buffer(&rxg, 1526);
	net_core_rx(&core);
	ok(core.bl_count == 0 && used_idx(&rxg) == 3 && !memcmp(hva(a + NET_HDR_SIZE, 300), frame, 300),
	   "rx: held frame delivered into the new buffer");

	/* Driver not ready yet: held, not delivered */
	core.running = false;
	rx_buffer(&rxg, 1526);
	net_core_receive(&core, frame, 100);
	ok(core.bl_count == 1 && used_idx(&rxg) == 3, "rx: nothing delivered before DRIVER_OK");
	core.running = true;
	net_core_rx(&core);
	ok(core.bl_count == 0 && used_idx(&rxg) == 4, "rx: delivered once running");

	/* Mergeable buffers */
	fresh(&w.b, true, true, false);
	a = rx_buffer(&rxg, 2048);
	net_core_receive(&core, frame, 5000);
	ok(used_idx(&rxg) == 0 && core.bl_count == 1 && rxg.q.last_avail == 0,
	   "mrg: not enough buffers: nothing used, the buffer given back to the ring");
	b = rx_buffer(&rxg, 2048);
	c = rx_buffer(&rxg, 2048);
	net_core_rx(&core);
	memcpy(&h, hva(a, NET_HDR_SIZE), NET_HDR_SIZE);
	ok(used_idx(&rxg) == 3 && core.bl_count == 0, "mrg: 5000 bytes over three 2048-byte buffers, one index update");
	ok(h.num_buffers == 3 && h.flags == NET_HDR_F_DATA_VALID, "mrg: num_buffers 3, DATA_VALID from a checked backend");
	ok(used_elem(&rxg, 0).len == 2048 && used_elem(&rxg, 1).len == 2048 &&
	   used_elem(&rxg, 2).len == 5000 + NET_HDR_SIZE - 4096, "mrg: used lengths");
	ok(!memcmp(hva(a + NET_HDR_SIZE, 2036), frame, 2036) && !memcmp(hva(b, 2048), frame + 2036, 2048) &&
	   !memcmp(hva(c, 5000 - 4084), frame + 4084, 5000 - 4084), "mrg: bytes contiguous across buffers");
	a = rx_buffer(&rxg, NET_HDR_SIZE);
	b = rx_buffer(&rxg, 100);
	net_core_receive(&core, frame, 60);
	memcpy(&h, hva(a, NET_HDR_SIZE), NET_HDR_SIZE);
	ok(used_idx(&rxg) == 5 && h.num_buffers == 2 && !memcmp(hva(b, 60), frame, 60),
	   "mrg: a header-only first buffer, the frame in the next");

	/* Tiny buffers the guest can never fill a frame with: dropped, no stall */
	fresh(&w.b, true, false, false);
	for (int i = 0; i < QN; i++)
		rx_buffer(&rxg, 16);
	net_core_receive(&core, frame, 5000);
	ok(core.stats.rx_too_big == 1 && core.bl_count == 0 && used_idx(&rxg) == 0,
	   "mrg: frame larger than the whole ring dropped");
	net_core_receive(&core, frame, 10);
	ok(used_idx(&rxg) == 2, "mrg: the ring still serves small frames (header + 4 bytes, then 6)");

	/* Violations */
	fresh(&w.b, true, false, false);
	rx_buffer(&rxg, 8);
	net_core_receive(&core, frame, 100);
	ok(core.violation != NULL, "rx: buffer smaller than the header is a violation");
	fresh(&w.b, false, false, false);
	{
		uint64_t r = galloc(2048);
		struct gbuf bb[2] = { { r, 100, false }, { r + 100, 1500, true } };

		gq_add(&rxg, bb, 2);
		net_core_receive(&core, frame, 100);
		ok(core.violation != NULL, "rx: device-readable buffer is a violation");
	}

	/* Backpressure: the backlog asks the backend to pause, is bounded, resumes. */
	fresh(&w.b, false, false, false);
	for (int i = 0; i < NET_BACKLOG_FRAMES + 10; i++)
		net_core_receive(&core, frame, 1000);
	ok(core.bl_count == NET_BACKLOG_FRAMES && core.stats.rx_dropped == 10, "rx: backlog bounded, excess dropped");
	ok(w.paused, "rx: backend asked to pause");
	for (int round = 0; round < 20 && core.bl_count; round++) {
		gq_init(&rxg, RXBASE);	/* a fresh ring each round: the driver recycled its buffers */
		data_next = DATA;
		for (int i = 0; i < QN; i++)
			rx_buffer(&rxg, 1526);
		net_core_rx(&core);
	}
	ok(core.bl_count == 0 && !w.paused, "rx: backlog drained, backend resumed");
	net_core_receive(&core, frame, 0);
	net_core_receive(&core, frame, NET_MAX_FRAME + 1);
	ok(core.stats.rx_too_big == 2, "rx: empty and oversized backend frames refused");
	net_core_free(&core);
	core.txbuf = NULL;
}

/* ---- the real slirp backend ---- */

static void slirp_rx(void *opaque, const void *frame, size_t len)
{
	net_core_receive(opaque, frame, len);
}

/* The next frame the guest got (after running the loop up to ms), or 0. */
static size_t guest_got(struct event_loop *loop, uint8_t *out, int ms)
{
	unsigned seen = rx_seen;

	for (int i = 0; i < ms / 10 && used_idx(&rxg) == (uint16_t)seen; i++)
		loop_run_once(loop, 10);
	if (used_idx(&rxg) == (uint16_t)seen)
		return 0;
	{
		struct vring_used_elem e = used_elem(&rxg, seen);
		struct vring_desc *d = hva(RXBASE, 16 * QN);
		size_t len = e.len - NET_HDR_SIZE;

		rx_seen = seen + 1;
		memcpy(out, hva(d[e.id].addr + NET_HDR_SIZE, len), len);
		return len;
	}
}

/* host_loopback: whether 10.0.2.2 reaches the host's loopback (off unless asked for). */
static void test_slirp(bool host_loopback)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct event_loop *loop;
	struct net_backend *b;
	struct net_hdr h = { 0 };
	uint8_t f[2048], got[NET_MAX_FRAME], gw_mac[6];
	size_t len, n;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int us, ret;

	if (loop_create(&loop) || net_slirp_create(loop, NULL, host_loopback, NULL, 0, &b)) {
		ok(0, "slirp: backend created");
		return;
	}
	ok(b->mtu == SLIRP_MTU && b->csum_valid, "slirp: MTU 65520, checked checksums");
	fresh(b, false, true, false);
	b->peer.receive = slirp_rx;
	b->peer.opaque = &core;
	for (int i = 0; i < QN; i++)
		rx_buffer(&rxg, 1526);

	/* ARP for the gateway */
	len = eth(f, bcast, 0x0806);
	memcpy(f + len, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	memcpy(f + len + 8, guest_mac, 6);
	inet_pton(AF_INET, "10.0.2.15", f + len + 14);
	memset(f + len + 18, 0, 6);
	inet_pton(AF_INET, "10.0.2.2", f + len + 24);
	len += 28;
	tx_frame(&txg, &h, f, len, true);
	net_core_tx(&core);
	n = guest_got(loop, got, 1000);
	ok(n >= 42 && got[12] == 0x08 && got[13] == 0x06 && got[21] == 2 && !memcmp(got, guest_mac, 6) &&
	   !memcmp(got + 28, "\x0a\x00\x02\x02", 4), "slirp: ARP reply for 10.0.2.2");
	memcpy(gw_mac, got + 22, 6);

	/* UDP to 10.0.2.2:port reaches a host socket on 127.0.0.1:port, and its reply comes back. */
	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bind(us, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(us, (struct sockaddr *)&sa, &sl);
	len = udp_frame(f, gw_mac, "10.0.2.15", "10.0.2.2", 40000, ntohs(sa.sin_port), "ping-udp", 8);
	tx_frame(&txg, &h, f, len, true);
	net_core_tx(&core);
	{
		char buf[64];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t r = -1;

		for (int i = 0; i < 100 && r < 0; i++) {
			loop_run_once(loop, 10);
			r = recvfrom(us, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		}
		if (!host_loopback) {
			ok(r < 0, "slirp (default): guest UDP to 10.0.2.2 does not reach the host's loopback");
			close(us);
			net_backend_destroy(b);
			loop_destroy(loop);
			return;
		}
		ok(r == 8 && !memcmp(buf, "ping-udp", 8), "slirp (host loopback allowed): guest UDP to 10.0.2.2 "
		   "reaches the host's loopback");
		if (r == 8)
			sendto(us, "pong-udp", 8, 0, (struct sockaddr *)&from, fl);
	}
	n = guest_got(loop, got, 2000);
	ok(n == 42 + 8 && !memcmp(got + 42, "pong-udp", 8) && got[36] == 40000 >> 8 && got[37] == (40000 & 0xff),
	   "slirp: the host's reply reaches the guest's port");
	ok(udp_verify(got, n) == 0 || (got[40] == 0 && got[41] == 0), "slirp: reply checksum valid");
	close(us);

	/* A UDP host forward: host datagram to 127.0.0.1:P arrives at the guest's port 5353. */
	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sa.sin_port = 0;
	bind(us, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(us, (struct sockaddr *)&sa, &sl);
	close(us);	/* a port that was free a moment ago */
	ret = net_slirp_forward(b, true, sa.sin_addr, ntohs(sa.sin_port), 5353);
	ok(ret == 0, "slirp: UDP forward added");
	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sendto(us, "to-guest", 8, 0, (struct sockaddr *)&sa, sizeof(sa));
	n = guest_got(loop, got, 2000);
	ok(n == 42 + 8 && !memcmp(got + 42, "to-guest", 8) && got[36] == 5353 >> 8 && got[37] == (5353 & 0xff),
	   "slirp: forwarded datagram arrives at guest port 5353");
	ok(net_slirp_forward(b, true, sa.sin_addr, ntohs(sa.sin_port), 5353) < 0,
	   "slirp: the same forward twice refused");
	close(us);
	net_core_free(&core);
	core.txbuf = NULL;
	net_backend_destroy(b);
	loop_destroy(loop);
}

int main(void)
{
	guest_mem_alloc(&mem, 64 * MiB);
	test_tx();
	test_rx();
	test_slirp(false);
	test_slirp(true);
	guest_mem_free(&mem);
	return tap_done();
}
