/* docker ps's filters (vmm ps --filter, GET /containers/json's filters). */
#ifndef VMM_ENGINE_CONTAINER_FILTER_H
#define VMM_ENGINE_CONTAINER_FILTER_H

#include <stdbool.h>

struct container;
struct container_state;
struct filters;

/* status, name (a substring), id (a prefix), exited (a code), ancestor (image name or ID), label. */
extern const char *const container_filter_keys[];
/* Does ct (in state st) pass? all: stopped ones too (docker's -a; a status or exited filter implies it). */
bool container_wanted(const struct filters *f, const struct container *ct, const struct container_state *st,
		      bool all);

#endif
