/*
 * virtio-vsock connections without a VM: header checks, the state machine,
 * credit in both directions, listeners, host-initiated connections, resets.
 * The test plays the guest: it feeds packets in and takes the packets the
 * core has for the guest's rx queue; host ends are real sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/virtio/vsock-core.h"
#include "devices/virtio/vsock-uds.h"
#include "tests/unit/tap.h"
#include "vmm/loop.h"

#define CID 3

static struct event_loop *loop;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct vsock_core core;
static int wakes;
static int accepted_fd = -1;
static uint32_t accepted_port;
static uint8_t payload[VSOCK_MAX_PKT];

static void on_wake(void *opaque)
{
	wakes++;
}

static void on_accept(void *opaque, int fd, uint32_t guest_port)
{
	accepted_fd = fd;
	accepted_port = guest_port;
}

static void setup(void)
{
	struct vsock_core_config cfg = {
		.name = "test-vsock", .loop = loop, .lock = &lock, .guest_cid = CID, .wake = on_wake,
	};

	vsock_core_init(&core, &cfg);
	vsock_core_listen(&core, 1024, on_accept, NULL);
}

static void teardown(void)
{
	vsock_core_destroy(&core);
	if (accepted_fd >= 0)
		close(accepted_fd);
	accepted_fd = -1;
}

static void guest_send(uint16_t op, uint32_t src_port, uint32_t dst_port, uint32_t flags,
		       uint32_t buf_alloc, uint32_t fwd_cnt, const void *data, uint32_t len)
{
	struct vsock_hdr h = {
		.src_cid = CID, .dst_cid = VSOCK_HOST_CID, .src_port = src_port, .dst_port = dst_port,
		.len = len, .type = VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = buf_alloc, .fwd_cnt = fwd_cnt,
	};
	const char *why;
	enum vsock_verdict v = vsock_hdr_check(&h, CID, len, &why);

	if (v == VSOCK_PKT_OK)
		vsock_core_guest_packet(&core, &h, data);
	else
		vsock_core_guest_bad(&core, &h, v, why);
}

/* The next packet for the guest (op 0 when none). */
static struct vsock_hdr rx(uint32_t cap)
{
	struct vsock_hdr h = { 0 };

	if (!vsock_core_next_rx(&core, &h, payload, cap))
		h.op = 0;
	return h;
}

/* Let host-fd events reach the core. */
static void pump(void)
{
	for (int i = 0; i < 5; i++)
		loop_run_once(loop, 20);
	vsock_core_run_deferred(&core);
}

static void test_headers(void)
{
	uint8_t raw[VSOCK_HDR_SIZE];
	struct vsock_hdr h = {
		.src_cid = 0x1122334455667788ULL, .dst_cid = 2, .src_port = 0xdeadbeef, .dst_port = 1024,
		.len = 17, .type = 1, .op = 5, .flags = 3, .buf_alloc = 65536, .fwd_cnt = 99,
	}, g;
	const char *why;

	vsock_hdr_encode(&h, raw);
	vsock_hdr_decode(raw, &g);
	ok(!memcmp(&h, &g, sizeof(h)), "header encode/decode round trip");
	ok(raw[0] == 0x88 && raw[7] == 0x11 && raw[16] == 0xef && raw[30] == 5, "header is little endian");

	h = (struct vsock_hdr){ .src_cid = CID, .dst_cid = 2, .type = 1, .op = VSOCK_OP_RW, .len = 10 };
	ok(vsock_hdr_check(&h, CID, 10, &why) == VSOCK_PKT_OK, "valid RW accepted");
	ok(vsock_hdr_check(&h, CID, 9, &why) == VSOCK_PKT_RST, "len past the chain: RST (%s)", why);
	h.len = VSOCK_MAX_PKT + 1;
	ok(vsock_hdr_check(&h, CID, UINT32_MAX, &why) == VSOCK_PKT_RST, "len over 64 KiB: RST");
	h.len = 0;
	h.src_cid = 4;
	ok(vsock_hdr_check(&h, CID, 0, &why) == VSOCK_PKT_DROP, "spoofed source CID: dropped");
	h.src_cid = CID;
	h.dst_cid = 5;
	ok(vsock_hdr_check(&h, CID, 0, &why) == VSOCK_PKT_DROP, "other destination CID: dropped");
	h.dst_cid = 2;
	h.type = 2;
	ok(vsock_hdr_check(&h, CID, 0, &why) == VSOCK_PKT_RST, "seqpacket type: RST");
	h.type = 1;
	h.op = 8;
	ok(vsock_hdr_check(&h, CID, 0, &why) == VSOCK_PKT_RST, "op 8: RST");
	h.op = 0;
	ok(vsock_hdr_check(&h, CID, 0, &why) == VSOCK_PKT_RST, "op 0: RST");
	h.op = VSOCK_OP_REQUEST;
	h.len = 1;
	ok(vsock_hdr_check(&h, CID, 1, &why) == VSOCK_PKT_RST, "REQUEST with payload: RST");
	h.op = VSOCK_OP_SHUTDOWN;
	h.len = 0;
	h.flags = 4;
	ok(vsock_hdr_check(&h, CID, 0, &why) == VSOCK_PKT_RST, "SHUTDOWN flag 4: RST");
	h.op = VSOCK_OP_RST;
	h.type = 9;
	ok(vsock_hdr_check(&h, CID, 0, &why) == VSOCK_PKT_OK, "RST is never answered with RST");
	h.len = 3;
	ok(vsock_hdr_check(&h, CID, 3, &why) == VSOCK_PKT_DROP, "RST with payload: dropped");
}

