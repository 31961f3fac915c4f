/*
 * The container's network: checks before boot (host ports free, tap device
 * usable), the virtio-net device and its backend, published ports, and what
 * the agent is told (address, gateway, resolv.conf, hosts). docs/network.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"
#include "vmm/engine/lan.h"
#include "vmm/machine/machine.h"
#include "vmm/engine/netcfg.h"
#include "vmm/engine/netport.h"
#include "vmm/engine/network.h"
#include "vmm/engine/runner-internal.h"
#include "vmm/engine/runner.h"

#define MAX_HOST_DNS	3

_Static_assert(NETCFG_MAX_NETWORKS == MACHINE_LAN_MAX && NETCFG_MAX_NETWORKS - 1 == PROTO_NET_EXTRA_MAX,
	       "a container's network limit is the machine's and the agent's");

/* Who holds a port, for the error line: a container of ours, or a host process. */
static void describe_holder(const char *root, const struct port_binding *b, char *buf, size_t len)
{
	struct container **list;
	char comm[64];
	size_t n;
	pid_t pid, parent;

	buf[0] = '\0';
	if (netport_holder(b->udp, b->host_port, &pid, comm, sizeof(comm)))
		return;
	/* the VMM holds the ports; state.json names its supervisor (runner-confine.c) */
	parent = netport_parent(pid);
	if (root && container_list(root, &list, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct container_state st;

			container_effective_state(list[i], &st);
			if (st.status == CONTAINER_RUNNING && (st.pid == pid || st.pid == parent)) {
				snprintf(buf, len, " by container %s", list[i]->cfg.name);
				container_list_free(list, n);
				return;
			}
		}
		container_list_free(list, n);
	}
	snprintf(buf, len, " by %s (pid %d)", comm[0] ? comm : "a process", (int)pid);
}

static int port_error(const char *root, const struct port_binding *b, int err, struct error *e)
{
	char who[160];
	const char *ip = b->host_ip[0] ? b->host_ip : "0.0.0.0";
	const char *proto = b->udp ? "udp" : "tcp";

	if (err == -EADDRINUSE) {
		describe_holder(root, b, who, sizeof(who));
		return err_set(e, err, "-p %s:%u:%u/%s: host port %u/%s is already allocated%s",
			       ip, b->host_port, b->container_port, proto, b->host_port, proto, who);
	}
	if (err == -EACCES)
		return err_set(e, err, "-p %s:%u:%u/%s: binding host port %u needs privileges "
			       "(use a port above 1023, or net.ipv4.ip_unprivileged_port_start)",
			       ip, b->host_port, b->container_port, proto, b->host_port);
	if (err == -EADDRNOTAVAIL)
		return err_set(e, err, "-p %s:%u:%u/%s: %s is not an address of this host",
			       ip, b->host_port, b->container_port, proto, ip);
	return err_sys(e, err, "-p %s:%u:%u/%s: cannot bind host port %u",
		       ip, b->host_port, b->container_port, proto, b->host_port);
}

/* A user network: it exists, ip (NULL: none) is one of its hosts, an internal one publishes nothing. */
static int check_one(const char *root, const char *network, const char *want, size_t nports, struct error *e)
{
	struct network net;
	int ret = network_get(root, network, &net, e);

	if (ret)
		return ret;
	if (want) {
		struct in_addr a;
		char ip[20];

		snprintf(ip, sizeof(ip), "%s", want);
		ip[strcspn(ip, "/")] = '\0';
		if (inet_pton(AF_INET, ip, &a) != 1 || !network_is_host(&net, ntohl(a.s_addr))) {
			char sub[16];

			network_format_ip(net.subnet, sub);
			ret = err_set(e, -EINVAL, "--ip %s: not a host address of network %s (%s/%u, gateway excluded)",
				      ip, net.name, sub, net.prefix);
		}
	}
	if (!ret && net.internal && nports)
		ret = err_set(e, -EINVAL, "-p: network %s is internal: nothing is published from it", net.name);
	network_free(&net);
	return ret;
}

int runner_net_check_one(const char *root, const char *network, const char *ip, struct error *e)
{
	return check_one(root, network, ip, 0, e);
}

