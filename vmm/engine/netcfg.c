#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "vmm/base/json.h"
#include "vmm/base/strv.h"
#include "vmm/engine/netcfg.h"
#include "vmm/base/util.h"

/* docker's network name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*, 64 at most. */
static bool network_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 64 || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

int netcfg_parse_mode(const char *s, struct net_config *c, struct error *e)
{
	free(c->network);
	c->network = NULL;
	if (!strcmp(s, "slirp") || !strcmp(s, "default") || !strcmp(s, "bridge") || !strcmp(s, "user")) {
		c->mode = NET_MODE_SLIRP;
		c->host_loopback = false;
		return 0;
	}
	if (str_has_prefix(s, "slirp:") || str_has_prefix(s, "slirp4netns:")) {
		const char *opt = strchr(s, ':') + 1;

		/* The host's own loopback services are out of reach unless asked for (podman's rule). */
		if (strcmp(opt, "allow_host_loopback=true") && strcmp(opt, "allow_host_loopback=false"))
			return err_set(e, -EINVAL, "--network %s: unknown option (use slirp:allow_host_loopback=true)", s);
		c->mode = NET_MODE_SLIRP;
		c->host_loopback = !strcmp(opt, "allow_host_loopback=true");
		return 0;
	}
	if (!strcmp(s, "none")) {
		c->mode = NET_MODE_NONE;
		return 0;
	}
	if (str_has_prefix(s, "tap:")) {
		const char *name = s + 4;

		if (!*name || strlen(name) >= sizeof(c->tap) || strchr(name, '/') || strchr(name, ' ')) {
			return err_set(e, -EINVAL, "--network %s: not a network interface name (1 to %zu characters)",
				 s, sizeof(c->tap) - 1);
		}
		c->mode = NET_MODE_TAP;
		snprintf(c->tap, sizeof(c->tap), "%s", name);
		return 0;
	}
	if (!strcmp(s, "host"))
		return err_set(e, -EINVAL, "--network host: a micro-VM has its own kernel and network stack; use "
			       "slirp (the default), none, tap:NAME or a network's name");
	if (network_name_ok(s)) {	/* a network of `vmm network create`: checked at create */
		c->mode = NET_MODE_SLIRP;
		c->host_loopback = false;
		c->network = strdup(s);
		return c->network ? 0 : err_set(e, -ENOMEM, "out of memory");
	}
	return err_set(e, -EINVAL, "--network %s: unknown mode (use slirp, none, tap:NAME or a network's name)", s);
}

void netcfg_mode_string(const struct net_config *c, char *buf, size_t len)
{
	if (c->network) {
		snprintf(buf, len, "%s", c->network);
		return;
	}
	switch (c->mode) {
	case NET_MODE_NONE: snprintf(buf, len, "none"); break;
	case NET_MODE_TAP: snprintf(buf, len, "tap:%s", c->tap); break;
	default: snprintf(buf, len, c->host_loopback ? "slirp:allow_host_loopback=true" : "slirp"); break;
	}
}

bool netcfg_ipv4_valid(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

bool netcfg_resolver_usable(const char *s)
{
	return netcfg_ipv4_valid(s) && !str_has_prefix(s, "127.");
}

/* "N" or "N-M", ports 1..65535: 0 or -EINVAL. */
static int parse_range(const char *s, size_t len, unsigned *lo, unsigned *hi)
{
	char buf[16], *dash;
	uint64_t a, b;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_uint(buf, 1, 65535, &a))
		return -EINVAL;
	b = a;
	if (dash && parse_uint(dash + 1, 1, 65535, &b))
		return -EINVAL;
	if (b < a)
		return -EINVAL;
	*lo = a;
	*hi = b;
	return 0;
}