static void test_listener_round_trip(void)
{
	struct vsock_hdr h;
	char buf[64];
	ssize_t n;

	setup();
	guest_send(VSOCK_OP_REQUEST, 5000, 1024, 0, 262144, 0, NULL, 0);
	h = rx(4096);
	ok(h.op == VSOCK_OP_RESPONSE && h.src_port == 1024 && h.dst_port == 5000 && h.dst_cid == CID &&
	   h.src_cid == 2 && h.buf_alloc == VSOCK_BUF_ALLOC, "REQUEST to a listener: RESPONSE");
	ok(rx(4096).op == 0, "nothing else queued");
	pump();
	ok(accepted_fd >= 0 && accepted_port == 5000, "listener got the connection as an fd");
	ok(fcntl(accepted_fd, F_GETFD) & FD_CLOEXEC, "accepted fd is close-on-exec");

	guest_send(VSOCK_OP_RW, 5000, 1024, 0, 262144, 0, "ping", 4);
	n = read(accepted_fd, buf, sizeof(buf));
	ok(n == 4 && !memcmp(buf, "ping", 4), "guest data reaches the host fd");

	n = write(accepted_fd, "pong!", 5);
	pump();
	h = rx(4096);
	ok(h.op == VSOCK_OP_RW && h.len == 5 && !memcmp(payload, "pong!", 5) && h.fwd_cnt == 4,
	   "host data reaches the guest with our fwd_cnt (%u)", h.fwd_cnt);
	ok(rx(4096).op == 0, "no more data");

	/* Host half-closes: the guest hears SHUTDOWN(SEND) and can still talk. */
	shutdown(accepted_fd, SHUT_WR);
	pump();
	h = rx(4096);
	ok(h.op == VSOCK_OP_SHUTDOWN && h.flags == VSOCK_SHUTDOWN_SEND, "host EOF: SHUTDOWN(SEND)");
	guest_send(VSOCK_OP_RW, 5000, 1024, 0, 262144, 5, "more", 4);
	n = read(accepted_fd, buf, sizeof(buf));
	ok(n == 4 && !memcmp(buf, "more", 4), "guest still sends after the host's EOF");
	/* The guest closes: the host sees EOF, the guest gets the final RST. */
	guest_send(VSOCK_OP_SHUTDOWN, 5000, 1024, VSOCK_SHUTDOWN_SEND | VSOCK_SHUTDOWN_RCV, 262144, 5, NULL, 0);
	n = read(accepted_fd, buf, sizeof(buf));
	ok(n == 0, "guest SHUTDOWN: host reads EOF");
	h = rx(4096);
	ok(h.op == VSOCK_OP_RST && h.dst_port == 5000, "closed both ways: RST to the guest");
	ok(core.nconns == 0, "connection freed");
	teardown();
}

