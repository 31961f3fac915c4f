/*
 * vmm network connect / disconnect (docker's): put a container on a network of
 * `vmm network create`, or take it off, for its next start. A micro-VM has one
 * interface, so a container is on one network at a time, and a running one
 * keeps its network until it stops (refused with what to do).
 */
#ifndef VMM_ENGINE_NETWORK_CONNECT_H
#define VMM_ENGINE_NETWORK_CONNECT_H

#include <stdbool.h>

struct error;
struct paths;

struct network_connect_opts {
	char *const *aliases;	/* --alias, NULL-terminated or NULL */
	const char *ip;		/* --ip, NULL: given at each start */
};

/* 0, or -errno with e naming the network, the container and what to do. */
int engine_network_connect(const struct paths *p, const char *network, const char *ref,
			   const struct network_connect_opts *o, struct error *e);
/* Off its network: it starts with no network (--network none), as docker leaves it. */
int engine_network_disconnect(const struct paths *p, const char *network, const char *ref, struct error *e);

#endif
