/*
 * virtio-vsock stream connections (vsock-core.h): header checks, the state
 * machine, credit-based flow control, and the host file descriptors behind
 * each connection.
 *
 * Flow control, guest->host: we advertise VSOCK_BUF_ALLOC bytes per
 * connection; RW payloads go to a ring of that size and leave it as the host
 * fd takes them (fwd_cnt). A guest sending past its credit is reset.
 * Host->guest: we read the host fd only while the guest has credit
 * (peer_buf_alloc - (sent_cnt - peer_fwd_cnt)) and an rx buffer to put the
 * bytes in, so a slow guest stops us reading instead of filling memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/virtio/vsock-core.h"
#include "vmm/base/log.h"
#include "vmm/loop.h"
#include "vmm/base/util.h"

enum conn_state { CONN_CONNECTING, CONN_ESTABLISHED };

/* Packets a connection owes the guest. */
#define PEND_REQUEST	1u
#define PEND_RESPONSE	2u
#define PEND_CREDIT	4u
#define PEND_RST	8u	/* send RST, then free the connection */

struct vsock_conn {
	struct vsock_core *core;
	struct vsock_conn *next;	/* all connections */
	struct vsock_conn *ready_next;	/* the ready queue */
	bool queued;
	uint32_t guest_port, host_port;
	enum conn_state state;
	int fd;				/* host end; -1 once closed */
	bool in_loop;
	uint32_t events;		/* epoll interest now */
	bool uds;			/* answer "OK <port>\n" when established */
	bool readable;			/* the host fd may have data or EOF */
	bool host_eof;			/* read 0: the host sends no more */
	bool host_hup;			/* the host end is fully closed */
	bool guest_no_send, guest_no_rcv;	/* the guest's SHUTDOWN flags */
	bool wr_shut;			/* shutdown(fd, SHUT_WR) done */
	unsigned pending;
	/* guest -> host */
	uint8_t *buf;			/* ring of VSOCK_BUF_ALLOC bytes */
	uint32_t buf_head, buf_len;
	uint32_t fwd_cnt, fwd_cnt_sent;
	/* host -> guest */
	uint32_t sent_cnt, peer_buf_alloc, peer_fwd_cnt;
};

/* ---- connection table ---- */

static void wake(struct vsock_core *c)
{
	if (c->cfg.wake)
		c->cfg.wake(c->cfg.opaque);
}

static void poke_work(struct vsock_core *c)
{
	uint64_t one = 1;

	if (write(c->work_fd, &one, sizeof(one)) < 0)
		dev_debug(c->cfg.name, "work eventfd: %s", strerror(errno));
}

static struct vsock_conn *find(struct vsock_core *c, uint32_t guest_port, uint32_t host_port)
{
	for (struct vsock_conn *k = c->conns; k; k = k->next)
		if (k->guest_port == guest_port && k->host_port == host_port)
			return k;
	return NULL;
}

static void queue_rst(struct vsock_core *c, uint32_t guest_port, uint32_t host_port)
{
	struct vsock_hdr *h;

	if (c->rst_count == VSOCK_MAX_RST) {
		dev_debug(c->cfg.name, "RST queue full; guest port %u left to time out", guest_port);
		return;
	}
	h = &c->rst[(c->rst_head + c->rst_count++) % VSOCK_MAX_RST];
	*h = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID, .dst_cid = c->cfg.guest_cid,
		.src_port = host_port, .dst_port = guest_port,
		.type = VSOCK_TYPE_STREAM, .op = VSOCK_OP_RST,
	};
	wake(c);
}

static void unqueue(struct vsock_core *c, struct vsock_conn *k)
{
	if (!k->queued)
		return;
	for (struct vsock_conn **p = &c->ready_head, *prev = NULL; *p; prev = *p, p = &(*p)->ready_next) {
		if (*p != k)
			continue;
		*p = k->ready_next;
		if (c->ready_tail == k)
			c->ready_tail = prev;
		break;
	}
	k->queued = false;
	k->ready_next = NULL;
}

