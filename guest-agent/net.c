/*
 * The guest's network, before the container's first process: lo up, and
 * eth0 (the virtio-net device, absent with --network none) up with the
 * spec's address and default route, and an address on each more network
 * the container is on (eth0:1, eth0:2...). Plain ioctls keep the agent small; the
 * container shares this network namespace (the VM is the isolation).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest-agent/agent.h"

#define ETH	"eth0"

static void sin_set(struct sockaddr *sa, in_addr_t addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr };

	memcpy(sa, &sin, sizeof(sin));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "aa:bb:cc:dd:ee:ff" on a down interface. */
static int set_mac(int sock, const char *mac)
{
	struct ifreq ifr;

	if (strlen(mac) != 17)
		return -EINVAL;
	memset(&ifr, 0, sizeof(ifr));
	scat(ifr.ifr_name, sizeof(ifr.ifr_name), ETH, NULL);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(mac[3 * i]), lo = hexval(mac[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && mac[3 * i + 2] != ':'))
			return -EINVAL;
		ifr.ifr_hwaddr.sa_data[i] = (char)(hi << 4 | lo);
	}
	return ioctl(sock, SIOCSIFHWADDR, &ifr) < 0 ? -errno : 0;
}

static int if_up(int sock, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	scat(ifr.ifr_name, sizeof(ifr.ifr_name), name, NULL);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(sock, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

/* "A.B.C.D/NN" into address and netmask. */
static int parse_cidr(const char *s, in_addr_t *addr, in_addr_t *mask)
{
	char ip[20];
	const char *slash = strchr(s, '/');
	uint64_t prefix = 24;
	struct in_addr a;

	scat(ip, sizeof(ip), s, NULL);
	if (slash) {
		ip[slash - s < (long)sizeof(ip) ? slash - s : (long)sizeof(ip) - 1] = 0;
		if (parse_uint(slash + 1, 0, UINT64_MAX, &prefix) || prefix < 1 || prefix > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, ip, &a) != 1)
		return -EINVAL;
	*addr = a.s_addr;
	*mask = htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));
	return 0;
}

static int set_addr(int sock, const char *ifname, in_addr_t addr, in_addr_t mask)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	scat(ifr.ifr_name, sizeof(ifr.ifr_name), ifname, NULL);
	sin_set(&ifr.ifr_addr, addr);
	if (ioctl(sock, SIOCSIFADDR, &ifr) < 0)
		return -errno;
	sin_set(&ifr.ifr_netmask, mask);
	return ioctl(sock, SIOCSIFNETMASK, &ifr) < 0 ? -errno : 0;
}

static int add_default_route(int sock, const char *gw)
{
	struct rtentry rt;
	struct in_addr g;

	if (inet_pton(AF_INET, gw, &g) != 1)
		return -EINVAL;
	memset(&rt, 0, sizeof(rt));
	sin_set(&rt.rt_dst, INADDR_ANY);
	sin_set(&rt.rt_genmask, INADDR_ANY);
	sin_set(&rt.rt_gateway, g.s_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = (char *)ETH;
	return ioctl(sock, SIOCADDRT, &rt) < 0 && errno != EEXIST ? -errno : 0;
}

/* An alias's address goes when the alias is set down. */
static void drop_alias(int sock, const char *ifname)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	scat(ifr.ifr_name, sizeof(ifr.ifr_name), ifname, NULL);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return;	/* none */
	ifr.ifr_flags &= ~IFF_UP;
	ioctl(sock, SIOCSIFFLAGS, &ifr);
}

/*
 * eth0's addresses on the container's other networks: list is "A.B.C.D/NN" or
 * "-" for eth0:1, eth0:2... (space-separated); the aliases it does not name go.
 */
static int set_extra(int sock, const char *list, struct error *e)
{
	const char *p = list;

	for (int slot = 1; slot <= PROTO_NET_EXTRA_MAX; slot++) {
		char ifname[IFNAMSIZ], tok[24], num[24];
		size_t n;
		in_addr_t addr, mask;
		int ret;

		p += strspn(p, " ");
		n = strcspn(p, " ");
		scat(tok, sizeof(tok), "", NULL);
		if (n && n < sizeof(tok)) {
			memcpy(tok, p, n);
			tok[n] = '\0';
		} else if (n) {
			return err_cat(e, -EINVAL, "network: not an address: ", p, NULL);
		}
		p += n;
		scat(ifname, sizeof(ifname), ETH ":", utoa((uint64_t)slot, num), NULL);
		if (!tok[0] || !strcmp(tok, "-")) {
			drop_alias(sock, ifname);
			continue;
		}
		ret = parse_cidr(tok, &addr, &mask);
		if (!ret)
			ret = set_addr(sock, ifname, addr, mask);
		if (!ret)
			ret = if_up(sock, ifname);
		if (ret)
			return err_cat(e, ret, "network: address ", tok, " on ", ifname, ": ", strerror(-ret), NULL);
	}
	return *p && p[strspn(p, " ")] ? err_cat(e, -E2BIG, "network: too many addresses: ", list, NULL) : 0;
}

int net_set_extra(const char *list, struct error *e)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (sock < 0)
		return err_cat(e, -errno, "network: socket: ", strerror(errno), NULL);
	ret = if_nametoindex(ETH) ? set_extra(sock, list, e) :
	      err_cat(e, -ENODEV, "network: no " ETH " (--network none)", NULL);
	close(sock);
	return ret;
}

int net_setup(const struct proto_spec *s, struct error *e)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	in_addr_t addr, mask;
	int ret;

	if (sock < 0) {
		return err_cat(e, -errno, "network: socket: ", strerror(errno), NULL);
	}
	ret = if_up(sock, "lo");
	if (ret) {
		err_cat(e, ret, "network: bring lo up: ", strerror(-ret), NULL);
		goto out;
	}
	if (!if_nametoindex(ETH)) {	/* --network none */
		trace("network: lo only");
		goto out;
	}
	if (s->net_mac) {
		ret = set_mac(sock, s->net_mac);
		if (ret) {
			err_cat(e, ret, "network: MAC address ", s->net_mac, " on " ETH ": ", strerror(-ret), NULL);
			goto out;
		}
	}
	if (s->net_addr) {
		ret = parse_cidr(s->net_addr, &addr, &mask);
		if (!ret)
			ret = set_addr(sock, ETH, addr, mask);
		if (ret) {
			err_cat(e, ret, "network: address ", s->net_addr, " on " ETH ": ", strerror(-ret), NULL);
			goto out;
		}
	}
	ret = if_up(sock, ETH);
	if (ret) {
		err_cat(e, ret, "network: bring " ETH " up: ", strerror(-ret), NULL);
		goto out;
	}
	if (s->net_addr && s->net_gateway) {
		ret = add_default_route(sock, s->net_gateway);
		if (ret) {
			err_cat(e, ret, "network: default route via ", s->net_gateway, ": ", strerror(-ret), NULL);
			goto out;
		}
	}
	if (s->net_extra && (ret = set_extra(sock, s->net_extra, e)))
		goto out;
	trace("network: " ETH " configured");
out:
	close(sock);
	return ret;
}
