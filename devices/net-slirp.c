#include <arpa/inet.h>
#include <errno.h>
#include <slirp/libslirp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "devices/net-backend.h"
#include "devices/net-egress.h"
#include "devices/net-slirp.h"
#include "vmm/base/log.h"
#include "vmm/loop.h"

#define POLL_BATCH	64
#define MAX_UDP_FORWARDS 256	/* as many as a container may publish */
#define MAX_UDP_PEERS	64	/* clients of published UDP ports the guest may answer */

/* One of slirp's sockets in our epoll set, indexed by descriptor number. */
struct slirp_fd {
	uint32_t events;	/* registered epoll events, 0 when not registered */
	uint32_t revents;	/* what epoll reported, for get_revents */
	unsigned gen;		/* the fill that last asked for it */
};

struct slirp_timer {
	struct net_slirp *s;
	int fd;
	SlirpTimerId id;
	void *cb_opaque;
};

struct net_slirp {
	struct net_backend b;	/* first: the device sees only this */
	struct event_loop *loop;
	Slirp *slirp;
	int epfd;		/* slirp's sockets */
	int timer_fd;		/* when slirp_pollfds_poll must run again for TCP timers */
	int kick_fd;		/* refill the epoll set soon (after sends, pauses, forwards) */
	struct slirp_fd *fds;
	int nfds;		/* entries in fds */
	unsigned gen;
	bool paused;		/* the device holds too much: do not read host sockets */
	bool in_slirp;		/* inside a libslirp call: no re-entry */
	bool kicked;
	bool poll_soon;		/* run slirp's output queue at once, not at its next timeout */
	bool warned;
	struct egress_rule *egress;	/* the allow-list; NULL: none */
	size_t negress;
	uint16_t udp_ports[MAX_UDP_FORWARDS];	/* published UDP ports: their answers may leave */
	size_t nudp;
	uint64_t dropped;		/* frames the allow-list kept in */
	struct in_addr guest;		/* where published ports lead */
	bool host_loopback;		/* open: else closed by egress_to_loopback */
	uint32_t net, mask, resolver;	/* slirp's network and its DNS forwarder, host order */
	struct udp_peer peers[MAX_UDP_PEERS];	/* who wrote to published UDP ports lately */
	size_t next_peer;
};

static int64_t clock_ns(void *opaque)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;

	if (!s->host_loopback)
		egress_note_peer(s->peers, MAX_UDP_PEERS, &s->next_peer, s->net, s->mask, s->udp_ports, s->nudp,
				 buf, len);
	net_backend_deliver(&s->b, buf, len);
	return len;
}

static void guest_error(const char *msg, void *opaque)
{
	struct net_slirp *s = opaque;

	if (!s->warned)
		pr_warn("slirp: guest error: %s", msg);
	else
		pr_debug("slirp: guest error: %s", msg);
	s->warned = true;
}

/* ---- the epoll set ---- */

static int grow(struct net_slirp *s, int fd)
{
	int n = s->nfds ? s->nfds : 64;
	struct slirp_fd *nf;

	while (n <= fd)
		n *= 2;
	nf = realloc(s->fds, n * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	memset(nf + s->nfds, 0, (n - s->nfds) * sizeof(*nf));
	s->fds = nf;
	s->nfds = n;
	return 0;
}

static void watch(struct net_slirp *s, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	struct slirp_fd *e = &s->fds[fd];

	/*
	 * Always re-issue: slirp may have closed a descriptor and got the same
	 * number for a new socket, which epoll no longer knows (ENOENT).
	 */
	if (epoll_ctl(s->epfd, e->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0) {
		if (errno == ENOENT)
			epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
		else if (errno == EEXIST)
			epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev);
	}
	e->events = events;
}

static int add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *s = opaque;
	uint32_t ev = 0;

	if (fd < 0 || (fd >= s->nfds && grow(s, fd)))
		return -1;
	if (events & SLIRP_POLL_OUT)
		ev |= EPOLLOUT;
	if (!s->paused) {
		if (events & SLIRP_POLL_IN)
			ev |= EPOLLIN;
		if (events & SLIRP_POLL_PRI)
			ev |= EPOLLPRI;
	}
	/* Older libslirp asks twice for one socket in a fill (out, then in): want both. */
	if (s->fds[fd].gen == s->gen)
		ev |= s->fds[fd].events;
	s->fds[fd].gen = s->gen;
	s->fds[fd].revents = 0;
	if (ev)
		watch(s, fd, ev);
	else if (s->fds[fd].events) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
		s->fds[fd].events = 0;
	}
	return fd;
}

