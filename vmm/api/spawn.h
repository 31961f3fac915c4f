/* Lifecycle steps that must run in their own vmm process (a VM outlives the service). */
#ifndef VMM_API_SPAWN_H
#define VMM_API_SPAWN_H

struct api_ctx;
struct error;

/*
 * Run `vmm --root ROOT VERB REF` and wait for it. 0 when it exits 0; else
 * -EIO (-ENOENT when it said "no such container") with e holding the error
 * line it printed.
 */
int api_spawn_vmm(const struct api_ctx *ctx, const char *verb, const char *ref, struct error *e);

#endif