int netcfg_parse_port(const char *spec, struct port_binding **out, size_t *n, struct error *e)
{
	const char *slash = strrchr(spec, '/'), *end = slash ? slash : spec + strlen(spec);
	const char *c1, *c2, *cport;
	unsigned clo, chi, hlo = 0, hhi = 0, count;
	char ip[16] = "";
	bool udp = false;
	struct port_binding *nb;

	if (slash) {
		if (!strcmp(slash + 1, "udp"))
			udp = true;
		else if (strcmp(slash + 1, "tcp")) {
			return err_set(e, -EINVAL, "-p %s: unknown protocol '%s' (tcp or udp)", spec, slash + 1);
		}
	}
	if (spec[0] == '[' || memchr(spec, ']', end - spec)) {
		return err_set(e, -EINVAL, "-p %s: IPv6 addresses are not supported (the guest network is IPv4)", spec);
	}
	/* From the right: CONTAINERPORT, then HOSTPORT, then IP. */
	c2 = NULL;
	for (const char *p = end; p > spec; p--)
		if (p[-1] == ':') {
			c2 = p - 1;
			break;
		}
	cport = c2 ? c2 + 1 : spec;
	c1 = NULL;
	if (c2)
		for (const char *p = c2; p > spec; p--)
			if (p[-1] == ':') {
				c1 = p - 1;
				break;
			}
	if (c1 && memchr(spec, ':', c1 - spec)) {
		return err_set(e, -EINVAL, "-p %s: too many ':' (use [IP:]HOSTPORT:CONTAINERPORT[/udp])", spec);
	}
	if (parse_range(cport, end - cport, &clo, &chi)) {
		return err_set(e, -EINVAL, "-p %s: container port '%.*s' is not a port (1-65535) or range",
			 spec, (int)(end - cport), cport);
	}
	if (c1) {
		size_t iplen = c1 - spec;

		if (iplen >= sizeof(ip)) {
			return err_set(e, -EINVAL, "-p %s: '%.*s' is not an IPv4 address", spec, (int)iplen, spec);
		}
		memcpy(ip, spec, iplen);
		ip[iplen] = '\0';
		if (!netcfg_ipv4_valid(ip)) {
			return err_set(e, -EINVAL, "-p %s: '%s' is not an IPv4 address", spec, ip);
		}
		if (!strcmp(ip, "0.0.0.0"))
			ip[0] = '\0';
	}
	if (c2) {
		const char *h = c1 ? c1 + 1 : spec;

		if (h != c2 && parse_range(h, c2 - h, &hlo, &hhi)) {
			return err_set(e, -EINVAL, "-p %s: host port '%.*s' is not a port (1-65535) or range",
				 spec, (int)(c2 - h), h);
		}
		if (h == c2 && !c1) {
			return err_set(e, -EINVAL, "-p %s: empty host port (use CONTAINERPORT alone for a free one)", spec);
		}
	}
	count = chi - clo + 1;
	if (hlo && hhi - hlo + 1 != count) {
		return err_set(e, -EINVAL, "-p %s: the host and container port ranges differ in length", spec);
	}
	if (*n + count > NETCFG_MAX_PORTS) {
		return err_set(e, -E2BIG, "-p %s: more than %d published ports", spec, NETCFG_MAX_PORTS);
	}
	nb = realloc(*out, (*n + count) * sizeof(*nb));
	if (!nb) {
		return err_set(e, -ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < count; i++) {
		struct port_binding *b = &nb[*n + i];

		memset(b, 0, sizeof(*b));
		memcpy(b->host_ip, ip, sizeof(ip));
		b->host_port = hlo ? hlo + i : 0;
		b->container_port = clo + i;
		b->udp = udp;
	}
	*out = nb;
	*n += count;
	return 0;
}

const struct port_binding *netcfg_port_clash(const struct port_binding *ports, size_t n,
					     const struct port_binding **other)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			const struct port_binding *a = &ports[i], *b = &ports[j];

			if (!a->host_port || a->host_port != b->host_port || a->udp != b->udp)
				continue;
			if (!a->host_ip[0] || !b->host_ip[0] || !strcmp(a->host_ip, b->host_ip)) {
				if (other)
					*other = b;
				return a;
			}
		}
	}
	return NULL;
}

void netcfg_format_port(const struct port_binding *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u->%u/%s", p->host_ip[0] ? p->host_ip : "0.0.0.0", p->host_port,
		 p->container_port, p->udp ? "udp" : "tcp");
}

int netcfg_parse_mac(const char *s, char out[18])
{
	unsigned b[6];
	char tail;

	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return -EINVAL;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	if (b[0] & 1)
		return -EINVAL;		/* multicast */
	if (!(b[0] | b[1] | b[2] | b[3] | b[4] | b[5]))
		return -EINVAL;
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", (uint8_t)b[0], (uint8_t)b[1], (uint8_t)b[2],
		 (uint8_t)b[3], (uint8_t)b[4], (uint8_t)b[5]);
	return 0;
}

