#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/engine/run-net.h"
#include "vmm/machine/machine.h"

static int push(char ***v, size_t *n, const char *s, struct error *e)
{
	if (*n >= NETCFG_MAX_LIST)
		return err_set(e, -E2BIG, "too many --dns, --dns-search, --add-host or --egress-allow entries "
			       "(at most 64 each)");
	if (strv_push(v, s))
		return err_set(e, -ENOMEM, "out of memory");
	++*n;
	return 0;
}

/* One more user network, once. */
static int more_network(struct net_config *n, const char *name, struct error *e)
{
	if (!strcmp(name, n->network) || strv_contains(n->more, name))
		return 0;
	if (strv_len(n->more) + 1 >= NETCFG_MAX_NETWORKS)
		return err_set(e, -E2BIG, "--network %s: a container is on %d networks at most", name,
			       NETCFG_MAX_NETWORKS);
	return strv_push(&n->more, name) ? err_set(e, -ENOMEM, "out of memory") : 0;
}

int run_net_option(struct run_net_opts *o, int c, const char *arg, struct error *e)
{
	struct net_config *n = &o->net;
	int ret;

	switch (c) {
	case RUN_NET_OPT_NETWORK: {
		struct net_config t = { 0 };
		char was[80];

		netcfg_mode_string(n, was, sizeof(was));
		if (o->mode_set && n->network) {	/* docker 25's --network a --network b: one more network */
			if ((ret = netcfg_parse_mode(arg, &t, e)))
				return ret;
			ret = t.network ? more_network(n, t.network, e) :
			      err_set(e, -EINVAL, "--network %s after --network %s: a container on several networks is on "
				      "networks of 'vmm network create' only", arg, was);
			netcfg_free(&t);
			return ret;
		}
		if ((ret = netcfg_parse_mode(arg, n, e)))
			return ret;
		if (o->mode_set) {
			char now[80];

			netcfg_mode_string(n, now, sizeof(now));
			if (strcmp(was, now))
				return err_set(e, -EINVAL, "--network %s after --network %s: a container on several networks is "
					       "on networks of 'vmm network create' only", arg, was);
		}
		o->mode_set = true;
		return 0;
	}
	case RUN_NET_OPT_PUBLISH:
		return netcfg_parse_port(arg, &n->ports, &n->nports, e);
	case 'P':
	case RUN_NET_OPT_PUBLISH_ALL:
		o->publish_all = true;
		return 0;
	case RUN_NET_OPT_MAC:
		if (netcfg_parse_mac(arg, n->mac))
			return err_set(e, -EINVAL, "--mac-address %s: not a unicast MAC address (like 02:42:ac:11:00:02)",
				       arg);
		return 0;
	case RUN_NET_OPT_IP: {
		char cidr[32];

		if (netcfg_parse_cidr(arg, cidr, sizeof(cidr)))
			return err_set(e, -EINVAL, "--ip %s: not an IPv4 address (A.B.C.D or A.B.C.D/NN)", arg);
		free(n->ip);
		n->ip = strdup(cidr);
		return n->ip ? 0 : err_set(e, -ENOMEM, "out of memory");
	}
	case RUN_NET_OPT_GATEWAY:
		if (!netcfg_ipv4_valid(arg))
			return err_set(e, -EINVAL, "--gateway %s: not an IPv4 address", arg);
		free(n->gateway);
		n->gateway = strdup(arg);
		return n->gateway ? 0 : err_set(e, -ENOMEM, "out of memory");
	case RUN_NET_OPT_DNS:
		if (!netcfg_ipv4_valid(arg))
			return err_set(e, -EINVAL, "--dns %s: not an IPv4 address", arg);
		return push(&n->dns, &o->ndns, arg, e);
	case RUN_NET_OPT_DNS_SEARCH:
		if (!netcfg_domain_valid(arg))
			return err_set(e, -EINVAL, "--dns-search %s: not a domain name", arg);
		return push(&n->dns_search, &o->nsearch, arg, e);
	case RUN_NET_OPT_ADD_HOST:
		if (!netcfg_host_entry_valid(arg))
			return err_set(e, -EINVAL, "--add-host %s: want NAME:IP (IPv4, or host-gateway)", arg);
		return push(&n->extra_hosts, &o->nhosts, arg, e);
	case RUN_NET_OPT_ALIAS:
		if (!netcfg_domain_valid(arg))
			return err_set(e, -EINVAL, "--network-alias %s: not a host name", arg);
		return push(&n->aliases, &o->naliases, arg, e);
	case RUN_NET_OPT_LINK:
		if (!netcfg_link_valid(arg))
			return err_set(e, -EINVAL, "--link %s: want CONTAINER[:ALIAS]", arg);
		return push(&n->links, &o->nlinks, arg, e);
	case RUN_NET_OPT_EGRESS:
		if ((ret = machine_net_check_egress(arg, e)))
			return ret;
		return push(&n->egress_allow, &o->negress, arg, e);
	default:
		return 1;
	}
}

void run_net_opts_free(struct run_net_opts *o)
{
	netcfg_free(&o->net);
}
