#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/net-backend.h"
#include "devices/net-dns.h"
#include "devices/net-lan.h"
#include "devices/net-slirp.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/loop.h"

#define ETH_HLEN	14
#define FRAME_MAX	(ETH_HLEN + SLIRP_MTU + 16)
#define READ_BATCH	64	/* frames per wakeup before yielding to the loop */
#define SOCK_BUF	(4 << 20)
#define ARP_LEN		28

/* One network the guest is on: its port there, and its gateway. */
struct lan_att {
	struct net_lan *l;
	struct net_backend *uplink;	/* slirp; NULL on an internal network */
	char *dir;		/* the network's port folder, as given: what detach names */
	int dirfd;
	int fd;			/* our port; -1: none */
	uint8_t gw_mac[6];
	struct in_addr ip, mask, gateway;	/* network order */
	bool reading;
};

struct net_lan {
	struct net_backend b;	/* first: the device sees only this */
	struct event_loop *loop;
	char self[13];		/* our ports' name: our MAC in hex */
	uint8_t mac[6];
	bool (*resolve)(void *opaque, const char *name, struct in_addr *out);
	void *resolve_opaque;
	bool paused;
	uint64_t spoofed, dropped;
	struct lan_att *att[NET_LAN_MAX];	/* the first is the one -p publishes through */
	uint8_t rx[FRAME_MAX], tx[FRAME_MAX];
};

static void mac_name(const uint8_t mac[6], char out[13])
{
	snprintf(out, 13, "%02x%02x%02x%02x%02x%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* A name in the port folder, reached through our descriptor: short, whatever the folder's path. */
static void port_addr(const struct lan_att *a, const char *name, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", a->dirfd, name);
}

/* false when the network has no such port (the frame may be for another of ours). */
static bool to_port(struct lan_att *a, const char *name, const void *frame, size_t len)
{
	struct sockaddr_un sa;

	port_addr(a, name, &sa);
	if (sendto(a->fd, frame, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa)) >= 0)
		return true;
	if (errno == ENOENT)
		return false;
	if (errno != ECONNREFUSED)
		a->l->dropped++;	/* the peer's queue is full: dropped, as a busy switch does */
	return true;
}

/* A broadcast or multicast frame: every other port of a's network, and its gateway. */
static void flood(struct lan_att *a, const void *frame, size_t len)
{
	int fd = dup(a->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (a->uplink)
		a->uplink->ops->send(a->uplink, frame, len);
	if (!d) {
		if (fd >= 0)
			close(fd);
		a->l->dropped++;
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)))
		if (strlen(de->d_name) == 12 && strcmp(de->d_name, a->l->self))
			to_port(a, de->d_name, frame, len);
	closedir(d);
}

/* The network an IPv4 address is on (of those we are on), or NULL. */
static struct lan_att *att_of(struct net_lan *l, const uint8_t *addr)
{
	struct in_addr ip;

	memcpy(&ip, addr, 4);
	for (size_t i = 0; i < NET_LAN_MAX; i++)
		if (l->att[i] && !((ip.s_addr ^ l->att[i]->gateway.s_addr) & l->att[i]->mask.s_addr))
			return l->att[i];
	return NULL;
}

static bool is_ipv4(const uint8_t *f, size_t len)
{
	return len >= ETH_HLEN + 20 && f[12] == 0x08 && f[13] == 0x00;
}

static bool is_arp(const uint8_t *f, size_t len)
{
	return len >= ETH_HLEN + ARP_LEN && f[12] == 0x08 && f[13] == 0x06;
}

/* ---- what the gateway answers itself ---- */

/* A query to a gateway: the names of our networks here, the rest to the host's resolvers (or nowhere). */
static bool dns(struct lan_att *a, const uint8_t *frame, size_t len)
{
	struct net_lan *l = a->l;
	struct dns_query q;
	struct in_addr addr = { 0 };
	bool known;
	size_t n;

	if (!dns_query_parse(frame, len, a->gateway, &q))
		return false;
	known = l->resolve && l->resolve(l->resolve_opaque, q.name, &addr);
	if (!known && a->uplink)
		return false;
	n = dns_reply(frame, &q, a->gw_mac, a->gateway, known ? DNS_RCODE_OK : DNS_RCODE_NXDOMAIN,
		      known ? &addr : NULL, l->tx, sizeof(l->tx));
	if (n)
		net_backend_deliver(&l->b, l->tx, n);
	return true;
}