/* Every user network of n (the first publishes the ports), and the containers --link names. */
static int check_network(const char *root, const struct net_config *n, struct error *e)
{
	int ret = check_one(root, n->network, n->ip, n->nports, e);

	for (size_t i = 0; !ret && n->more && n->more[i]; i++) {
		char name[65];
		const char *ip = netcfg_more_split(n->more[i], name);

		ret = check_one(root, name, ip, 0, e);
	}
	for (size_t i = 0; !ret && n->links && n->links[i]; i++) {
		char name[256];
		struct container *t;

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(n->links[i], ":"), n->links[i]);
		if (!(ret = container_open(root, name, &t, e)))
			container_free(t);
		else
			err_wrap(e, ret, "--link %s", n->links[i]);
	}
	return ret;
}

/*
 * --link CTR[:ALIAS]: CTR runs on one of our networks; ALIAS is a name of it for our DNS alone
 * (docker's links on user networks), which follows it to a new address as its own name does.
 */
static int link_host(struct runner *r, const char *link, struct error *e)
{
	const char *colon = strchr(link, ':');
	char name[256], ip[16], *line = NULL;
	struct container *t;
	int ret;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(link, ":"), link);
	if ((ret = container_open(r->paths->root, name, &t, e)))
		return err_wrap(e, ret, "--link %s", link);
	ret = -ENOENT;
	for (size_t i = 0; ret && i < NETCFG_MAX_NETWORKS; i++)
		if (r->lan[i].fd >= 0)
			ret = lan_address(r->paths->runtime, &r->lan[i].net, t->cfg.id, ip);
	if (ret)
		err_set(e, ret, "--link %s: container %s is not running on network %s (start it first)", link,
			t->cfg.name, r->lan[0].net.name);
	else if (asprintf(&line, "%s %s", colon ? colon + 1 : name, t->cfg.id) < 0)
		ret = err_set(e, -ENOMEM, "out of memory");
	else {
		if (strv_push(&r->lan_links, line))
			ret = err_set(e, -ENOMEM, "out of memory");
		free(line);
	}
	container_free(t);
	return ret;
}

/* Join the container's networks, if it is on any: its addresses, its names (lan.c), its links. */
int runner_net_join(struct runner *r, struct error *e)
{
	const struct container_config *c = &r->ct->cfg;
	int ret;

	for (size_t i = 0; i < NETCFG_MAX_NETWORKS; i++)
		r->lan[i].fd = -1;
	if (!c->net.network)
		return 0;
	if ((ret = check_network(r->paths->root, &c->net, e)) ||
	    (ret = lan_join(r->paths, c, r->ct->state.ip[0] ? r->ct->state.ip : NULL, &r->lan[0], e)))
		return ret;
	for (size_t i = 0; !ret && c->net.more && c->net.more[i] && i + 1 < NETCFG_MAX_NETWORKS; i++) {
		char name[65];
		const char *ip = netcfg_more_split(c->net.more[i], name);

		ret = lan_join_to(r->paths, c, name, ip, NULL, &r->lan[i + 1], e);
	}
	for (size_t i = 0; !ret && c->net.links && c->net.links[i]; i++)
		ret = link_host(r, c->net.links[i], e);
	if (ret)
		runner_net_leave(r);
	return ret;
}

void runner_net_leave(struct runner *r)
{
	for (size_t i = 0; i < NETCFG_MAX_NETWORKS; i++)
		lan_leave(r->paths, &r->lan[i]);
	strv_free(r->lan_links);
	r->lan_links = NULL;
}

/* Where the container is, for state.json: its first network, then the others. */
void runner_net_state(struct runner *r)
{
	struct container_state *st = &r->ct->state;

	st->nlans = 0;
	st->ip[0] = st->gateway[0] = '\0';
	if (r->lan[0].fd >= 0) {
		snprintf(st->ip, sizeof(st->ip), "%s", r->lan[0].ip_str);
		snprintf(st->gateway, sizeof(st->gateway), "%s", r->lan[0].gateway);
	}
	for (size_t i = 1; i < NETCFG_MAX_NETWORKS; i++) {
		struct container_lan *l = &st->lans[st->nlans];

		if (r->lan[i].fd < 0)
			continue;
		snprintf(l->network, sizeof(l->network), "%s", r->lan[i].net.name);
		snprintf(l->ip, sizeof(l->ip), "%s", r->lan[i].ip_str);
		snprintf(l->gateway, sizeof(l->gateway), "%s", r->lan[i].gateway);
		st->nlans++;
	}
}

