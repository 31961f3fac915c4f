/* Lifecycle steps that must run in their own vmm process (a VM outlives the service). */
#ifndef VMM_API_SPAWN_H
#define VMM_API_SPAWN_H

#include <sys/types.h>

struct api_ctx;
struct error;

/*
 * Start `vmm --root ROOT ARGS...` with fds as its stdin, stdout and stderr
 * (-1: /dev/null), and fds[3] as its descriptor 3 (-1: none). 0 with *pid,
 * or -errno with e.
 */
int api_spawn(const struct api_ctx *ctx, char *const *args, const int fds[4], pid_t *pid, struct error *e);
/* Reap it: its exit status (128 + the signal that killed it), -1 when it cannot be waited for. */
int api_spawn_wait(pid_t pid);

/*
 * Run `vmm --root ROOT VERB REF` and wait for it. 0 when it exits 0; else
 * -EIO (-ENOENT when it said "no such container") with e holding the error
 * line it printed.
 */
int api_spawn_vmm(const struct api_ctx *ctx, const char *verb, const char *ref, struct error *e);

#endif
