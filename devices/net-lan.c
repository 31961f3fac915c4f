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

struct net_lan {
	struct net_backend b;	/* first: the device sees only this */
	struct event_loop *loop;
	struct net_backend *uplink;	/* slirp; NULL on an internal network */
	int dirfd;		/* the network's port folder */
	int fd;			/* our port */
	char self[13];		/* its name: our MAC in hex */
	uint8_t mac[6], gw_mac[6];
	struct in_addr gateway;
	bool (*resolve)(void *opaque, const char *name, struct in_addr *out);
	void *resolve_opaque;
	bool paused, reading;
	uint64_t spoofed, dropped;
	uint8_t rx[FRAME_MAX], tx[FRAME_MAX];
};

static void mac_name(const uint8_t mac[6], char out[13])
{
	snprintf(out, 13, "%02x%02x%02x%02x%02x%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* A name in the port folder, reached through our descriptor: short, whatever the folder's path. */
static void port_addr(const struct net_lan *l, const char *name, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", l->dirfd, name);
}

static void to_port(struct net_lan *l, const char *name, const void *frame, size_t len)
{
	struct sockaddr_un sa;

	port_addr(l, name, &sa);
	if (sendto(l->fd, frame, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != ECONNREFUSED && errno != ENOENT)
		l->dropped++;	/* the peer's queue is full: dropped, as a busy switch does */
}

/* A broadcast or multicast frame: every other port. */
static void flood(struct net_lan *l, const void *frame, size_t len)
{
	int fd = dup(l->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		l->dropped++;
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)))
		if (strlen(de->d_name) == 12 && strcmp(de->d_name, l->self))
			to_port(l, de->d_name, frame, len);
	closedir(d);
}

/* ---- what the gateway answers itself ---- */

static void answer_dns(struct net_lan *l, const uint8_t *frame, const struct dns_query *q, bool known,
		       struct in_addr addr)
{
	size_t n = dns_reply(frame, q, l->gw_mac, l->gateway, known ? DNS_RCODE_OK : DNS_RCODE_NXDOMAIN,
			     known ? &addr : NULL, l->tx, sizeof(l->tx));

	if (n)
		net_backend_deliver(&l->b, l->tx, n);
}

/* A query to the gateway: our names here, the rest to the host's resolvers (or nowhere). */
static bool dns(struct net_lan *l, const uint8_t *frame, size_t len)
{
	struct dns_query q;
	struct in_addr addr = { 0 };
	bool known;

	if (!dns_query_parse(frame, len, l->gateway, &q))
		return false;
	known = l->resolve && l->resolve(l->resolve_opaque, q.name, &addr);
	if (!known && l->uplink)
		return false;
	answer_dns(l, frame, &q, known, addr);
	return true;
}

/* Without slirp nobody else answers ARP for the gateway (whose DNS still answers). */
static bool arp(struct net_lan *l, const uint8_t *f, size_t len)
{
	static const uint8_t req[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	uint8_t *r = l->tx, *a = r + ETH_HLEN;

	if (l->uplink || len < ETH_HLEN + ARP_LEN || f[12] != 0x08 || f[13] != 0x06 ||
	    memcmp(f + ETH_HLEN, req, sizeof(req)) || memcmp(f + ETH_HLEN + 24, &l->gateway, 4))
		return false;	/* not ours to answer: the other ports see it */
	memcpy(r, f + 6, 6);
	memcpy(r + 6, l->gw_mac, 6);
	r[12] = 0x08;
	r[13] = 0x06;
	memcpy(a, req, sizeof(req));
	a[7] = 2;	/* reply */
	memcpy(a + 8, l->gw_mac, 6);
	memcpy(a + 14, &l->gateway, 4);
	memcpy(a + 18, f + ETH_HLEN + 8, 10);	/* the asker's MAC and address */
	net_backend_deliver(&l->b, r, ETH_HLEN + ARP_LEN);
	return true;
}

/* ---- backend ops ---- */

static int lan_send(struct net_backend *b, const void *frame, size_t len)
{
	struct net_lan *l = (struct net_lan *)b;
	const uint8_t *f = frame;
	char dst[13];

	if (len < ETH_HLEN)
		return 0;
	if (memcmp(f + 6, l->mac, 6)) {	/* another guest's MAC: its traffic would come here */
		if (!l->spoofed++)
			pr_warn("network: dropped a frame from a MAC that is not the guest's (more are counted)");
		return 0;
	}
	if (dns(l, f, len) || arp(l, f, len))
		return 0;
	if (f[0] & 1) {
		flood(l, f, len);
		if (l->uplink)
			l->uplink->ops->send(l->uplink, f, len);
		return 0;
	}
	if (!memcmp(f, l->gw_mac, 6)) {
		if (l->uplink)
			l->uplink->ops->send(l->uplink, f, len);
		return 0;
	}
	mac_name(f, dst);
	to_port(l, dst, f, len);
	return 0;
}

/* Frames from the other ports: ours and broadcasts only, each checked for size. */
static void on_port(void *opaque, uint32_t events)
{
	struct net_lan *l = opaque;

	(void)events;
	for (int i = 0; i < READ_BATCH && !l->paused; i++) {
		ssize_t n = recv(l->fd, l->rx, sizeof(l->rx), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0)
			break;
		if (n < ETH_HLEN || (size_t)n > sizeof(l->rx) || (memcmp(l->rx, l->mac, 6) && !(l->rx[0] & 1)))
			continue;
		net_backend_deliver(&l->b, l->rx, (size_t)n);
	}
}

static void from_uplink(void *opaque, const void *frame, size_t len)
{
	struct net_lan *l = opaque;

	net_backend_deliver(&l->b, frame, len);
}

static void set_reading(struct net_lan *l, bool on)
{
	if (on == l->reading)
		return;
	if (on)
		on = !loop_add(l->loop, l->fd, EPOLLIN, on_port, l);
	else
		loop_remove(l->loop, l->fd);
	l->reading = on;
}

static void lan_pause(struct net_backend *b, bool paused)
{
	struct net_lan *l = (struct net_lan *)b;

	l->paused = paused;
	set_reading(l, !paused);
	if (l->uplink)
		l->uplink->ops->pause_rx(l->uplink, paused);
}

static void lan_destroy(struct net_backend *b)
{
	struct net_lan *l = (struct net_lan *)b;

	if (l->fd >= 0) {
		set_reading(l, false);
		close(l->fd);
		unlinkat(l->dirfd, l->self, 0);
	}
	net_backend_destroy(l->uplink);
	if (l->dirfd >= 0)
		close(l->dirfd);
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

static int open_port(struct net_lan *l, const struct net_lan_config *c, struct error *e)
{
	struct sockaddr_un sa;
	int buf = SOCK_BUF;

	l->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0)
		return err_sys(e, -errno, "network folder %s", c->dir);
	l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->fd < 0)
		return err_sys(e, -errno, "network port socket");
	setsockopt(l->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	unlinkat(l->dirfd, l->self, 0);	/* a port of ours a crashed vmm left */
	port_addr(l, l->self, &sa);
	if (bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ret = -errno;

		close(l->fd);
		l->fd = -1;
		return err_sys(e, ret, "network port %s/%s", c->dir, l->self);
	}
	set_reading(l, true);
	return l->reading ? 0 : err_set(e, -ENOMEM, "network port: cannot watch it");
}

int net_lan_create(struct event_loop *loop, const struct net_lan_config *c, struct net_backend **out,
		   struct error *e)
{
	struct net_lan *l = calloc(1, sizeof(*l));
	int ret;

	if (!l)
		return err_set(e, -ENOMEM, "out of memory");
	l->b.ops = &lan_ops;
	l->b.name = "network";
	l->b.mtu = SLIRP_MTU;
	l->b.csum_valid = true;	/* other devices and slirp complete every checksum */
	l->loop = loop;
	l->fd = l->dirfd = -1;
	memcpy(l->mac, c->mac, 6);
	mac_name(l->mac, l->self);
	l->gateway = c->gateway;
	l->gw_mac[0] = 0x52;	/* libslirp's router MAC: 52:55 and its address */
	l->gw_mac[1] = 0x55;
	memcpy(l->gw_mac + 2, &c->gateway, 4);
	l->resolve = c->resolve;
	l->resolve_opaque = c->resolve_opaque;
	if (!c->internal) {
		struct slirp_addrs a = {
			.net = { c->ip.s_addr & c->mask.s_addr }, .mask = c->mask,
			.host = c->gateway, .guest = c->ip, .dns = c->gateway,
		};

		ret = net_slirp_create(loop, &a, false, NULL, 0, &l->uplink);
		if (ret) {
			lan_destroy(&l->b);
			return err_sys(e, ret, "network: user-mode NAT");
		}
		l->uplink->peer = (struct net_backend_peer){ .receive = from_uplink, .opaque = l };
	}
	ret = open_port(l, c, e);
	if (ret) {
		lan_destroy(&l->b);
		return ret;
	}
	*out = &l->b;
	return 0;
}

int net_lan_forward(struct net_backend *b, bool udp, struct in_addr host_addr, uint16_t host_port,
		    uint16_t guest_port)
{
	struct net_lan *l = (struct net_lan *)b;

	if (!l->uplink)
		return -ENODEV;
	return net_slirp_forward(l->uplink, udp, host_addr, host_port, guest_port);
}
