/*
 * User-defined networks (vmm network): $VMM_ROOT/networks/NAME.json. A
 * network is an IPv4 subnet with a gateway, optionally internal (no way out).
 * The predefined "bridge" (each container's private user-mode network, the
 * default) and "none" are not stored and cannot be removed.
 */
#ifndef VMM_ENGINE_NETWORK_H
#define VMM_ENGINE_NETWORK_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/base/error.h"

#define NETWORK_NAME_MAX	64

struct network {
	char name[NETWORK_NAME_MAX + 1];
	char id[65];
	uint32_t subnet;	/* host byte order */
	unsigned prefix;
	uint32_t gateway;
	bool internal;
	bool predefined;	/* bridge, none */
	int64_t created;
	json_object *labels;	/* owned */
};

struct network_create_opts {
	const char *name;
	const char *subnet;	/* "10.89.1.0/24"; NULL: the next free 10.89.N.0/24 */
	const char *gateway;	/* NULL: the subnet's first address */
	bool internal;
	const char *const *labels;	/* "k=v", NULL-terminated, or NULL */
};

/* Parse "a.b.c.d/n" (host bits must be zero). 0 or -EINVAL with e. */
int network_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix, struct error *e);
void network_format_ip(uint32_t addr, char out[16]);

int network_create(const char *root, const struct network_create_opts *o, struct network *n,
		   struct error *e);
/* By name, full ID or a unique ID prefix. -ENOENT: "network NAME not found". */
int network_get(const char *root, const char *name, struct network *n, struct error *e);
/* Every network's name (predefined first, then sorted): malloc'd NULL-terminated vector. */
int network_list(const char *root, char ***names, struct error *e);
/* Refused for predefined networks and while a container is connected (-EBUSY). */
int network_remove(const char *root, const char *name, struct error *e);
/* IDs of the containers whose config joins network id: malloc'd NULL-terminated vector. */
int network_users(const char *root, const struct network *n, char ***ids, struct error *e);
/* docker network prune: remove the user-defined networks no container joins, telling removed each name. */
int network_prune(const char *root, void (*removed)(void *arg, const char *name), void *arg, struct error *e);
/* addr (host byte order) is one a container may have: in the subnet, not its first or last, not the gateway. */
bool network_is_host(const struct network *n, uint32_t addr);
/* Hold the network's lock (its record, flock'ed): a descriptor to close, or -errno. */
int network_lock(const char *root, const struct network *n);
json_object *network_to_json(const struct network *n);
void network_free(struct network *n);

#endif
