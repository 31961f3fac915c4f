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

#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"
#include "vmm/machine/machine.h"
#include "vmm/engine/netcfg.h"
#include "vmm/engine/netport.h"
#include "vmm/engine/network.h"
#include "vmm/engine/runner-internal.h"
#include "vmm/engine/runner.h"

#define MAX_HOST_DNS	3

/* Who holds a port, for the error line: a container of ours, or a host process. */
static void describe_holder(const char *root, const struct port_binding *b, char *buf, size_t len)
{
	struct container **list;
	char comm[64];
	size_t n;
	pid_t pid;

	buf[0] = '\0';
	if (netport_holder(b->udp, b->host_port, &pid, comm, sizeof(comm)))
		return;
	if (root && container_list(root, &list, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct container_state st;

			container_effective_state(list[i], &st);
			if (st.status == CONTAINER_RUNNING && st.pid == pid) {
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

int runner_net_startable(const struct net_config *n, struct error *e)
{
	if (n->network)
		return err_set(e, -ENOTSUP, "network %s: containers on networks of 'vmm network create' cannot start "
			       "yet: vmm has no data plane for them (the default network, none and tap:NAME work)",
			       n->network);
	return 0;
}

int runner_net_check(const char *root, const struct net_config *n, struct error *e)
{
	const struct port_binding *a, *b;

	if (n->network) {
		struct network net;
		int ret = network_get(root, n->network, &net, e);

		if (ret)
			return ret;
		network_free(&net);
	}
	if (n->mode == NET_MODE_TAP)
		return machine_net_check_tap(n->tap, e);
	if (n->mode != NET_MODE_SLIRP)
		return 0;
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
	ret = runner_net_check(r->paths->root, n, e);
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

		if (sscanf(line, " nameserver %63s", addr) == 1 && netcfg_ipv4_valid(addr) &&
		    !str_has_prefix(addr, "127."))
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
	switch (n->mode) {
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
