/* What `vmm system prune` and `system df` (and the Engine API's prunes) clean and count. */
#ifndef VMM_ENGINE_PRUNE_H
#define VMM_ENGINE_PRUNE_H

#include <stdint.h>

#include "vmm/engine/paths.h"

struct error;

/* Remove every container that is not running; removed(arg, id) for each. 0 or -errno with e. */
int engine_containers_prune(const struct paths *p, void (*removed)(void *arg, const char *id), void *arg,
			    struct error *e);
/* The build cache's entries ($VMM_ROOT/build-cache): how many, and their bytes. */
void build_cache_usage(const char *root, unsigned *entries, uint64_t *bytes);
/* Drop them all (their layer blobs stay until no image needs them: store_gc). */
int build_cache_prune(const char *root, unsigned *entries, uint64_t *bytes, struct error *e);

#endif