static void test_refusals(void)
{
	struct vsock_hdr h;

	setup();
	guest_send(VSOCK_OP_REQUEST, 6000, 9999, 0, 65536, 0, NULL, 0);
	h = rx(4096);
	ok(h.op == VSOCK_OP_RST && h.src_port == 9999 && h.dst_port == 6000, "nobody listens: RST");
	guest_send(VSOCK_OP_RW, 6001, 1024, 0, 65536, 0, "x", 1);
	h = rx(4096);
	ok(h.op == VSOCK_OP_RST && h.dst_port == 6001, "data for an unknown connection: RST");
	guest_send(VSOCK_OP_RST, 6002, 1024, 0, 0, 0, NULL, 0);
	ok(rx(4096).op == 0, "RST for an unknown connection: silence");
	guest_send(VSOCK_OP_RESPONSE, 6003, 1024, 0, 0, 0, NULL, 0);
	ok(rx(4096).op == VSOCK_OP_RST, "RESPONSE nobody asked for: RST");

	/* Bad header through guest_bad */
	{
		struct vsock_hdr bad = { .src_cid = 7, .dst_cid = 2, .src_port = 1, .dst_port = 1024,
					 .type = 1, .op = VSOCK_OP_REQUEST };
		const char *why;
		enum vsock_verdict v = vsock_hdr_check(&bad, CID, 0, &why);

		vsock_core_guest_bad(&core, &bad, v, why);
		ok(rx(4096).op == 0 && core.nconns == 0, "spoofed CID REQUEST: dropped, no reply");
	}

	/* The RST ring is bounded. */
	for (int i = 0; i < VSOCK_MAX_RST + 10; i++)
		guest_send(VSOCK_OP_REQUEST, 7000 + i, 9999, 0, 65536, 0, NULL, 0);
	{
		int n = 0;

		while (rx(4096).op == VSOCK_OP_RST)
			n++;
		ok(n == VSOCK_MAX_RST, "RST queue bounded at %d (%d)", VSOCK_MAX_RST, n);
	}

	/* A second REQUEST on a live connection resets it. */
	guest_send(VSOCK_OP_REQUEST, 8000, 1024, 0, 65536, 0, NULL, 0);
	ok(rx(4096).op == VSOCK_OP_RESPONSE, "connection up");
	pump();
	guest_send(VSOCK_OP_REQUEST, 8000, 1024, 0, 65536, 0, NULL, 0);
	h = rx(4096);
	ok(h.op == VSOCK_OP_RST && core.nconns == 0, "duplicate REQUEST: RST, connection dropped");
	{
		char c;

		ok(read(accepted_fd, &c, 1) == 0, "host fd of the dropped connection sees EOF");
	}
	teardown();
}

static void test_credit(void)
{
	static char big[200000];
	struct vsock_hdr h;
	uint32_t total = 0;
	ssize_t n;

	setup();
	/* The guest grants only 1000 bytes of buffer. */
	guest_send(VSOCK_OP_REQUEST, 5100, 1024, 0, 1000, 0, NULL, 0);
	rx(4096);
	pump();
	memset(big, 'z', sizeof(big));
	n = write(accepted_fd, big, 5000);
	pump();
	while ((h = rx(4096)).op == VSOCK_OP_RW)
		total += h.len;
	ok(n == 5000 && total == 1000, "host->guest stops at the guest's credit (%u of 5000)", total);
	pump();
	ok(rx(4096).op == 0, "no data without credit, even when the fd is readable");
	guest_send(VSOCK_OP_CREDIT_UPDATE, 5100, 1024, 0, 1000, 600, NULL, 0);
	h = rx(4096);
	ok(h.op == VSOCK_OP_RW && h.len == 600, "credit update for 600 bytes: 600 more (%u)", h.len);
	/* A hostile fwd_cnt ahead of what we sent must not create credit. */
	guest_send(VSOCK_OP_CREDIT_UPDATE, 5100, 1024, 0, 1000, 100000, NULL, 0);
	ok(rx(4096).op == 0, "fwd_cnt beyond sent bytes: no credit");
	/* cap limits the packet size */
	guest_send(VSOCK_OP_CREDIT_UPDATE, 5100, 1024, 0, 100000, 1600, NULL, 0);
	h = rx(100);
	ok(h.op == VSOCK_OP_RW && h.len == 100, "packet fits the rx buffer (%u)", h.len);

	/* CREDIT_REQUEST is answered with our counters. */
	guest_send(VSOCK_OP_RW, 5100, 1024, 0, 100000, 1700, "abc", 3);
	while ((h = rx(4096)).op == VSOCK_OP_RW)
		;
	guest_send(VSOCK_OP_CREDIT_REQUEST, 5100, 1024, 0, 100000, 1700, NULL, 0);
	h = rx(4096);
	ok(h.op == VSOCK_OP_CREDIT_UPDATE && h.buf_alloc == VSOCK_BUF_ALLOC && h.fwd_cnt == 3,
	   "CREDIT_REQUEST: CREDIT_UPDATE with fwd_cnt 3 (%u)", h.fwd_cnt);
	teardown();
}

