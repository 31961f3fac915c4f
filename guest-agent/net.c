/*
 * The guest's network, before the container's first process: lo up, and
 * eth0 (the virtio-net device, absent with --network none) up with the
 * spec's address and default route. Plain ioctls keep the agent small; the
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

static int set_addr(int sock, in_addr_t addr, in_addr_t mask)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	scat(ifr.ifr_name, sizeof(ifr.ifr_name), ETH, NULL);
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
			ret = set_addr(sock, addr, mask);
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
		if (ret)
			err_cat(e, ret, "network: default route via ", s->net_gateway, ": ", strerror(-ret), NULL);
	}
	trace("network: " ETH " configured");
out:
	close(sock);
	return ret;
}