/* The names of every network we are on, and our links' aliases, for the gateways' DNS. */
static bool resolve_any(void *opaque, const char *name, struct in_addr *out)
{
	struct runner *r = opaque;
	size_t n = strlen(name);

	for (char **l = r->lan_links; l && *l; l++)	/* "ALIAS ID" */
		if (!strncasecmp(*l, name, n) && (*l)[n] == ' ') {
			name = *l + n + 1;
			break;
		}
	for (size_t i = 0; i < NETCFG_MAX_NETWORKS; i++)
		if (r->lan[i].fd >= 0 && lan_resolve(&r->lan[i], name, out))
			return true;
	return false;
}

void runner_lan_config(const struct lan_endpoint *ep, struct machine_lan_config *out)
{
	*out = (struct machine_lan_config){
		.dir = ep->dir, .ip = ep->ip, .gateway = { htonl(ep->net.gateway) },
		.prefix = ep->net.prefix, .internal = ep->net.internal,
	};
}

/* The guest's addresses on its networks after the first: eth0:1, eth0:2... ("-": none). */
const char *runner_net_extra(struct runner *r)
{
	size_t n = 0, end = 0;

	r->net_extra[0] = '\0';
	for (size_t i = 1; i < NETCFG_MAX_NETWORKS; i++) {
		n += (size_t)snprintf(r->net_extra + n, sizeof(r->net_extra) - n, "%s%s", i > 1 ? " " : "",
				      r->lan[i].fd >= 0 ? r->lan[i].cidr : "-");
		if (r->lan[i].fd >= 0)
			end = n;
	}
	r->net_extra[end ? end : 1] = '\0';	/* "-" when there is none */
	return r->net_extra;
}

/* Published ports: none twice, each host port free to bind now. */
static int check_ports(const char *root, const struct net_config *n, struct error *e)
{
	const struct port_binding *a, *b;

	a = netcfg_port_clash(n->ports, n->nports, &b);
	if (a)
		return err_set(e, -EINVAL, "-p: host port %s:%u/%s is published twice (for container ports %u and %u)",
			       a->host_ip[0] ? a->host_ip : "0.0.0.0", a->host_port, a->udp ? "udp" : "tcp",
			       b->container_port, a->container_port);
	for (size_t i = 0; i < n->nports; i++) {
		int ret;

		if (!n->ports[i].host_port)
			continue;
		ret = netport_probe(&n->ports[i]);
		if (ret)
			return port_error(root, &n->ports[i], ret, e);
	}
	return 0;
}

int runner_net_check(const char *root, const struct net_config *n, struct error *e)
{
	int ret;

	if (n->network && (ret = check_network(root, n, e)))
		return ret;
	if (n->mode == NET_MODE_TAP)
		return machine_net_check_tap(n->tap, e);
	return n->mode == NET_MODE_SLIRP ? check_ports(root, n, e) : 0;
}

const struct machine_net_config *runner_net_config(struct runner *r)
{
	struct net_config *n = &r->ct->cfg.net;

	r->ct->state.nports = 0;
	if (n->mode == NET_MODE_NONE)
		return NULL;
	if (!n->mac[0])
		netcfg_random_mac(n->mac);	/* an old config without one */
	r->net_cfg = (struct machine_net_config){
		.backend = n->mode == NET_MODE_TAP ? MACHINE_NET_TAP : MACHINE_NET_SLIRP,
		.tap = n->tap,
		.host_loopback = n->host_loopback,
		.egress_allow = n->egress_allow,
	};
	if (r->lan[0].fd >= 0) {
		size_t k = 0;

		for (size_t i = 0; i < NETCFG_MAX_NETWORKS; i++)
			if (r->lan[i].fd >= 0)
				runner_lan_config(&r->lan[i], &r->lan_cfg[k++]);
		r->net_cfg.backend = MACHINE_NET_LAN;
		r->net_cfg.lan = r->lan_cfg;
		r->net_cfg.nlan = k;
		r->net_cfg.resolve = resolve_any;
		r->net_cfg.resolve_opaque = r;
		r->net_cfg.host_loopback = false;
	}
	/* docker's --add-host NAME:host-gateway asks to reach the host: its loopback included. */
	for (char **h = n->extra_hosts; h && *h; h++)
		r->net_cfg.host_loopback |= str_has_suffix(*h, ":host-gateway");
	netcfg_mac_bytes(n->mac, r->net_cfg.mac);
	return &r->net_cfg;
}

