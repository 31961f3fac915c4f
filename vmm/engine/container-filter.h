/* docker ps's filters (vmm ps --filter, GET /containers/json's filters). */
#ifndef VMM_ENGINE_CONTAINER_FILTER_H
#define VMM_ENGINE_CONTAINER_FILTER_H

#include <stdbool.h>

struct container;
struct error;
struct container_state;
struct filters;

/* status, name (a substring), id (a prefix), exited (a code), ancestor (image name or ID), label. */
extern const char *const container_filter_keys[];
/*
 * Check f's values as docker does: status= one of docker's states, exited= a
 * number; and make each ancestor= that names an image of the store at root
 * (busybox, busybox:latest, a short or full ID) that image's ID.
 * 0, or -EINVAL with e ("invalid filter 'status=bogus' (...)").
 */
int container_filter_check(const char *root, struct filters *f, struct error *e);
/* Does ct (in state st) pass? all: stopped ones too (docker's -a; a status or exited filter implies it). */
bool container_wanted(const struct filters *f, const struct container *ct, const struct container_state *st,
		      bool all);

#endif
