#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/strv.h"
#include "vmm/engine/container-net.h"
#include "vmm/machine/machine.h"

json_object *container_ports_json(const struct port_binding *p, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "HostIp", json_object_new_string(p[i].host_ip));
		json_object_object_add(o, "HostPort", json_object_new_int(p[i].host_port));
		json_object_object_add(o, "ContainerPort", json_object_new_int(p[i].container_port));
		json_object_object_add(o, "Protocol", json_object_new_string(p[i].udp ? "udp" : "tcp"));
		json_object_array_add(a, o);
	}
	return a;
}

json_object *container_ports_docker_json(const struct port_binding *p, size_t n)
{
	json_object *map = json_object_new_object();

	for (size_t i = 0; i < n; i++) {
		json_object *arr, *b = json_object_new_object();
		char key[16], port[8];

		snprintf(key, sizeof(key), "%u/%s", p[i].container_port, p[i].udp ? "udp" : "tcp");
		snprintf(port, sizeof(port), "%u", p[i].host_port);
		json_object_object_add(b, "HostIp", json_object_new_string(p[i].host_ip[0] ? p[i].host_ip : "0.0.0.0"));
		json_object_object_add(b, "HostPort", json_object_new_string(p[i].host_port ? port : ""));
		if (!json_object_object_get_ex(map, key, &arr)) {
			arr = json_object_new_array();
			json_object_object_add(map, key, arr);
		}
		json_object_array_add(arr, b);
	}
	return map;
}

void container_ports_format(const struct port_binding *p, size_t n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		char one[64];

		netcfg_format_port(&p[i], one, sizeof(one));
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "", one);
	}
}

void container_net_to_json(const struct net_config *n, json_object *host)
{
	char mode[32];

	netcfg_mode_string(n, mode, sizeof(mode));
	json_object_object_add(host, "NetworkMode", json_object_new_string(mode));
	json_object_object_add(host, "PortBindings", container_ports_json(n->ports, n->nports));
	json_object_object_add(host, "Dns", strv_to_json(n->dns));
	json_object_object_add(host, "DnsSearch", strv_to_json(n->dns_search));
	json_object_object_add(host, "ExtraHosts", strv_to_json(n->extra_hosts));
	if (n->more)
		json_object_object_add(host, "VmmMoreNetworks", strv_to_json(n->more));
	if (n->aliases)
		json_object_object_add(host, "VmmNetworkAliases", strv_to_json(n->aliases));
	if (n->links)
		json_object_object_add(host, "VmmLinks", strv_to_json(n->links));
	if (n->egress_allow)
		json_object_object_add(host, "VmmEgressAllow", strv_to_json(n->egress_allow));
	json_object_object_add(host, "MacAddress", json_object_new_string(n->mac));
	json_object_object_add(host, "IPAddress", n->ip ? json_object_new_string(n->ip) : NULL);
	json_object_object_add(host, "Gateway", n->gateway ? json_object_new_string(n->gateway) : NULL);
}

int container_ports_parse(json_object *arr, const char *ctx, struct port_binding *out, size_t max,
			  size_t *n, struct error *e)
{
	size_t len = arr ? json_object_array_length(arr) : 0;

	*n = 0;
	if (len > max)
		return err_set(e, -EINVAL, "%s: more than %zu ports", ctx, max);
	for (size_t i = 0; i < len; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *ip = NULL, *proto = NULL;
		uint64_t hp, cp;
		bool present;
		int ret;

		if (!json_object_is_type(o, json_type_object))
			return err_set(e, -EINVAL, "%s[%zu]: want an object", ctx, i);
		if ((ret = jget_string(o, "HostIp", false, ctx, &ip, e)) ||
		    (ret = jget_u64(o, "HostPort", true, 65535, ctx, &hp, &present, e)) ||
		    (ret = jget_u64(o, "ContainerPort", true, 65535, ctx, &cp, &present, e)) ||
		    (ret = jget_string(o, "Protocol", false, ctx, &proto, e)))
			return ret;
		memset(&out[i], 0, sizeof(out[i]));
		if (ip && *ip && !netcfg_ipv4_valid(ip))
			return err_set(e, -EINVAL, "%s[%zu].HostIp: not an IPv4 address", ctx, i);
		if (ip && strcmp(ip, "0.0.0.0"))
			snprintf(out[i].host_ip, sizeof(out[i].host_ip), "%s", ip);
		if (!cp)
			return err_set(e, -EINVAL, "%s[%zu].ContainerPort: 0", ctx, i);
		out[i].host_port = hp;
		out[i].container_port = cp;
		out[i].udp = proto && !strcmp(proto, "udp");
		*n = i + 1;
	}
	return 0;
}

static int str_opt(json_object *o, const char *key, char **out, struct error *e)
{
	const char *v = NULL;
	int ret = jget_string(o, key, false, "config.HostConfig", &v, e);

	if (ret)
		return ret;
	*out = v ? strdup(v) : NULL;
	return v && !*out ? err_set(e, -ENOMEM, "out of memory") : 0;
}

