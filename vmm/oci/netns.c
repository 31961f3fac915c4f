/*
 * An engine's network namespace (linux.namespaces network with a path): what
 * its interface is, read from inside it at create, so that the guest takes
 * its place (the engine/runner-netns.c side redirects frames there).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/engine/container.h"
#include "vmm/oci/oci.h"

#define NETNS_TAP	"vmmtap0"

/* The default route's gateway from /proc/net/route (the namespace's: we are in it). */
static void gateway(char out[16])
{
	FILE *f = fopen("/proc/net/route", "re");
	char line[256], ifname[IFNAMSIZ];
	unsigned dest, gw;

	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%15s %x %x", ifname, &dest, &gw) == 3 && dest == 0 && gw) {
			inet_ntop(AF_INET, &gw, out, 16);
			break;
		}
	if (f)
		fclose(f);
}

/* The first interface with an IPv4 address, besides loopback: name, "A.B.C.D/N", MAC. */
static int interface(struct container_config *c, struct error *e)
{
	struct ifaddrs *all, *a;
	struct ifreq ifr = { 0 };
	char ip[INET_ADDRSTRLEN], cidr[24];
	int sock, ret = 0;

	if (getifaddrs(&all) < 0)
		return err_sys(e, -errno, "its interfaces");
	for (a = all; a; a = a->ifa_next)
		if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET && !(a->ifa_flags & IFF_LOOPBACK) &&
		    a->ifa_netmask && strlen(a->ifa_name) < IFNAMSIZ)
			break;
	if (!a) {
		freeifaddrs(all);
		return err_set(e, -ENODEV, "no interface with an IPv4 address in it");
	}
	inet_ntop(AF_INET, &((struct sockaddr_in *)a->ifa_addr)->sin_addr, ip, sizeof(ip));
	snprintf(cidr, sizeof(cidr), "%s/%d", ip,
		 __builtin_popcount(((struct sockaddr_in *)a->ifa_netmask)->sin_addr.s_addr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", a->ifa_name);
	c->netns_if = strdup(a->ifa_name);
	freeifaddrs(all);
	c->net.ip = strdup(cidr);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || ioctl(sock, SIOCGIFHWADDR, &ifr) < 0)
		ret = err_sys(e, -errno, "%s: its MAC address", ifr.ifr_name);
	else
		snprintf(c->net.mac, sizeof(c->net.mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 (unsigned char)ifr.ifr_hwaddr.sa_data[0], (unsigned char)ifr.ifr_hwaddr.sa_data[1],
			 (unsigned char)ifr.ifr_hwaddr.sa_data[2], (unsigned char)ifr.ifr_hwaddr.sa_data[3],
			 (unsigned char)ifr.ifr_hwaddr.sa_data[4], (unsigned char)ifr.ifr_hwaddr.sa_data[5]);
	if (sock >= 0)
		close(sock);
	if (!ret && (!c->netns_if || !c->net.ip))
		ret = err_set(e, -ENOMEM, "out of memory");
	return ret;
}

int oci_netns_config(const char *path, struct container_config *c, struct error *e)
{
	int ours = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), fd = -1, ret = 0;
	char gw[16];

	if (ours < 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || setns(fd, CLONE_NEWNET) < 0) {
		ret = err_sys(e, -errno, "network namespace %s", path);
	} else {
		ret = interface(c, e);
		gateway(gw);
		if (setns(ours, CLONE_NEWNET) < 0 && !ret)	/* back: the rest of create is ours */
			ret = err_sys(e, -errno, "network namespace %s: cannot leave it", path);
		if (ret)
			err_wrap(e, ret, "network namespace %s", path);
	}
	if (fd >= 0)
		close(fd);
	if (ours >= 0)
		close(ours);
	if (ret)
		return ret;
	c->net.mode = NET_MODE_TAP;
	snprintf(c->net.tap, sizeof(c->net.tap), "%s", NETNS_TAP);
	if ((gw[0] && !(c->net.gateway = strdup(gw))) || !(c->netns = strdup(path)))
		return err_set(e, -ENOMEM, "out of memory");
	return 0;
}
