/* The docker run network options (--network, -p, -P, --mac-address, --ip, --dns...): the CLI
 * flags and the Engine API's HostConfig both decode through run_net_option. */
#ifndef VMM_ENGINE_RUN_NET_H
#define VMM_ENGINE_RUN_NET_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "vmm/engine/netcfg.h"

struct error;

enum {
	RUN_NET_OPT_NETWORK = 512, RUN_NET_OPT_PUBLISH_ALL, RUN_NET_OPT_MAC, RUN_NET_OPT_IP,
	RUN_NET_OPT_GATEWAY, RUN_NET_OPT_DNS, RUN_NET_OPT_DNS_SEARCH, RUN_NET_OPT_ADD_HOST, RUN_NET_OPT_EGRESS,
	RUN_NET_OPT_ALIAS, RUN_NET_OPT_LINK,
	RUN_NET_OPT_PUBLISH = 'p',
};

#define RUN_NET_LONG_OPTIONS \
	{ "network", required_argument, NULL, RUN_NET_OPT_NETWORK }, \
	{ "net", required_argument, NULL, RUN_NET_OPT_NETWORK }, \
	{ "publish", required_argument, NULL, RUN_NET_OPT_PUBLISH }, \
	{ "publish-all", no_argument, NULL, RUN_NET_OPT_PUBLISH_ALL }, \
	{ "mac-address", required_argument, NULL, RUN_NET_OPT_MAC }, \
	{ "ip", required_argument, NULL, RUN_NET_OPT_IP }, \
	{ "gateway", required_argument, NULL, RUN_NET_OPT_GATEWAY }, \
	{ "dns", required_argument, NULL, RUN_NET_OPT_DNS }, \
	{ "dns-search", required_argument, NULL, RUN_NET_OPT_DNS_SEARCH }, \
	{ "add-host", required_argument, NULL, RUN_NET_OPT_ADD_HOST }, \
	{ "egress-allow", required_argument, NULL, RUN_NET_OPT_EGRESS }, \
	{ "network-alias", required_argument, NULL, RUN_NET_OPT_ALIAS }, \
	{ "net-alias", required_argument, NULL, RUN_NET_OPT_ALIAS }, \
	{ "link", required_argument, NULL, RUN_NET_OPT_LINK }

#define RUN_NET_SHORT_OPTIONS "p:P"

#define RUN_NET_USAGE \
	"      --network MODE       slirp (default: user-mode NAT, 10.0.2.15), none, tap:NAME,\n" \
	"                           or a network of 'vmm network create' (repeat it for more)\n" \
	"      --network-alias NAME another name of the container on its network\n" \
	"      --link CTR[:ALIAS]   on a network: CTR's address as ALIAS in /etc/hosts\n" \
	"  -p, --publish SPEC       publish a port: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]\n" \
	"  -P, --publish-all        publish the image's exposed ports on free host ports\n" \
	"      --mac-address MAC    the guest's MAC address (default: random 02:xx:...)\n" \
	"      --ip A.B.C.D[/NN]    a static address for eth0 (tap mode, or on a network)\n" \
	"      --gateway A.B.C.D    the default route (tap mode, with --ip)\n" \
	"      --dns IP             a nameserver (default: 10.0.2.3 with slirp)\n" \
	"      --dns-search DOMAIN  a search domain\n" \
	"      --add-host NAME:IP   an /etc/hosts entry (IP may be host-gateway)\n" \
	"      --egress-allow RULE  slirp: the guest reaches only what the rules allow:\n" \
	"                           CIDR[:PORT[-PORT]][/tcp|/udp], or dns (10.0.2.3:53)\n"

struct run_net_opts {
	struct net_config net;		/* mode, ports, lists as parsed */
	bool publish_all;
	bool mode_set, ip_set;
	size_t ndns, nsearch, nhosts, negress, naliases, nlinks;
};

/*
 * One option (c from getopt_long; also 'P'). 1: not a network option, 0:
 * taken, -errno with e: a bad value. Checking the flags against each other
 * and against the image is engine_create's.
 */
int run_net_option(struct run_net_opts *o, int c, const char *arg, struct error *e);
void run_net_opts_free(struct run_net_opts *o);

#endif