int container_net_parse(json_object *host, struct net_config *n, struct error *e)
{
	const char *ctx = "config.HostConfig", *mode = NULL, *mac = NULL;
	json_object *ports;
	struct error why = { 0 };
	char cidr[32];
	int ret;

	memset(n, 0, sizeof(*n));
	if ((ret = jget_string(host, "NetworkMode", false, ctx, &mode, e)))
		return ret;
	if (mode && netcfg_parse_mode(mode, n, &why))
		return err_set(e, -EINVAL, "%s.NetworkMode: %s", ctx, why.msg);
	if ((ret = jget_string(host, "MacAddress", false, ctx, &mac, e)))
		return ret;
	if (mac && *mac && netcfg_parse_mac(mac, n->mac))
		return err_set(e, -EINVAL, "%s.MacAddress: not a unicast MAC address", ctx);
	if ((ret = jget_array(host, "PortBindings", false, NETCFG_MAX_PORTS, ctx, &ports, e)))
		return ret;
	if (ports && json_object_array_length(ports)) {
		n->ports = calloc(json_object_array_length(ports), sizeof(*n->ports));
		if (!n->ports)
			return err_set(e, -ENOMEM, "out of memory");
		ret = container_ports_parse(ports, "config.HostConfig.PortBindings", n->ports,
					    NETCFG_MAX_PORTS, &n->nports, e);
		if (ret)
			return ret;
	}
	if ((ret = jget_strv(host, "Dns", NETCFG_MAX_LIST, ctx, &n->dns, e)) ||
	    (ret = jget_strv(host, "DnsSearch", NETCFG_MAX_LIST, ctx, &n->dns_search, e)) ||
	    (ret = jget_strv(host, "ExtraHosts", NETCFG_MAX_LIST, ctx, &n->extra_hosts, e)) ||
	    (ret = jget_strv(host, "VmmMoreNetworks", NETCFG_MAX_NETWORKS - 1, ctx, &n->more, e)) ||
	    (ret = jget_strv(host, "VmmNetworkAliases", NETCFG_MAX_LIST, ctx, &n->aliases, e)) ||
	    (ret = jget_strv(host, "VmmLinks", NETCFG_MAX_LIST, ctx, &n->links, e)) ||
	    (ret = jget_strv(host, "VmmEgressAllow", NETCFG_MAX_LIST, ctx, &n->egress_allow, e)) ||
	    (ret = str_opt(host, "IPAddress", &n->ip, e)) ||
	    (ret = str_opt(host, "Gateway", &n->gateway, e)))
		return ret;
	/* What reaches the guest's /etc files must be what the flags accepted. */
	for (size_t i = 0; n->dns && n->dns[i]; i++)
		if (!netcfg_ipv4_valid(n->dns[i]))
			return err_set(e, -EINVAL, "%s.Dns[%zu]: not an IPv4 address", ctx, i);
	for (size_t i = 0; n->dns_search && n->dns_search[i]; i++)
		if (!netcfg_domain_valid(n->dns_search[i]))
			return err_set(e, -EINVAL, "%s.DnsSearch[%zu]: not a domain name", ctx, i);
	for (size_t i = 0; n->more && n->more[i]; i++) {
		struct net_config t = { 0 };
		char name[65];
		const char *ip = netcfg_more_split(n->more[i], name);
		bool ok = n->network && strcspn(n->more[i], "=") < sizeof(name) && !netcfg_parse_mode(name, &t, NULL) &&
			  t.network && (!ip || netcfg_ipv4_valid(ip));

		netcfg_free(&t);
		if (!ok)
			return err_set(e, -EINVAL, "%s.VmmMoreNetworks[%zu]: not a network's NAME[=IP] after a first one",
				       ctx, i);
	}
	for (size_t i = 0; n->links && n->links[i]; i++)
		if (!netcfg_link_valid(n->links[i]))
			return err_set(e, -EINVAL, "%s.VmmLinks[%zu]: not CONTAINER[:ALIAS]", ctx, i);
	for (size_t i = 0; n->aliases && n->aliases[i]; i++)
		if (!netcfg_domain_valid(n->aliases[i]))
			return err_set(e, -EINVAL, "%s.VmmNetworkAliases[%zu]: not a host name", ctx, i);
	for (size_t i = 0; n->extra_hosts && n->extra_hosts[i]; i++)
		if (!netcfg_host_entry_valid(n->extra_hosts[i]))
			return err_set(e, -EINVAL, "%s.ExtraHosts[%zu]: not NAME:IP", ctx, i);
	for (size_t i = 0; n->egress_allow && n->egress_allow[i]; i++)
		if ((ret = machine_net_check_egress(n->egress_allow[i], e)))
			return err_wrap(e, ret, "%s.VmmEgressAllow[%zu]", ctx, i);
	if (n->ip && netcfg_parse_cidr(n->ip, cidr, sizeof(cidr)))
		return err_set(e, -EINVAL, "%s.IPAddress: not A.B.C.D/NN", ctx);
	if (n->gateway && !netcfg_ipv4_valid(n->gateway))
		return err_set(e, -EINVAL, "%s.Gateway: not an IPv4 address", ctx);
	return 0;
}
