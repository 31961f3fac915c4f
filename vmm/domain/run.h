/* Running a domain: what its definition asks for, as a machine (vmm/machine). */
#ifndef VMM_DOMAIN_RUN_H
#define VMM_DOMAIN_RUN_H

#include "vmm/domain/domain.h"

struct domain_run_opts {
	const char *runtime;	/* where sockets go (the vsock's unix socket) */
	const char *virtiofsd;	/* unused until <filesystem> is supported */
	void (*started)(void *opaque);	/* once the first boot began (NULL: nobody asks) */
	void *opaque;
	/*
	 * A listening control socket (engine/ctl.h framing) served while the
	 * domain runs, or -1: {"op":"destroy"} ends the VM at once, with no
	 * restart, and answers {"ok":true}.
	 */
	int ctl_fd;
};

/*
 * Boot d in the foreground until it ends, following on_reboot / on_crash
 * (restart boots it again). *status: vmm's exit status, as vmm boot's
 * (the guest's status, 125 for a crash or vmm's failure, 128+N for signal N).
 * Returns 0 once the domain ran, or -errno with e when it could not start.
 */
int domain_run(const struct domain_def *d, const struct domain_run_opts *o, int *status,
	       struct error *e);

#endif