static void close_host(struct vsock_conn *k)
{
	if (k->fd < 0)
		return;
	if (k->in_loop)
		loop_remove(k->core->cfg.loop, k->fd);
	k->in_loop = false;
	close(k->fd);
	k->fd = -1;
}

static void conn_free(struct vsock_conn *k)
{
	struct vsock_core *c = k->core;

	unqueue(c, k);
	for (struct vsock_conn **p = &c->conns; *p; p = &(*p)->next) {
		if (*p == k) {
			*p = k->next;
			break;
		}
	}
	c->nconns--;
	close_host(k);
	free(k->buf);
	free(k);
}

static uint32_t credit(const struct vsock_conn *k)
{
	uint32_t in_flight = k->sent_cnt - k->peer_fwd_cnt;

	if (k->state != CONN_ESTABLISHED || in_flight >= k->peer_buf_alloc)
		return 0;
	return k->peer_buf_alloc - in_flight;
}

static bool may_send_data(const struct vsock_conn *k)
{
	return k->state == CONN_ESTABLISHED && k->fd >= 0 && !k->host_eof && !k->guest_no_rcv &&
	       !(k->pending & PEND_RST);
}

static void conn_update(struct vsock_conn *k);

/* Close the host side and say RST to the guest; the connection goes once it is sent. */
static void conn_reset(struct vsock_conn *k)
{
	close_host(k);
	k->buf_len = 0;
	k->readable = false;
	k->pending = PEND_RST;
	conn_update(k);
}

/* Recompute the epoll interest and whether the guest is owed a packet. */
static void conn_update(struct vsock_conn *k)
{
	struct vsock_core *c = k->core;
	bool want_in, want_out, ready;

	if (k->fd >= 0 && k->host_hup && k->in_loop) {
		/* Fully closed: epoll would report HUP forever; read the rest on demand. */
		loop_remove(c->cfg.loop, k->fd);
		k->in_loop = false;
	}
	if (k->fd >= 0 && k->in_loop) {
		uint32_t ev;

		want_in = may_send_data(k) && !k->readable && credit(k) > 0;
		want_out = k->buf_len > 0;
		ev = (want_in ? EPOLLIN : 0) | (want_out ? EPOLLOUT : 0);
		if (ev != k->events && !loop_modify(c->cfg.loop, k->fd, ev))
			k->events = ev;
	}
	ready = k->pending || (k->readable && may_send_data(k) && credit(k) > 0);
	if (ready && !k->queued) {
		k->queued = true;
		k->ready_next = NULL;
		if (c->ready_tail)
			c->ready_tail->ready_next = k;
		else
			c->ready_head = k;
		c->ready_tail = k;
		wake(c);
	}
}