static void test_guest_overrun(void)
{
	static char chunk[VSOCK_MAX_PKT];
	struct vsock_hdr h;
	int sv[2], sndbuf = 4096;
	uint32_t sent = 0;

	setup();
	/* Host-initiated this time: we own the host socket and shrink its buffer. */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	ok(vsock_core_connect(&core, sv[0], 52, true) == 0, "host-initiated connect");
	h = rx(4096);
	ok(h.op == VSOCK_OP_REQUEST && h.dst_port == 52 && h.src_port == VSOCK_HOST_PORT_BASE,
	   "REQUEST to guest port 52 from host port 0x%x", h.src_port);
	guest_send(VSOCK_OP_RESPONSE, 52, h.src_port, 0, 65536, 0, NULL, 0);
	{
		char line[32] = { 0 };
		ssize_t n = read(sv[1], line, sizeof(line) - 1);

		ok(n > 0 && !strcmp(line, "OK 1073741824\n"), "host client reads 'OK <port>'");
	}
	/* The host never reads: the guest may fill our buffer, not more. */
	memset(chunk, 'q', sizeof(chunk));
	{
		bool reset = false;

		while (!reset && sent < 4 * VSOCK_BUF_ALLOC) {
			guest_send(VSOCK_OP_RW, 52, VSOCK_HOST_PORT_BASE, 0, 65536, 0, chunk, 4096);
			sent += 4096;
			while ((h = rx(4096)).op)
				reset |= h.op == VSOCK_OP_RST;
		}
		ok(reset, "guest overrunning our credit is reset (after %u bytes)", sent);
		ok(sent > VSOCK_BUF_ALLOC && sent <= 2 * VSOCK_BUF_ALLOC, "reset only past the buffer");
		ok(core.nconns == 0, "overrun connection freed");
	}
	close(sv[1]);
	teardown();

	/* Host client hangs up before the guest answers: RST to the guest. */
	setup();
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
	vsock_core_connect(&core, sv[0], 53, true);
	h = rx(4096);
	close(sv[1]);
	pump();
	h = rx(4096);
	ok(h.op == VSOCK_OP_RST && h.dst_port == 53 && core.nconns == 0, "client gone while connecting: RST");
	teardown();
}

static void test_host_close_and_reset(void)
{
	struct vsock_hdr h;
	char buf[16];

	setup();
	guest_send(VSOCK_OP_REQUEST, 5200, 1024, 0, 65536, 0, NULL, 0);
	rx(4096);
	pump();
	/* Data then close: the guest gets the data, SHUTDOWN(both), then RST. */
	if (write(accepted_fd, "bye", 3) != 3)
		return;
	close(accepted_fd);
	accepted_fd = -1;
	pump();
	h = rx(4096);
	ok(h.op == VSOCK_OP_RW && h.len == 3, "data written before close arrives");
	h = rx(4096);
	ok(h.op == VSOCK_OP_SHUTDOWN && h.flags == 3, "host close: SHUTDOWN(RCV|SEND) (flags %u)", h.flags);
	h = rx(4096);
	ok(h.op == VSOCK_OP_RST && core.nconns == 0, "then RST, connection freed");

	/* Transport reset drops everything without packets. */
	guest_send(VSOCK_OP_REQUEST, 5300, 1024, 0, 65536, 0, NULL, 0);
	guest_send(VSOCK_OP_REQUEST, 5301, 1024, 0, 65536, 0, NULL, 0);
	pump();
	pthread_mutex_lock(&lock);
	vsock_core_request_reset(&core);
	pthread_mutex_unlock(&lock);
	pump();
	ok(core.nconns == 0 && rx(4096).op == 0, "reset: no connections, nothing to send");
	ok(read(accepted_fd, buf, sizeof(buf)) == 0, "reset: host fds see EOF");
	teardown();

	/* Connection limit */
	setup();
	{
		int refused = 0, fds[VSOCK_MAX_CONNS + 1], nf = 0;

		for (int i = 0; i < VSOCK_MAX_CONNS + 1; i++) {
			guest_send(VSOCK_OP_REQUEST, 20000 + i, 1024, 0, 65536, 0, NULL, 0);
			h = rx(4096);
			if (h.op == VSOCK_OP_RST)
				refused++;
			vsock_core_run_deferred(&core);
			if (accepted_fd >= 0)
				fds[nf++] = accepted_fd;
			accepted_fd = -1;
		}
		ok(core.nconns == VSOCK_MAX_CONNS && refused == 1, "connection %d refused (%d refused)",
		   VSOCK_MAX_CONNS + 1, refused);
		for (int i = 0; i < nf; i++)
			close(fds[i]);
	}
	teardown();
}

