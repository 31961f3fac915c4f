/* Shared by lifecycle.c (plain VMs) and lifecycle-container.c (container domains). */
#ifndef VMM_DOMAIN_LIFECYCLE_INTERNAL_H
#define VMM_DOMAIN_LIFECYCLE_INTERNAL_H

#include "vmm/domain/lifecycle.h"
#include "vmm/domain/meta.h"

struct container;

/* The container m stands for: by its ID, then its name. -ENOENT when neither is there. */
int dc_find(const struct paths *p, const struct domain_container *m, struct container **ct);
void dc_state(const struct paths *p, const struct domain_container *m, struct domain_state *st);
/* Start it (made again from m when gone); as domain_start. */
int dc_start(const struct paths *p, const struct domain_def *d, const struct domain_container *m,
	     bool foreground, int *status, struct error *e);
/* vmm stop with timeout (0: at once). -ESRCH with e when not running. */
int dc_stop(const struct paths *p, const struct domain_def *d, const struct domain_container *m,
	    uint64_t timeout, struct error *e);

#endif