/* Forward every published port; free ones are picked now. The bound list goes to state.json. */
int runner_net_publish(struct runner *r, struct error *e)
{
	const struct net_config *n = &r->ct->cfg.net;
	struct container_state *st = &r->ct->state;
	int ret;

	st->nports = 0;
	if (n->mode != NET_MODE_SLIRP)
		return 0;
	ret = check_ports(r->paths->root, n, e);	/* the network itself was checked when it was joined */
	for (size_t i = 0; !ret && i < n->nports; i++) {
		struct port_binding p = n->ports[i];

		if (!p.host_port && (ret = netport_pick(&p)))
			return err_sys(e, ret, "-p %u/%s: cannot find a free host port", p.container_port,
				       p.udp ? "udp" : "tcp");
		ret = machine_net_forward(r->m, p.udp, p.host_ip, p.host_port, p.container_port);
		if (ret)
			port_error(r->paths->root, &p, ret, e);
		else
			st->ports[st->nports++] = p;
	}
	if (ret)
		st->nports = 0;
	return ret;
}

/* The host's own nameservers (not loopback ones: the guest cannot reach those directly). */
static char **host_resolvers(void)
{
	char *data, *save = NULL, **v = calloc(MAX_HOST_DNS + 1, sizeof(char *));
	size_t n = 0;

	if (!v)
		return NULL;
	if (read_file(AT_FDCWD, "/etc/resolv.conf", 1 << 16, &data, NULL))
		return v;
	for (char *line = strtok_r(data, "\n", &save); line && n < MAX_HOST_DNS;
	     line = strtok_r(NULL, "\n", &save)) {
		char addr[64];

		if (sscanf(line, " nameserver %63s", addr) == 1 && netcfg_resolver_usable(addr))
			v[n++] = strdup(addr);
	}
	free(data);
	return v;
}

void runner_net_spec(struct runner *r, struct proto_spec *s)
{
	const struct net_config *n = &r->ct->cfg.net;
	struct machine_net_info info;
	const char *gw = NULL;
	size_t nh = 0;

	runner_net_free(r);
	if (n->mode != NET_MODE_NONE)
		s->net_mac = n->mac;
	if (r->lan[0].fd >= 0) {
		s->net_addr = r->lan[0].cidr;
		s->net_gateway = gw = r->lan[0].gateway;
		if (strcmp(runner_net_extra(r), "-"))	/* a guest on one network is told nothing more */
			s->net_extra = r->net_extra;
	} else switch (n->mode) {
	case NET_MODE_SLIRP:
		machine_net_info(&r->net_cfg, &info);
		s->net_addr = info.cidr;
		s->net_gateway = gw = info.gateway;
		break;
	case NET_MODE_TAP:
		s->net_addr = n->ip;
		s->net_gateway = gw = n->gateway;
		break;
	default:
		break;
	}
	if (n->dns && n->dns[0]) {
		s->dns = n->dns;
	} else if (r->lan[0].fd >= 0) {
		r->net_dns = calloc(2, sizeof(char *));	/* the network's names, then the host's resolvers */
		if (r->net_dns)
			r->net_dns[0] = strdup(gw);
		s->dns = r->net_dns;
	} else if (n->mode == NET_MODE_SLIRP) {
		r->net_dns = calloc(2, sizeof(char *));
		if (r->net_dns)
			r->net_dns[0] = strdup(info.dns);
		s->dns = r->net_dns;
	} else if (n->mode == NET_MODE_TAP) {
		r->net_dns = host_resolvers();
		s->dns = r->net_dns;
	}
	s->ndns = s->dns ? strv_len(s->dns) : 0;
	s->dns_search = n->dns_search;
	s->ndns_search = n->dns_search ? strv_len(n->dns_search) : 0;
	r->net_hosts = calloc(strv_len(n->extra_hosts) + 1, sizeof(char *));
	for (size_t i = 0; r->net_hosts && n->extra_hosts && n->extra_hosts[i]; i++) {
		const char *e = n->extra_hosts[i], *colon = strchr(e, ':');
		const char *ip = colon + 1;

		if (!strcmp(ip, "host-gateway")) {
			if (!gw) {
				dev_warn(r->ct->cfg.name, "--add-host %s: no gateway in this network mode; skipped", e);
				continue;
			}
			ip = gw;
		}
		char *line;

		if (asprintf(&line, "%s\t%.*s", ip, (int)(colon - e), e) >= 0)
			r->net_hosts[nh++] = line;
	}
	s->hosts = r->net_hosts;
	s->nhosts = nh;
}

void runner_net_free(struct runner *r)
{
	strv_free(r->net_hosts);
	strv_free(r->net_dns);
	r->net_hosts = r->net_dns = NULL;
}
