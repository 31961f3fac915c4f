#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/spec.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/run-net.h"
#include "vmm/base/log.h"

static int bad(const char *msg)
{
	pr_err("%s (see 'vmm run --help')", msg);
	return EXIT_VMM_ERROR;
}

static int push(char ***v, size_t *n, const char *s)
{
	char **nv;

	if (*n >= NETCFG_MAX_LIST)
		return bad("too many --dns, --dns-search or --add-host entries (at most 64 each)");
	nv = realloc(*v, (*n + 2) * sizeof(**v));
	if (!nv)
		return bad("out of memory");
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return bad("out of memory");
	nv[++*n] = NULL;
	return 0;
}

int run_net_option(struct run_net_opts *o, int c, const char *arg)
{
	struct net_config *n = &o->net;
	char err[300];

	switch (c) {
	case RUN_NET_OPT_NETWORK:
		if (netcfg_parse_mode(arg, n, err, sizeof(err)))
			return bad(err);
		o->mode_set = true;
		return 0;
	case RUN_NET_OPT_PUBLISH:
		if (netcfg_parse_port(arg, &n->ports, &n->nports, err, sizeof(err)))
			return bad(err);
		return 0;
	case 'P':
	case RUN_NET_OPT_PUBLISH_ALL:
		o->publish_all = true;
		return 0;
	case RUN_NET_OPT_MAC:
		if (netcfg_parse_mac(arg, n->mac)) {
			snprintf(err, sizeof(err), "--mac-address %s: not a unicast MAC address (like 02:42:ac:11:00:02)", arg);
			return bad(err);
		}
		return 0;
	case RUN_NET_OPT_IP: {
		char cidr[32];

		if (netcfg_parse_cidr(arg, cidr, sizeof(cidr))) {
			snprintf(err, sizeof(err), "--ip %s: not an IPv4 address (A.B.C.D or A.B.C.D/NN)", arg);
			return bad(err);
		}
		free(n->ip);
		n->ip = strdup(cidr);
		return 0;
	}
	case RUN_NET_OPT_GATEWAY:
		if (!netcfg_ipv4_valid(arg)) {
			snprintf(err, sizeof(err), "--gateway %s: not an IPv4 address", arg);
			return bad(err);
		}
		free(n->gateway);
		n->gateway = strdup(arg);
		return 0;
	case RUN_NET_OPT_DNS:
		if (!netcfg_ipv4_valid(arg)) {
			snprintf(err, sizeof(err), "--dns %s: not an IPv4 address", arg);
			return bad(err);
		}
		return push(&n->dns, &o->ndns, arg);
	case RUN_NET_OPT_DNS_SEARCH:
		if (!netcfg_domain_valid(arg)) {
			snprintf(err, sizeof(err), "--dns-search %s: not a domain name", arg);
			return bad(err);
		}
		return push(&n->dns_search, &o->nsearch, arg);
	case RUN_NET_OPT_ADD_HOST:
		if (!netcfg_host_entry_valid(arg)) {
			snprintf(err, sizeof(err), "--add-host %s: want NAME:IP (IPv4, or host-gateway)", arg);
			return bad(err);
		}
		return push(&n->extra_hosts, &o->nhosts, arg);
	default:
		return 1;
	}
}

static bool published(const struct net_config *n, uint16_t port, bool udp)
{
	for (size_t i = 0; i < n->nports; i++)
		if (n->ports[i].container_port == port && n->ports[i].udp == udp)
			return true;
	return false;
}

int run_net_config(struct run_net_opts *o, const struct image_config *ic, struct net_config *out)
{
	struct net_config *n = &o->net;
	char mode[32], err[300];

	netcfg_mode_string(n, mode, sizeof(mode));
	if (n->nports && n->mode != NET_MODE_SLIRP) {
		snprintf(err, sizeof(err), "-p: ports are published only with slirp networking, not with "
			 "--network %s%s", mode, n->mode == NET_MODE_TAP ? " (the guest is on the tap's network)" : "");
		return bad(err);
	}
	if (o->publish_all && n->mode != NET_MODE_SLIRP) {
		snprintf(err, sizeof(err), "-P: ports are published only with slirp networking, not with --network %s", mode);
		return bad(err);
	}
	if ((n->ip || n->gateway) && n->mode != NET_MODE_TAP) {
		snprintf(err, sizeof(err), "--ip/--gateway: only with --network tap:NAME (%s)",
			 n->mode == NET_MODE_SLIRP ? "slirp gives the guest 10.0.2.15/24, gateway 10.0.2.2" :
			 "--network none has no interface");
		return bad(err);
	}
	if (n->gateway && !n->ip)
		return bad("--gateway needs --ip");
	if (n->mac[0] && n->mode == NET_MODE_NONE)
		return bad("--mac-address: --network none has no interface");
	if (o->publish_all && ic) {
		for (size_t i = 0; i < ic->n_ports; i++) {
			const struct image_port *p = &ic->ports[i];
			bool udp = !strcmp(p->proto, "udp");
			struct port_binding *nb;

			if (strcmp(p->proto, "tcp") && !udp) {
				pr_warn("-P: exposed port %u/%s not published (only tcp and udp)", p->port, p->proto);
				continue;
			}
			if (published(n, p->port, udp))
				continue;
			if (n->nports >= NETCFG_MAX_PORTS)
				return bad("-P: more than 256 published ports");
			nb = realloc(n->ports, (n->nports + 1) * sizeof(*nb));
			if (!nb)
				return bad("out of memory");
			n->ports = nb;
			memset(&nb[n->nports], 0, sizeof(*nb));
			nb[n->nports].container_port = p->port;
			nb[n->nports].udp = udp;
			n->nports++;
		}
	}
	if (!n->mac[0] && n->mode != NET_MODE_NONE)
		netcfg_random_mac(n->mac);
	if (netcfg_copy(out, n))
		return bad("out of memory");
	return 0;
}

void run_net_opts_free(struct run_net_opts *o)
{
	netcfg_free(&o->net);
}