/* Without slirp nobody else answers ARP for the gateway (whose DNS still answers). */
static bool arp(struct lan_att *a, const uint8_t *f, size_t len)
{
	static const uint8_t req[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	uint8_t *r = a->l->tx, *p = r + ETH_HLEN;

	if (a->uplink || !is_arp(f, len) || memcmp(f + ETH_HLEN, req, sizeof(req)) ||
	    memcmp(f + ETH_HLEN + 24, &a->gateway, 4))
		return false;	/* not ours to answer: the other ports see it */
	memcpy(r, f + 6, 6);
	memcpy(r + 6, a->gw_mac, 6);
	r[12] = 0x08;
	r[13] = 0x06;
	memcpy(p, req, sizeof(req));
	p[7] = 2;	/* reply */
	memcpy(p + 8, a->gw_mac, 6);
	memcpy(p + 14, &a->gateway, 4);
	memcpy(p + 18, f + ETH_HLEN + 8, 10);	/* the asker's MAC and address */
	net_backend_deliver(&a->l->b, r, ETH_HLEN + ARP_LEN);
	return true;
}

/* ---- backend ops ---- */

static int lan_send(struct net_backend *b, const void *frame, size_t len)
{
	struct net_lan *l = (struct net_lan *)b;
	const uint8_t *f = frame;
	struct lan_att *to;
	char dst[13];

	if (len < ETH_HLEN)
		return 0;
	if (memcmp(f + 6, l->mac, 6)) {	/* another guest's MAC: its traffic would come here */
		if (!l->spoofed++)
			pr_warn("network: dropped a frame from a MAC that is not the guest's (more are counted)");
		return 0;
	}
	for (size_t i = 0; i < NET_LAN_MAX; i++)
		if (l->att[i] && (dns(l->att[i], f, len) || arp(l->att[i], f, len)))
			return 0;
	if (f[0] & 1) {	/* ARP asks on the network of the address asked for; the rest goes everywhere */
		if (is_arp(f, len) && (to = att_of(l, f + ETH_HLEN + 24))) {
			flood(to, f, len);
			return 0;
		}
		for (size_t i = 0; i < NET_LAN_MAX; i++)
			if (l->att[i])
				flood(l->att[i], f, len);
		return 0;
	}
	for (size_t i = 0; i < NET_LAN_MAX; i++)
		if (l->att[i] && !memcmp(f, l->att[i]->gw_mac, 6)) {
			if (l->att[i]->uplink)
				l->att[i]->uplink->ops->send(l->att[i]->uplink, f, len);
			return 0;
		}
	mac_name(f, dst);
	/* the destination's network first (a guest on two of ours has a port in each) */
	to = is_ipv4(f, len) ? att_of(l, f + ETH_HLEN + 16) : NULL;
	if (to && to_port(to, dst, f, len))
		return 0;
	for (size_t i = 0; i < NET_LAN_MAX; i++)
		if (l->att[i] && l->att[i] != to && to_port(l->att[i], dst, f, len))
			return 0;
	return 0;
}

/* Frames from the other ports: ours and broadcasts only, each checked for size. */
static void on_port(void *opaque, uint32_t events)
{
	struct lan_att *a = opaque;
	struct net_lan *l = a->l;

	(void)events;
	for (int i = 0; i < READ_BATCH && !l->paused; i++) {
		ssize_t n = recv(a->fd, l->rx, sizeof(l->rx), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0)
			break;
		if (n < ETH_HLEN || (size_t)n > sizeof(l->rx) || (memcmp(l->rx, l->mac, 6) && !(l->rx[0] & 1)))
			continue;
		net_backend_deliver(&l->b, l->rx, (size_t)n);
	}
}

static void from_uplink(void *opaque, const void *frame, size_t len)
{
	struct lan_att *a = opaque;

	net_backend_deliver(&a->l->b, frame, len);
}

static void set_reading(struct lan_att *a, bool on)
{
	if (on == a->reading)
		return;
	if (on)
		on = !loop_add(a->l->loop, a->fd, EPOLLIN, on_port, a);
	else
		loop_remove(a->l->loop, a->fd);
	a->reading = on;
}

static void lan_pause(struct net_backend *b, bool paused)
{
	struct net_lan *l = (struct net_lan *)b;

	l->paused = paused;
	for (size_t i = 0; i < NET_LAN_MAX; i++) {
		struct lan_att *a = l->att[i];

		if (!a)
			continue;
		set_reading(a, !paused);
		if (a->uplink)
			a->uplink->ops->pause_rx(a->uplink, paused);
	}
}

static void att_free(struct lan_att *a)
{
	if (a->fd >= 0) {
		set_reading(a, false);
		close(a->fd);
		unlinkat(a->dirfd, a->l->self, 0);
	}
	net_backend_destroy(a->uplink);
	if (a->dirfd >= 0)
		close(a->dirfd);
	free(a->dir);
	free(a);
}

static void lan_destroy(struct net_backend *b)
{
	struct net_lan *l = (struct net_lan *)b;

	for (size_t i = 0; i < NET_LAN_MAX; i++)
		if (l->att[i])
			att_free(l->att[i]);
	if (l->spoofed || l->dropped)
		pr_info("network: %llu frames with another MAC and %llu to full or missing ports dropped",
			(unsigned long long)l->spoofed, (unsigned long long)l->dropped);
	free(l);
}

static const struct net_backend_ops lan_ops = {
	.send = lan_send,
	.pause_rx = lan_pause,
	.destroy = lan_destroy,
};

static int open_port(struct lan_att *a, struct error *e)
{
	struct sockaddr_un sa;
	int buf = SOCK_BUF;

	a->dirfd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a->dirfd < 0)
		return err_sys(e, -errno, "network folder %s", a->dir);
	a->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (a->fd < 0)
		return err_sys(e, -errno, "network port socket");
	setsockopt(a->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(a->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	unlinkat(a->dirfd, a->l->self, 0);	/* a port of ours a crashed vmm left */
	port_addr(a, a->l->self, &sa);
	if (bind(a->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ret = -errno;

		close(a->fd);
		a->fd = -1;
		return err_sys(e, ret, "network port %s/%s", a->dir, a->l->self);
	}
	set_reading(a, !a->l->paused);
	return a->reading || a->l->paused ? 0 : err_set(e, -ENOMEM, "network port: cannot watch it");
}

int net_lan_create(struct event_loop *loop, const uint8_t mac[6],
		   bool (*resolve)(void *opaque, const char *name, struct in_addr *out), void *resolve_opaque,
		   struct net_backend **out, struct error *e)
{
	struct net_lan *l = calloc(1, sizeof(*l));

	if (!l)
		return err_set(e, -ENOMEM, "out of memory");
	l->b.ops = &lan_ops;
	l->b.name = "network";
	l->b.mtu = SLIRP_MTU;
	l->b.csum_valid = true;	/* other devices and slirp complete every checksum */
	l->loop = loop;
	memcpy(l->mac, mac, 6);
	mac_name(l->mac, l->self);
	l->resolve = resolve;
	l->resolve_opaque = resolve_opaque;
	*out = &l->b;
	return 0;
}

int net_lan_attach(struct net_backend *b, const struct net_lan_config *c, struct error *e)
{
	struct net_lan *l = (struct net_lan *)b;
	struct lan_att *a;
	size_t slot = NET_LAN_MAX;
	int ret;

	for (size_t i = NET_LAN_MAX; i-- > 0;)
		if (!l->att[i])
			slot = i;
		else if (!strcmp(l->att[i]->dir, c->dir))
			return err_set(e, -EEXIST, "network %s: the guest is on it already", c->dir);
	if (slot == NET_LAN_MAX)
		return err_set(e, -ENOSPC, "a container is on %d networks at most", NET_LAN_MAX);
	a = calloc(1, sizeof(*a));
	if (!a || !(a->dir = strdup(c->dir))) {
		free(a);
		return err_set(e, -ENOMEM, "out of memory");
	}
	a->l = l;
	a->fd = a->dirfd = -1;
	a->ip = c->ip;
	a->mask = c->mask;
	a->gateway = c->gateway;
	a->gw_mac[0] = 0x52;	/* libslirp's router MAC: 52:55 and its address */
	a->gw_mac[1] = 0x55;
	memcpy(a->gw_mac + 2, &c->gateway, 4);
	if (!c->internal) {
		struct slirp_addrs s = {
			.net = { c->ip.s_addr & c->mask.s_addr }, .mask = c->mask,
			.host = c->gateway, .guest = c->ip, .dns = c->gateway,
		};

		ret = net_slirp_create(l->loop, &s, false, NULL, 0, &a->uplink);
		if (ret) {
			att_free(a);
			return err_sys(e, ret, "network: user-mode NAT");
		}
		a->uplink->peer = (struct net_backend_peer){ .receive = from_uplink, .opaque = a };
		if (l->paused)
			a->uplink->ops->pause_rx(a->uplink, true);
	}
	ret = open_port(a, e);
	if (ret) {
		att_free(a);
		return ret;
	}
	l->att[slot] = a;
	return 0;
}

int net_lan_detach(struct net_backend *b, const char *dir)
{
	struct net_lan *l = (struct net_lan *)b;

	for (size_t i = 0; i < NET_LAN_MAX; i++)
		if (l->att[i] && !strcmp(l->att[i]->dir, dir)) {
			att_free(l->att[i]);
			l->att[i] = NULL;
			return 0;
		}
	return -ENOENT;
}

int net_lan_forward(struct net_backend *b, bool udp, struct in_addr host_addr, uint16_t host_port,
		    uint16_t guest_port)
{
	struct net_lan *l = (struct net_lan *)b;

	if (!l->att[0] || !l->att[0]->uplink)
		return -ENODEV;
	return net_slirp_forward(l->att[0]->uplink, udp, host_addr, host_port, guest_port);
}