/* The unix socket front end and PATH_<port> forwarding, with real sockets. */
static void test_uds(void)
{
	char dir[] = "/tmp/vmm-test-vsock-XXXXXX", path[128], fwd[140], line[32] = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vsock_core_config cfg = {
		.name = "test-vsock", .loop = loop, .lock = &lock, .guest_cid = CID, .wake = on_wake,
	};
	struct vsock_uds *u = NULL;
	struct vsock_hdr h;
	int cl, lfd, afd;
	ssize_t n;

	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/v.sock", dir);
	cfg.uds_path = path;
	vsock_core_init(&core, &cfg);
	ok(vsock_uds_create(&core, path, &u, NULL) == 0, "unix socket front end listens");

	/* Host program -> guest port 52 */
	cl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, path);
	ok(connect(cl, (struct sockaddr *)&sa, sizeof(sa)) == 0, "client connects");
	n = write(cl, "CONNECT 52\nearly", 16);
	pump();
	h = rx(4096);
	ok(n == 16 && h.op == VSOCK_OP_REQUEST && h.dst_port == 52, "CONNECT 52 becomes a REQUEST");
	guest_send(VSOCK_OP_RESPONSE, 52, h.src_port, 0, 65536, 0, NULL, 0);
	pump();
	h = rx(4096);
	n = read(cl, line, sizeof(line) - 1);
	ok(n > 0 && !strncmp(line, "OK 1073741824\n", 14), "client reads OK <port>");
	ok(h.op == VSOCK_OP_RW && h.len == 5 && !memcmp(payload, "early", 5),
	   "bytes sent after the CONNECT line reach the guest");
	close(cl);

	/* A bad request is just closed. */
	cl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	connect(cl, (struct sockaddr *)&sa, sizeof(sa));
	n = write(cl, "HELLO 52\n", 9);
	pump();
	ok(read(cl, line, sizeof(line)) == 0, "malformed request: closed without an answer");
	close(cl);
	while (rx(4096).op)
		;

	/* Guest -> host port 5000 with nobody listening, then with PATH_5000. */
	guest_send(VSOCK_OP_REQUEST, 7777, 5000, 0, 65536, 0, NULL, 0);
	ok(rx(4096).op == VSOCK_OP_RST, "no PATH_5000: RST");
	snprintf(fwd, sizeof(fwd), "%s_5000", path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, fwd);
	bind(lfd, (struct sockaddr *)&sa, sizeof(sa));
	listen(lfd, 4);
	guest_send(VSOCK_OP_REQUEST, 7778, 5000, 0, 65536, 0, NULL, 0);
	ok(rx(4096).op == VSOCK_OP_RESPONSE, "PATH_5000 listens: RESPONSE");
	afd = accept(lfd, NULL, NULL);
	guest_send(VSOCK_OP_RW, 7778, 5000, 0, 65536, 0, "fwd", 3);
	line[0] = 0;
	ok(afd >= 0 && read(afd, line, sizeof(line)) == 3 && !memcmp(line, "fwd", 3),
	   "guest data reaches the PATH_5000 listener");
	close(afd);
	close(lfd);
	unlink(fwd);

	/* A second front end on the same live path is refused. */
	{
		struct vsock_uds *u2 = NULL;

		ok(vsock_uds_create(&core, path, &u2, NULL) == -EADDRINUSE, "a live socket path is not taken over");
	}
	vsock_uds_destroy(u);
	ok(access(path, F_OK) < 0, "socket file removed");
	teardown();
	rmdir(dir);
}

static void test_uds_parse(void)
{
	uint32_t port = 0;

	ok(vsock_uds_parse_connect("CONNECT 52", &port) == 0 && port == 52, "CONNECT 52");
	ok(vsock_uds_parse_connect("CONNECT 4294967295", &port) == 0 && port == 4294967295u, "CONNECT max");
	ok(vsock_uds_parse_connect("CONNECT 4294967296", &port) < 0, "CONNECT 2^32 refused");
	ok(vsock_uds_parse_connect("CONNECT -1", &port) < 0, "CONNECT -1 refused");
	ok(vsock_uds_parse_connect("CONNECT ", &port) < 0, "CONNECT without port refused");
	ok(vsock_uds_parse_connect("connect 52", &port) < 0, "lower case refused");
	ok(vsock_uds_parse_connect("CONNECT 52 x", &port) < 0, "trailing garbage refused");
}

int main(void)
{
	loop_create(&loop);
	test_headers();
	test_listener_round_trip();
	test_refusals();
	test_credit();
	test_guest_overrun();
	test_host_close_and_reset();
	test_uds();
	test_uds_parse();
	loop_destroy(loop);
	(void)wakes;
	return tap_done();
}