static int get_revents(int idx, void *opaque)
{
	struct net_slirp *s = opaque;
	uint32_t r;
	int out = 0;

	if (idx < 0 || idx >= s->nfds)
		return 0;
	r = s->fds[idx].revents;
	if (r & EPOLLIN)
		out |= SLIRP_POLL_IN;
	if (r & EPOLLOUT)
		out |= SLIRP_POLL_OUT;
	if (r & EPOLLPRI)
		out |= SLIRP_POLL_PRI;
	if (r & EPOLLERR)
		out |= SLIRP_POLL_ERR;
	if (r & EPOLLHUP)
		out |= SLIRP_POLL_HUP;
	return out;
}

/* Ask slirp what to watch and until when; bring the epoll set and the timer in line. */
static void refill(struct net_slirp *s)
{
	uint32_t timeout = UINT32_MAX;

	s->gen++;
	s->in_slirp = true;
	slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
	s->in_slirp = false;
	for (int fd = 0; fd < s->nfds; fd++) {
		if (s->fds[fd].events && s->fds[fd].gen != s->gen) {
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
			s->fds[fd].events = 0;
		}
	}
	if (s->poll_soon) {
		s->poll_soon = false;
		loop_timer_set(s->timer_fd, 1, 0);
	} else if (timeout == UINT32_MAX)
		loop_timer_set(s->timer_fd, 0, 0);
	else
		loop_timer_set(s->timer_fd, (uint64_t)(timeout ? timeout : 1) * 1000000, 0);
}

/* Refill from the loop, outside any libslirp call. */
static void kick(struct net_slirp *s)
{
	uint64_t one = 1;

	if (s->kicked)
		return;
	s->kicked = true;
	if (write(s->kick_fd, &one, sizeof(one)) < 0)
		pr_debug("slirp kick: %s", strerror(errno));
}

static void on_kick(void *opaque, uint32_t events)
{
	struct net_slirp *s = opaque;
	uint64_t n;

	(void)events;
	if (read(s->kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_debug("slirp kick: %s", strerror(errno));
	s->kicked = false;
	refill(s);
}

/* Sockets ready or a TCP timer due: let slirp work, then watch what it wants next. */
static void on_poll(void *opaque, uint32_t events)
{
	struct net_slirp *s = opaque;
	struct epoll_event evs[POLL_BATCH];
	int n = epoll_wait(s->epfd, evs, POLL_BATCH, 0);

	(void)events;
	for (int i = 0; i < n; i++)
		if (evs[i].data.fd >= 0 && evs[i].data.fd < s->nfds)
			s->fds[evs[i].data.fd].revents = evs[i].events;
	s->in_slirp = true;
	slirp_pollfds_poll(s->slirp, n < 0, get_revents, s);
	s->in_slirp = false;
	for (int i = 0; i < n; i++)
		if (evs[i].data.fd >= 0 && evs[i].data.fd < s->nfds)
			s->fds[evs[i].data.fd].revents = 0;
	refill(s);
}

/* ---- slirp's own timers ---- */

static void on_timer(void *opaque, uint32_t events)
{
	struct slirp_timer *t = opaque;
	struct net_slirp *s = t->s;

	(void)events;
	s->in_slirp = true;
	slirp_handle_timer(s->slirp, t->id, t->cb_opaque);
	s->in_slirp = false;
	kick(s);
}

static void *timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct net_slirp *s = opaque;
	struct slirp_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->s = s;
	t->id = id;
	t->cb_opaque = cb_opaque;
	t->fd = loop_add_timer(s->loop, 0, on_timer, t);
	if (t->fd < 0) {
		pr_warn("slirp: cannot create a timer: %s", strerror(-t->fd));
		free(t);
		return NULL;
	}
	return t;
}

static void timer_free(void *timer, void *opaque)
{
	struct slirp_timer *t = timer;
	struct net_slirp *s = opaque;

	if (!t)
		return;
	loop_remove(s->loop, t->fd);
	close(t->fd);
	free(t);
}

/* expire_ms is on clock_ns's clock, in milliseconds. */
static void timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_timer *t = timer;
	int64_t delta = expire_ms * 1000000 - clock_ns(opaque);

	if (t)
		loop_timer_set(t->fd, delta > 0 ? (uint64_t)delta : 1, 0);
}

