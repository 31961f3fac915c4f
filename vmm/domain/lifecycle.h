/*
 * A defined domain's life (docs/libvirt.md): started in the background or
 * the foreground, listed with its state, shut down, destroyed, its console
 * reached. A running domain is its own vmm process, as a container is.
 *
 * A domain that carries vmm's container metadata (a container's own dump,
 * `vmm inspect --format libvirt`) *is* that container: the engine runs it,
 * with its agent, logs and lifecycle; if it is gone, it is created again
 * from the metadata. Any other domain is a plain VM: one vmm process runs
 * it (run.h), holds $VMM_RUNTIME/domains/NAME/pid locked while it runs,
 * logs to $VMM_ROOT/domains/NAME.log, and gives a `pty` console as a host
 * pseudo-terminal, whose path is in $VMM_RUNTIME/domains/NAME/pty.
 */
#ifndef VMM_DOMAIN_LIFECYCLE_H
#define VMM_DOMAIN_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/domain/domain.h"
#include "vmm/engine/paths.h"

struct domain_state {
	bool running;
	int pid;		/* the vmm process running it: virsh's Id */
	bool container;		/* it runs as a container (its metadata) */
	char container_name[256];	/* then: which, when it exists */
};

/* Where d is. Never fails: a domain whose state cannot be read is shut off. */
void domain_state(const struct paths *p, const struct domain_def *d, struct domain_state *st);

/*
 * Start d. Foreground: until it ends, *status is vmm's exit status (run.h;
 * a container's: its process's). Background: once it booted (a container:
 * once its process started), *status 0. 0, or -errno with e when it could
 * not start (already running, a bad definition, the VM failed to boot).
 */
int domain_start(const struct paths *p, const struct domain_def *d, bool foreground, int *status,
		 struct error *e);

/*
 * Ask the guest to power off, and destroy it after timeout seconds. Only a
 * container's agent can be asked: a plain micro-VM has no ACPI and no
 * keyboard to press a power button on (-EOPNOTSUPP with e, saying so).
 */
int domain_shutdown(const struct paths *p, const struct domain_def *d, uint64_t timeout,
		    struct error *e);
/* Power it off now. -ESRCH with e when it is not running. */
int domain_destroy(const struct paths *p, const struct domain_def *d, struct error *e);

/*
 * The pty of a running domain's `pty` console into buf, and a locked fd in
 * *lock_fd that marks the console in use (-EBUSY with e for a second one).
 */
int domain_console_open(const struct paths *p, const struct domain_def *d, char *buf, size_t len,
			int *lock_fd, struct error *e);

/* Undefining: a running domain is refused (-EBUSY with e); its state and log are removed. */
int domain_forget(const struct paths *p, const char *name, struct error *e);

#endif
