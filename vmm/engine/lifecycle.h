/*
 * A container's life from the outside: starting its vmm process (run,
 * start, restart) -- attached, the VM runs in this process; detached, in a
 * child, and we return once the container's process started (or failed to)
 * -- waiting for it to end, and removing it.
 */
#ifndef VMM_ENGINE_LIFECYCLE_H
#define VMM_ENGINE_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vmm/engine/paths.h"

struct container;
struct error;

struct start_opts {
	bool attach;		/* stdio is the terminal's; else a detached child runs it */
	bool interactive;	/* forward our stdin (attached) */
	bool cold;		/* boot from scratch: no snapshot */
	bool fresh;		/* just created (run): removed when its process never starts */
};

/*
 * Run ct. Attached: *status is vmm's exit status once it ended (the
 * container's, 125 when the VM could not start: the runner said why). Detached:
 * *status is 0 once its process runs. A container created with --rm (or
 * fresh, and never started) leaves nothing behind. 0, or -errno with e when
 * it could not be started (already running, the detached VM did not start).
 */
int engine_start(const struct paths *p, struct container *ct, const struct start_opts *o,
		 int *status, struct error *e);

/*
 * Run ct's vmm process in a child of ours: child(arg, ready_fd) runs it and
 * never returns, and says "ok" or why not on ready_fd. ct must be locked
 * (container_lock): the child holds the run lock from then on. Once the child
 * said ok, *pid is it and 0 is returned; else -EIO with e saying why, once it
 * is gone.
 */
int engine_spawn(struct container *ct, void (*child)(void *arg, int ready_fd), void *arg, pid_t *pid,
		 struct error *e);

/*
 * A detached child's first words on fd (which is closed): 0 when it said
 * "ok"; else -EIO with why it did not start in why ("" when it died
 * silently), once the child is gone.
 */
int engine_child_ready(int fd, pid_t pid, char *why, size_t len);

/* Block until the container ref stops; *exit_code is its exit status. 0 or -errno with e. */
int engine_wait(const struct paths *p, const char *ref, int *exit_code, struct error *e);
/*
 * docker wait, watching ref's state file (so a --rm container that removes
 * itself still gives its exit status), and asking gone(arg) every second
 * whether the one waiting left (-ECANCELED; gone may be NULL). next
 * (next-exit, removed): until its next run ends (a container not started
 * yet: its first). Else (not-running): at once when it is not running, else
 * until this run ends. -ENOENT with e when it was removed without an exit
 * status to read.
 */
int engine_wait_exit(const struct paths *p, const char *ref, bool next, bool (*gone)(void *arg), void *arg,
		     int *exit_code, struct error *e);
/*
 * Remove the container ref (its directory, disk and logs); a running one
 * only with force (it is killed first); with volumes, its anonymous volumes
 * too (rm -v). 0 or -errno with e.
 */
int engine_remove(const struct paths *p, const char *ref, bool force, bool volumes, struct error *e);

#endif
