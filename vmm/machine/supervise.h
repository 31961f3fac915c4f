/*
 * A confined VMM runs in a child of a process that stays as it was (the
 * supervisor): the supervisor outlives the VM to boot it again (a restart
 * policy, a domain's reboot) and to clean up and record how it ended, and it
 * passes on the signals it is sent, as MACHINE_SIG_PASSED, to the VMM (the
 * VMM's machine_config.signals_from is the supervisor's pid).
 */
#ifndef VMM_MACHINE_SUPERVISE_H
#define VMM_MACHINE_SUPERVISE_H

#include <sys/types.h>

struct error;

struct machine_supervised {
	/* In the child, with MACHINE_SIG_PASSED blocked until its machine reads it: its exit status. */
	int (*run)(void *arg, pid_t supervisor);
	void *arg;
	int give_fd;	/* the child's alone: closed here once it is forked (-1: none) */
	const char *who;	/* "container NAME", for the fork's failure */
};

/*
 * Fork s->run and wait for it, passing on SIGINT, SIGTERM, SIGHUP and
 * SIGWINCH sent to us (the kernel's, a terminal's, reached the child
 * itself). The child dies with us (PR_SET_PDEATHSIG). A terminal on stdin is
 * set back as it was when the child leaves it raw. *wstatus: waitpid's.
 * 0, or -errno with e when there is no child.
 */
int machine_supervise(const struct machine_supervised *s, int *wstatus, struct error *e);

#endif
