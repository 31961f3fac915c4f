/*
 * A container's network settings (docs/network.md): the mode (slirp, none,
 * tap:NAME), published ports, MAC, static address, DNS and extra hosts.
 * Parsed from `vmm run` flags, kept in config.json, turned into devices by
 * the runner and into guest configuration by the agent.
 */
#ifndef VMM_ENGINE_NETCFG_H
#define VMM_ENGINE_NETCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;

#define NETCFG_MAX_PORTS	256	/* published ports per container */
#define NETCFG_MAX_LIST		64	/* --dns, --dns-search, --add-host entries */
#define NETCFG_MAX_NETWORKS	8	/* user networks per container (MACHINE_LAN_MAX, runner-net.c checks) */

enum net_mode { NET_MODE_SLIRP, NET_MODE_NONE, NET_MODE_TAP };

struct port_binding {
	char host_ip[16];	/* dotted quad; "" means 0.0.0.0 */
	uint16_t host_port;	/* 0: a free port picked at each start */
	uint16_t container_port;
	bool udp;
};

struct net_config {
	enum net_mode mode;
	bool host_loopback;		/* slirp: 10.0.2.2 reaches the host's loopback too (opt-in) */
	char tap[16];			/* NET_MODE_TAP: the interface */
	char *network;			/* a network of vmm network create (slirp mode meanwhile), NULL: none */
	char **more;			/* more such networks (--network again, network connect): "NAME" or
					 * "NAME=IP"; NULL: none */
	char mac[18];			/* "02:xx:xx:xx:xx:xx"; "" until generated */
	char *ip;			/* "A.B.C.D/NN" (tap only), NULL: none */
	char *gateway;			/* "A.B.C.D" (tap only), NULL: none */
	char **dns;			/* nameservers, NULL-terminated or NULL */
	char **dns_search;
	char **extra_hosts;		/* "NAME:IP" as given to --add-host */
	char **aliases;			/* a user network's names for the container (--network-alias) */
	char **links;			/* --link CONTAINER[:ALIAS] on a user network, as given */
	char **egress_allow;		/* slirp: --egress-allow rules; NULL: the guest may reach anything */
	struct port_binding *ports;
	size_t nports;
};

/*
 * "slirp" (also "default", "bridge", "user"), "slirp:allow_host_loopback=true"
 * (also "slirp4netns:..." as podman spells it), "none", "tap:NAME".
 * 0 or -EINVAL with e.
 */
int netcfg_parse_mode(const char *s, struct net_config *c, struct error *e);
/* An entry of net_config.more, "NAME" or "NAME=IP": the name (at most 64 bytes) and the address, or NULL. */
const char *netcfg_more_split(const char *entry, char name[65]);
/*
 * docker's -p: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], ports or equal-length
 * ranges (8000-8009:80-89), IP:: for a free host port on IP. Appends to
 * *out / *n (at most NETCFG_MAX_PORTS in all). 0 or -EINVAL / -E2BIG with e.
 */
int netcfg_parse_port(const char *spec, struct port_binding **out, size_t *n, struct error *e);
/* The same host port and protocol published twice on overlapping addresses? */
const struct port_binding *netcfg_port_clash(const struct port_binding *ports, size_t n,
					     const struct port_binding **other);
/* docker ps: "0.0.0.0:8080->80/tcp". */
void netcfg_format_port(const struct port_binding *p, char *buf, size_t len);

/* "02:42:ac:11:00:02": 6 hex bytes, unicast. 0 or -EINVAL. Normalised to lower case. */
int netcfg_parse_mac(const char *s, char out[18]);
/* A stored MAC ("02:xx:xx:xx:xx:xx") as its six bytes: 0, or -EINVAL (out untouched). */
int netcfg_mac_bytes(const char *s, uint8_t out[6]);
/* A random locally administered unicast MAC (02:...). */
void netcfg_random_mac(char out[18]);
/* "A.B.C.D" or "A.B.C.D/NN" (/24 when omitted) into "A.B.C.D/NN". 0 or -EINVAL. */
int netcfg_parse_cidr(const char *s, char *out, size_t len);
bool netcfg_ipv4_valid(const char *s);
/* A nameserver of a resolv.conf that a guest can use: IPv4, not a loopback (the host's own). */
bool netcfg_resolver_usable(const char *s);
/* --link CONTAINER[:ALIAS] */
bool netcfg_link_valid(const char *s);
/* --add-host NAME:IP (IP may be "host-gateway"). */
bool netcfg_host_entry_valid(const char *s);
/* --dns-search DOMAIN */
bool netcfg_domain_valid(const char *s);

/* The network docker names for it: a user network's name, "none", the tap device, else "bridge". */
const char *netcfg_network_name(const struct net_config *n);

/* Deep copy / free. */
int netcfg_copy(struct net_config *dst, const struct net_config *src);
void netcfg_free(struct net_config *c);

/* Mode as a string for config.json and inspect: "slirp", "none", "tap:NAME". */
void netcfg_mode_string(const struct net_config *c, char *buf, size_t len);

#endif
