/*
 * A container's place on a network of `vmm network create` while it runs
 * (docs/network.md): its address and its names. The network's runtime
 * folder, $VMM_RUNTIME/networks/<short id>, holds the ports of the running
 * containers (devices/net-lan.c: sockets named by MAC) and one record per
 * container, named by its ID: "IP MAC ID NAME [ALIAS...]". A record is locked
 * by its vmm process while it runs, so a record nobody holds is a crashed
 * one's and is dropped. Addresses are given under the network's lock: the
 * one asked for (--ip), else the last one the container had when free, else
 * the lowest free one. The network's DNS answers from these records.
 */
#ifndef VMM_ENGINE_LAN_H
#define VMM_ENGINE_LAN_H

#include <netinet/in.h>
#include <stdbool.h>

#include "vmm/engine/network.h"

struct container_config;
struct error;
struct paths;

struct lan_endpoint {
	const char *runtime;	/* $VMM_RUNTIME */
	char dir[4096];		/* the network's runtime folder */
	char record[4200];	/* ours in it */
	int fd;			/* the record, locked while we are on the network; -1: not on it */
	struct network net;
	struct in_addr ip;	/* network order */
	char ip_str[16], cidr[20], gateway[16];
};

/*
 * Join c's network (c->net.network): an address (c->net.ip asked for, else
 * last_ip when free, else the lowest free) and a record with c's names and
 * aliases. 0, or -errno with e naming the network and what is wrong.
 */
int lan_join(const struct paths *p, const struct container_config *c, const char *last_ip,
	     struct lan_endpoint *ep, struct error *e);
/* The same on network (a name or ID) with the address ip asked for (NULL: none). */
int lan_join_to(const struct paths *p, const struct container_config *c, const char *network, const char *ip,
		const char *last_ip, struct lan_endpoint *ep, struct error *e);
/* Drop the record, and the folder when we were the last. */
void lan_leave(const struct paths *p, struct lan_endpoint *ep);
/* After a vmm was killed: drop the records and ports nobody holds, and the folder when empty. */
void lan_reap(const struct paths *p, const char *network);
/* The network's name (container name, alias, ID or its first 12) to an address (opaque: ep). */
bool lan_resolve(void *opaque, const char *name, struct in_addr *out);
/* A container's address on its network while it runs (ip 16 bytes): 0 or -ENOENT. */
int lan_address(const char *runtime, const struct network *n, const char *id, char ip[16]);
/* network inspect's Containers: the running containers on n, by ID. */
json_object *lan_endpoints_json(const char *runtime, const struct network *n);

#endif
