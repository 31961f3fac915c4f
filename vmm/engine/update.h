/*
 * vmm update (docker update): a container's restart policy and its limits.
 * The restart policy changes at once, running or not (the restart loop reads
 * it again before each decision). Memory, CPUs and the process limit size
 * the VM, which is fixed while it runs: they change for a stopped container,
 * and a running one is refused with what to do.
 */
#ifndef VMM_ENGINE_UPDATE_H
#define VMM_ENGINE_UPDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/engine/restart.h"

struct error;
struct paths;

struct update_opts {
	bool restart_set;
	struct restart_policy restart;
	uint64_t memory;	/* 0: unchanged */
	double cpus;		/* 0: unchanged */
	bool pids_set;
	int64_t pids_limit;	/* 0: no limit */
};

/* 0, or -errno with e naming the container and what to do. */
int engine_update(const struct paths *p, const char *ref, const struct update_opts *o, struct error *e);

#endif