/* Write buffered guest bytes to the host fd. -errno when the host end is broken. */
static int flush(struct vsock_conn *k)
{
	while (k->buf_len && k->fd >= 0) {
		uint32_t n = MIN(k->buf_len, VSOCK_BUF_ALLOC - k->buf_head);
		ssize_t w = send(k->fd, k->buf + k->buf_head, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		k->buf_head = (k->buf_head + w) % VSOCK_BUF_ALLOC;
		k->buf_len -= w;
		k->fwd_cnt += w;
	}
	/* Return credit before the guest runs dry. */
	if (k->fwd_cnt - k->fwd_cnt_sent >= VSOCK_BUF_ALLOC / 2)
		k->pending |= PEND_CREDIT;
	if (k->buf_len || !k->guest_no_send || k->fd < 0)
		return 0;
	if (!k->wr_shut) {
		shutdown(k->fd, SHUT_WR);
		k->wr_shut = true;
	}
	/* Both directions finished: close with an RST, as Linux expects. */
	if (k->guest_no_rcv || k->host_eof)
		conn_reset(k);
	return 0;
}

static void conn_event(void *opaque, uint32_t events)
{
	struct vsock_conn *k = opaque;
	struct vsock_core *c = k->core;

	pthread_mutex_lock(c->cfg.lock);
	if (c->reset_pending) {
		/* k may be gone with the reset. */
		vsock_core_reset_all(c);
		c->reset_pending = false;
		pthread_mutex_unlock(c->cfg.lock);
		return;
	}
	if (events & EPOLLERR) {
		conn_reset(k);
		goto out;
	}
	if (k->state == CONN_CONNECTING && (events & (EPOLLHUP | EPOLLRDHUP))) {
		conn_reset(k);	/* the host client gave up before the guest answered */
		goto out;
	}
	if ((events & EPOLLOUT) && flush(k) < 0) {
		conn_reset(k);
		goto out;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
		k->readable = true;
	if (events & EPOLLHUP) {
		k->host_hup = true;
		if (!may_send_data(k)) {
			conn_reset(k);	/* nothing more can travel */
			goto out;
		}
	}
	conn_update(k);
out:
	pthread_mutex_unlock(c->cfg.lock);
}

static struct vsock_conn *conn_new(struct vsock_core *c, uint32_t guest_port, uint32_t host_port, int fd)
{
	struct vsock_conn *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->core = c;
	k->guest_port = guest_port;
	k->host_port = host_port;
	k->fd = fd;
	if (loop_add(c->cfg.loop, fd, 0, conn_event, k)) {
		free(k);
		return NULL;
	}
	k->in_loop = true;
	k->next = c->conns;
	c->conns = k;
	c->nconns++;
	return k;
}

/* ---- packets from the guest ---- */

/* The first guest misbehaviour is a warning, the rest debug lines. */
static void warn_once(struct vsock_core *c, uint32_t guest_port, uint32_t host_port, const char *why)
{
	if (!c->warned)
		dev_warn(c->cfg.name, "guest port %u -> host port %u: %s (further ones at debug level)",
			 guest_port, host_port, why);
	else
		dev_debug(c->cfg.name, "guest port %u -> host port %u: %s", guest_port, host_port, why);
	c->warned = true;
}

void vsock_core_guest_bad(struct vsock_core *c, const struct vsock_hdr *h,
			  enum vsock_verdict v, const char *why)
{
	struct vsock_conn *k;

	warn_once(c, h->src_port, h->dst_port, why);
	if (v != VSOCK_PKT_RST)
		return;
	k = find(c, h->src_port, h->dst_port);
	if (k)
		conn_reset(k);
	else
		queue_rst(c, h->src_port, h->dst_port);
}

static const struct vsock_listener *find_listener(struct vsock_core *c, uint32_t port)
{
	for (unsigned i = 0; i < c->nlisteners; i++)
		if (c->listeners[i].port == port)
			return &c->listeners[i];
	return NULL;
}

/* Guest -> host port P with no listener: the unix socket <uds_path>_P, if any. */
static int connect_uds_port(struct vsock_core *c, uint32_t port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", c->cfg.uds_path, port);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void guest_request(struct vsock_core *c, const struct vsock_hdr *h)
{
	const struct vsock_listener *l = find_listener(c, h->dst_port);
	struct vsock_conn *k;
	int sv[2] = { -1, -1 };

	if (c->nconns >= VSOCK_MAX_CONNS) {
		warn_once(c, h->src_port, h->dst_port, "refused: too many connections");
		goto refuse;
	}
	if (l) {
		if (c->naccepts == ARRAY_SIZE(c->accepts) ||
		    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
			goto refuse;
	} else if (c->cfg.uds_path) {
		sv[0] = connect_uds_port(c, h->dst_port);
		if (sv[0] < 0) {
			dev_debug(c->cfg.name, "host port %u: %s_%u: %s", h->dst_port, c->cfg.uds_path,
				  h->dst_port, strerror(-sv[0]));
			goto refuse;
		}
	} else {
		dev_debug(c->cfg.name, "guest connects to host port %u: nobody listens", h->dst_port);
		goto refuse;
	}
	k = conn_new(c, h->src_port, h->dst_port, sv[0]);
	if (!k) {
		close(sv[0]);
		if (sv[1] >= 0)
			close(sv[1]);
		goto refuse;
	}
	k->state = CONN_ESTABLISHED;
	k->peer_buf_alloc = h->buf_alloc;
	k->peer_fwd_cnt = h->fwd_cnt;
	k->pending = PEND_RESPONSE;
	if (l) {
		c->accepts[c->naccepts++] = (struct vsock_accept){
			.fn = l->fn, .opaque = l->opaque, .fd = sv[1], .guest_port = h->src_port,
		};
		poke_work(c);
	}
	conn_update(k);
	return;
refuse:
	queue_rst(c, h->src_port, h->dst_port);
}

static void guest_rw(struct vsock_conn *k, const struct vsock_hdr *h, const uint8_t *payload)
{
	uint32_t tail, n;

	if (k->state != CONN_ESTABLISHED || k->guest_no_send || k->fd < 0) {
		conn_reset(k);
		return;
	}
	if (h->len > VSOCK_BUF_ALLOC - k->buf_len) {
		warn_once(k->core, k->guest_port, k->host_port,
			  "data beyond the credit we gave; connection reset");
		conn_reset(k);
		return;
	}
	if (!h->len)
		return;
	if (!k->buf) {
		k->buf = malloc(VSOCK_BUF_ALLOC);
		if (!k->buf) {
			conn_reset(k);
			return;
		}
	}
	tail = (k->buf_head + k->buf_len) % VSOCK_BUF_ALLOC;
	n = MIN(h->len, VSOCK_BUF_ALLOC - tail);
	memcpy(k->buf + tail, payload, n);
	memcpy(k->buf, payload + n, h->len - n);
	k->buf_len += h->len;
	if (flush(k) < 0)
		conn_reset(k);
}

void vsock_core_guest_packet(struct vsock_core *c, const struct vsock_hdr *h, const void *payload)
{
	struct vsock_conn *k;

	if (c->reset_pending) {
		vsock_core_reset_all(c);
		c->reset_pending = false;
	}
	k = find(c, h->src_port, h->dst_port);
	if (!k) {
		if (h->op == VSOCK_OP_REQUEST)
			guest_request(c, h);
		else if (h->op != VSOCK_OP_RST)
			queue_rst(c, h->src_port, h->dst_port);
		return;
	}
	if (k->pending & PEND_RST)
		return;		/* already closing; the RST is on its way */
	k->peer_buf_alloc = h->buf_alloc;
	k->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VSOCK_OP_REQUEST:	/* a second REQUEST for a live connection */
		conn_reset(k);
		return;
	case VSOCK_OP_RESPONSE:
		if (k->state != CONN_CONNECTING) {
			conn_reset(k);
			return;
		}
		k->state = CONN_ESTABLISHED;
		if (k->uds) {
			char line[32];
			int n = snprintf(line, sizeof(line), "OK %u\n", k->host_port);

			/* A fresh socket: 16 bytes always fit in its buffer. */
			if (send(k->fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
				conn_reset(k);
				return;
			}
		}
		break;
	case VSOCK_OP_RST:
		conn_free(k);
		return;
	case VSOCK_OP_SHUTDOWN:
		if (k->state != CONN_ESTABLISHED) {
			conn_reset(k);
			return;
		}
		k->guest_no_rcv |= !!(h->flags & VSOCK_SHUTDOWN_RCV);
		k->guest_no_send |= !!(h->flags & VSOCK_SHUTDOWN_SEND);
		if (flush(k) < 0) {
			conn_reset(k);
			return;
		}
		break;
	case VSOCK_OP_RW:
		guest_rw(k, h, payload);
		break;
	case VSOCK_OP_CREDIT_REQUEST:
		k->pending |= PEND_CREDIT;
		break;
	case VSOCK_OP_CREDIT_UPDATE:
	default:
		break;
	}
	conn_update(k);
}

/* ---- packets for the guest ---- */

bool vsock_core_has_rx(const struct vsock_core *c)
{
	return c->rst_count || c->ready_head || c->reset_pending;
}

static struct vsock_conn *pop_ready(struct vsock_core *c)
{
	struct vsock_conn *k = c->ready_head;

	if (!k)
		return NULL;
	c->ready_head = k->ready_next;
	if (!c->ready_head)
		c->ready_tail = NULL;
	k->queued = false;
	k->ready_next = NULL;
	return k;
}

/* One packet from k: 1 when *h (and payload) are filled. k may be freed. */
static int conn_packet(struct vsock_conn *k, struct vsock_hdr *h, void *payload, uint32_t cap)
{
	ssize_t n;

	*h = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID, .dst_cid = k->core->cfg.guest_cid,
		.src_port = k->host_port, .dst_port = k->guest_port,
		.type = VSOCK_TYPE_STREAM, .buf_alloc = VSOCK_BUF_ALLOC, .fwd_cnt = k->fwd_cnt,
	};
	if (k->pending & PEND_RST) {
		h->op = VSOCK_OP_RST;
		conn_free(k);
		return 1;
	}
	k->fwd_cnt_sent = k->fwd_cnt;	/* every packet carries our credit */
	if (k->pending & PEND_REQUEST) {
		k->pending &= ~PEND_REQUEST;
		h->op = VSOCK_OP_REQUEST;
	} else if (k->pending & PEND_RESPONSE) {
		k->pending &= ~PEND_RESPONSE;
		h->op = VSOCK_OP_RESPONSE;
	} else if (k->pending & PEND_CREDIT) {
		k->pending &= ~PEND_CREDIT;
		h->op = VSOCK_OP_CREDIT_UPDATE;
	} else if (k->readable && may_send_data(k) && credit(k) > 0 && cap) {
		n = recv(k->fd, payload, MIN(MIN(cap, credit(k)), VSOCK_MAX_PKT), MSG_DONTWAIT);
		if (n > 0) {
			h->op = VSOCK_OP_RW;
			h->len = n;
			k->sent_cnt += n;
		} else if (n == 0) {
			/* The host will send no more: tell the guest; close if nothing else can move. */
			k->host_eof = true;
			k->readable = false;
			h->op = VSOCK_OP_SHUTDOWN;
			h->flags = VSOCK_SHUTDOWN_SEND;
			if (k->host_hup || (k->guest_no_send && !k->buf_len)) {
				h->flags |= VSOCK_SHUTDOWN_RCV;
				conn_reset(k);
				return 1;
			}
		} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			k->readable = false;
			conn_update(k);
			return 0;
		} else {
			h->op = VSOCK_OP_RST;
			conn_free(k);
			return 1;
		}
	} else {
		conn_update(k);
		return 0;
	}
	conn_update(k);
	return 1;
}

int vsock_core_next_rx(struct vsock_core *c, struct vsock_hdr *h, void *payload, uint32_t cap)
{
	struct vsock_conn *k;

	if (c->reset_pending) {
		vsock_core_reset_all(c);
		c->reset_pending = false;
	}
	if (c->rst_count) {
		*h = c->rst[c->rst_head];
		c->rst_head = (c->rst_head + 1) % VSOCK_MAX_RST;
		c->rst_count--;
		return 1;
	}
	/* Round robin: a connection with more to say goes back to the tail. */
	while ((k = c->ready_head)) {
		if (!cap && !k->pending)
			return 0;	/* data needs room: wait for a bigger buffer */
		pop_ready(c);
		if (conn_packet(k, h, payload, cap))
			return 1;
	}
	return 0;
}

/* ---- host side ---- */

int vsock_core_listen(struct vsock_core *c, uint32_t port, vsock_accept_fn fn, void *opaque)
{
	if (find_listener(c, port))
		return -EADDRINUSE;
	if (c->nlisteners == VSOCK_MAX_LISTENERS)
		return -ENOSPC;
	c->listeners[c->nlisteners++] = (struct vsock_listener){ .port = port, .fn = fn, .opaque = opaque };
	return 0;
}

void vsock_core_unlisten(struct vsock_core *c, uint32_t port)
{
	for (unsigned i = 0; i < c->nlisteners; i++) {
		if (c->listeners[i].port == port) {
			c->listeners[i] = c->listeners[--c->nlisteners];
			return;
		}
	}
}

int vsock_core_connect(struct vsock_core *c, int fd, uint32_t guest_port, bool uds)
{
	struct vsock_conn *k;
	uint32_t port;
	unsigned tries = 0;

	if (c->reset_pending) {
		vsock_core_reset_all(c);
		c->reset_pending = false;
	}
	if (c->nconns >= VSOCK_MAX_CONNS) {
		close(fd);
		return -ENOSPC;
	}
	do {	/* a host port no live connection uses */
		port = c->next_host_port++;
		if (c->next_host_port == 0xffffffffu)
			c->next_host_port = VSOCK_HOST_PORT_BASE;
	} while (find(c, guest_port, port) && ++tries < VSOCK_MAX_CONNS + 1);
	k = conn_new(c, guest_port, port, fd);
	if (!k) {
		close(fd);
		return -ENOMEM;
	}
	k->state = CONN_CONNECTING;
	k->uds = uds;
	k->pending = PEND_REQUEST;
	/* No reading before the guest accepts; hang-ups are still reported. */
	conn_update(k);
	return 0;
}

void vsock_core_reset_all(struct vsock_core *c)
{
	while (c->conns)
		conn_free(c->conns);
	c->rst_count = c->rst_head = 0;
	for (unsigned i = 0; i < c->naccepts; i++)
		close(c->accepts[i].fd);
	c->naccepts = 0;
}

void vsock_core_request_reset(struct vsock_core *c)
{
	c->reset_pending = true;
	poke_work(c);
}

void vsock_core_run_deferred(struct vsock_core *c)
{
	struct vsock_accept acc[VSOCK_MAX_LISTENERS];
	unsigned n;

	pthread_mutex_lock(c->cfg.lock);
	if (c->reset_pending) {
		vsock_core_reset_all(c);
		c->reset_pending = false;
	}
	n = c->naccepts;
	memcpy(acc, c->accepts, n * sizeof(acc[0]));
	c->naccepts = 0;
	pthread_mutex_unlock(c->cfg.lock);
	/* Unlocked: the callee may call back into the device. */
	for (unsigned i = 0; i < n; i++)
		acc[i].fn(acc[i].opaque, acc[i].fd, acc[i].guest_port);
}

static void on_work(void *opaque, uint32_t events)
{
	struct vsock_core *c = opaque;
	uint64_t v;

	if (read(c->work_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		dev_debug(c->cfg.name, "work eventfd: %s", strerror(errno));
	vsock_core_run_deferred(c);
}

int vsock_core_init(struct vsock_core *c, const struct vsock_core_config *cfg)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->next_host_port = VSOCK_HOST_PORT_BASE;
	c->work_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->work_fd < 0)
		return -errno;
	ret = loop_add(cfg->loop, c->work_fd, EPOLLIN, on_work, c);
	if (ret) {
		close(c->work_fd);
		c->work_fd = -1;
	}
	return ret;
}

void vsock_core_destroy(struct vsock_core *c)
{
	vsock_core_reset_all(c);
	if (c->work_fd >= 0) {
		loop_remove(c->cfg.loop, c->work_fd);
		close(c->work_fd);
		c->work_fd = -1;
	}
}