int netcfg_mac_bytes(const char *s, uint8_t out[6])
{
	uint8_t b[6];

	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -EINVAL;
	memcpy(out, b, 6);
	return 0;
}

void netcfg_random_mac(char out[18])
{
	uint8_t r[5] = { 0 };

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		r[4] = 2;
	/* 02: locally administered, unicast (docker uses 02:42:...) */
	snprintf(out, 18, "02:%02x:%02x:%02x:%02x:%02x", r[0], r[1], r[2], r[3], r[4]);
}

int netcfg_parse_cidr(const char *s, char *out, size_t len)
{
	char ip[16];
	const char *slash = strchr(s, '/');
	size_t iplen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t prefix = 24;

	if (iplen >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	if (!netcfg_ipv4_valid(ip))
		return -EINVAL;
	if (slash && parse_uint(slash + 1, 1, 32, &prefix))
		return -EINVAL;
	return (size_t)snprintf(out, len, "%s/%u", ip, (unsigned)prefix) >= len ? -ENAMETOOLONG : 0;
}

static bool name_chars_valid(const char *s, size_t n)
{
	if (!n || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(".-_", s[i]))
			return false;
	return true;
}

bool netcfg_domain_valid(const char *s)
{
	return name_chars_valid(s, strlen(s));
}

bool netcfg_link_valid(const char *s)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);

	return n && name_chars_valid(s, n) && (!colon || (colon[1] && name_chars_valid(colon + 1, strlen(colon + 1))));
}

bool netcfg_host_entry_valid(const char *s)
{
	const char *colon = strchr(s, ':');

	if (!colon || !name_chars_valid(s, colon - s))
		return false;
	return !strcmp(colon + 1, "host-gateway") || netcfg_ipv4_valid(colon + 1);
}

const char *netcfg_network_name(const struct net_config *n)
{
	return n->network ? n->network : n->mode == NET_MODE_NONE ? "none" : n->mode == NET_MODE_TAP ? n->tap : "bridge";
}

const char *netcfg_more_split(const char *entry, char name[65])
{
	const char *eq = strchr(entry, '=');

	snprintf(name, 65, "%.*s", (int)(eq ? eq - entry : (long)strlen(entry)), entry);
	return eq ? eq + 1 : NULL;
}

int netcfg_copy(struct net_config *dst, const struct net_config *src)
{
	*dst = *src;
	dst->network = src->network ? strdup(src->network) : NULL;
	dst->more = src->more ? strv_dup(src->more) : NULL;
	dst->ip = src->ip ? strdup(src->ip) : NULL;
	dst->gateway = src->gateway ? strdup(src->gateway) : NULL;
	dst->dns = src->dns ? strv_dup(src->dns) : NULL;
	dst->dns_search = src->dns_search ? strv_dup(src->dns_search) : NULL;
	dst->extra_hosts = src->extra_hosts ? strv_dup(src->extra_hosts) : NULL;
	dst->aliases = src->aliases ? strv_dup(src->aliases) : NULL;
	dst->links = src->links ? strv_dup(src->links) : NULL;
	dst->egress_allow = src->egress_allow ? strv_dup(src->egress_allow) : NULL;
	dst->ports = NULL;
	if (src->nports) {
		dst->ports = malloc(src->nports * sizeof(*dst->ports));
		if (dst->ports)
			memcpy(dst->ports, src->ports, src->nports * sizeof(*dst->ports));
	}
	if ((src->network && !dst->network) || (src->more && !dst->more) || (src->ip && !dst->ip) || (src->gateway && !dst->gateway) || (src->dns && !dst->dns) ||
	    (src->dns_search && !dst->dns_search) || (src->extra_hosts && !dst->extra_hosts) ||
	    (src->aliases && !dst->aliases) || (src->links && !dst->links) ||
	    (src->egress_allow && !dst->egress_allow) ||
	    (src->nports && !dst->ports)) {
		netcfg_free(dst);
		return -ENOMEM;
	}
	return 0;
}

void netcfg_free(struct net_config *c)
{
	free(c->network);
	strv_free(c->more);
	free(c->ip);
	free(c->gateway);
	strv_free(c->dns);
	strv_free(c->dns_search);
	strv_free(c->extra_hosts);
	strv_free(c->aliases);
	strv_free(c->links);
	strv_free(c->egress_allow);
	free(c->ports);
	memset(c, 0, sizeof(*c));
}