static void register_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;	/* the next refill sees it */
}

static void notify(void *opaque)
{
	kick(opaque);
}

static const SlirpCb callbacks = {
	.send_packet = send_packet,
	.guest_error = guest_error,
	.clock_get_ns = clock_ns,
	.timer_free = timer_free,
	.timer_mod = timer_mod,
	.register_poll_fd = register_poll_fd,
	.unregister_poll_fd = register_poll_fd,
	.notify = notify,
	.timer_new_opaque = timer_new_opaque,
};

/* ---- backend ops ---- */

static int slirp_send(struct net_backend *b, const void *frame, size_t len)
{
	struct net_slirp *s = (struct net_slirp *)b;

	if (s->in_slirp)
		return 0;	/* cannot happen: the device only sends from guest kicks */
	if (!s->host_loopback && egress_dns_abuse(s->resolver, frame, len))
		return 0;	/* the resolver's other ports may be the host's loopback */
	if (!s->host_loopback &&
	    egress_to_loopback(s->net, s->mask, s->resolver, s->peers, MAX_UDP_PEERS, frame, len))
		return 0;
	if (!egress_allows(s->egress, s->negress, s->udp_ports, s->nudp, frame, len)) {
		if (!s->dropped++)
			pr_warn("slirp: dropped a frame that --egress-allow does not allow (more are counted)");
		return 0;
	}
	s->in_slirp = true;
	slirp_input(s->slirp, frame, len);
	s->in_slirp = false;
	/*
	 * An ARP answer lets slirp send what waits for it (a published port's
	 * first packet to the guest), but only in its next poll: make that now,
	 * before the waiting packet's one second runs out.
	 */
	if (len >= 14 && ((const uint8_t *)frame)[12] == 0x08 && ((const uint8_t *)frame)[13] == 0x06)
		s->poll_soon = true;
	kick(s);	/* slirp may want new sockets watched, or a TCP timer */
	return 0;
}

static void slirp_pause(struct net_backend *b, bool paused)
{
	struct net_slirp *s = (struct net_slirp *)b;

	s->paused = paused;
	kick(s);
}

static void slirp_destroy(struct net_backend *b)
{
	struct net_slirp *s = (struct net_slirp *)b;

	if (s->slirp)
		slirp_cleanup(s->slirp);	/* frees its timers through timer_free */
	if (s->epfd >= 0) {
		loop_remove(s->loop, s->epfd);
		close(s->epfd);
	}
	if (s->timer_fd >= 0) {
		loop_remove(s->loop, s->timer_fd);
		close(s->timer_fd);
	}
	if (s->kick_fd >= 0) {
		loop_remove(s->loop, s->kick_fd);
		close(s->kick_fd);
	}
	if (s->dropped)
		pr_info("slirp: %llu frames dropped by --egress-allow", (unsigned long long)s->dropped);
	free(s->egress);
	free(s->fds);
	free(s);
}

static const struct net_backend_ops slirp_ops = {
	.send = slirp_send,
	.pause_rx = slirp_pause,
	.destroy = slirp_destroy,
};

int net_slirp_create(struct event_loop *loop, const struct slirp_addrs *addrs, bool host_loopback,
		     const struct egress_rule *rules, size_t n, struct net_backend **out)
{
	SlirpConfig cfg = {
		.version = 4,
		.in_enabled = true,
		.if_mtu = SLIRP_MTU,
		.if_mru = SLIRP_MTU,
		/*
		 * 10.0.2.2 is the host; its loopback services only when asked for (podman's
		 * default). slirp's own switch would also drop a published UDP port's answers to
		 * a client on the host's loopback: slirp_send closes it instead.
		 */
		.disable_host_loopback = false,
	};
	struct net_slirp *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->b.ops = &slirp_ops;
	s->b.name = "slirp";
	s->b.mtu = SLIRP_MTU;
	s->b.csum_valid = true;	/* slirp computes every checksum it sends */
	s->loop = loop;
	s->kick_fd = s->timer_fd = s->epfd = -1;
	if (n) {
		s->egress = malloc(n * sizeof(*rules));
		if (!s->egress) {
			ret = -ENOMEM;
			goto fail;
		}
		memcpy(s->egress, rules, n * sizeof(*rules));
		s->negress = n;
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->epfd < 0 || s->kick_fd < 0) {
		ret = -errno;
		goto fail;
	}
	if (addrs) {
		cfg.vnetwork = addrs->net;
		cfg.vnetmask = addrs->mask;
		cfg.vhost = addrs->host;
		cfg.vdhcp_start = addrs->guest;
		cfg.vnameserver = addrs->dns;
	} else {
		inet_pton(AF_INET, SLIRP_NET, &cfg.vnetwork);
		inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
		inet_pton(AF_INET, SLIRP_GATEWAY, &cfg.vhost);
		inet_pton(AF_INET, SLIRP_GUEST, &cfg.vdhcp_start);
		inet_pton(AF_INET, SLIRP_DNS, &cfg.vnameserver);
	}
	s->guest = cfg.vdhcp_start;
	s->host_loopback = host_loopback;
	s->net = ntohl(cfg.vnetwork.s_addr) & ntohl(cfg.vnetmask.s_addr);
	s->mask = ntohl(cfg.vnetmask.s_addr);
	s->resolver = ntohl(cfg.vnameserver.s_addr);
	s->slirp = slirp_new(&cfg, &callbacks, s);
	if (!s->slirp) {
		ret = -ENOMEM;
		goto fail;
	}
	s->timer_fd = loop_add_timer(loop, 0, on_poll, s);
	if (s->timer_fd < 0) {
		ret = s->timer_fd;
		s->timer_fd = -1;
		goto fail;
	}
	ret = loop_add(loop, s->epfd, EPOLLIN, on_poll, s);
	if (!ret)
		ret = loop_add(loop, s->kick_fd, EPOLLIN, on_kick, s);
	if (ret)
		goto fail;
	refill(s);
	*out = &s->b;
	return 0;
fail:
	slirp_destroy(&s->b);
	return ret;
}

int net_slirp_forward(struct net_backend *b, bool udp, struct in_addr host_addr, uint16_t host_port,
		      uint16_t guest_port)
{
	struct net_slirp *s = (struct net_slirp *)b;
	int ret;

	errno = 0;
	ret = slirp_add_hostfwd(s->slirp, udp, host_addr, host_port, s->guest, guest_port);
	if (ret < 0)
		return errno ? -errno : -EADDRINUSE;
	if (udp && s->nudp < MAX_UDP_FORWARDS)
		s->udp_ports[s->nudp++] = guest_port;
	kick(s);
	return 0;
}
