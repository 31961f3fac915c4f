/*
 * A container's VMM shuts itself in (docs/sandbox.md). runner_run forks it
 * from a supervisor that stays as it was: the supervisor outlives the VM to
 * restart it (--restart opens /dev/kvm, the disks and virtiofsd again) and
 * to clean up after it (--rm), passes signals on, and records a VMM that
 * died. The VMM, once its VM is built and before the vCPUs start, keeps only
 * the store and the runtime folder in view, drops every capability and
 * loads the event loop's seccomp allow-list.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/confine.h"
#include "vmm/engine/container.h"
#include "vmm/engine/runner-internal.h"
#include "vmm/engine/runner.h"
#include "vmm/machine/machine.h"
#include "vmm/machine/supervise.h"

/* vm_start's hook: everything is open; nothing from the guest has been handled yet. */
int runner_confine(void *opaque, struct error *e)
{
	struct runner *r = opaque;
	bool inet = r->m && r->m->cfg.net && r->m->cfg.net->backend != MACHINE_NET_TAP;
	const char *dirs[] = { r->paths->root, r->paths->runtime, NULL };
	char who[300];

	snprintf(who, sizeof(who), "container %s", r->ct->cfg.name);
	return confine_vmm(&(struct confine_vmm){
		.who = who, .dirs = dirs, .loop = { .inet = inet, .log = r->confine == CONFINE_LOG },
	}, e);
}

/* A VMM that died of a signal left its state saying running: say how it ended. */
static void record_death(struct container *ct, int sig)
{
	container_reload_state(ct);
	if (ct->state.status != CONTAINER_RUNNING && ct->state.status != CONTAINER_CREATED)
		return;
	ct->state.status = CONTAINER_EXITED;
	ct->state.exit_code = 128 + sig;
	ct->state.pid = 0;
	ct->state.paused = false;
	ct->state.nports = 0;
	ct->state.finished_ns = realtime_ns();
	snprintf(ct->state.error, sizeof(ct->state.error), "the VMM process was killed by signal %d (%s)",
		 sig, strsignal(sig));
	container_save_state(ct);
}

struct supervised {
	const struct paths *paths;
	struct container *ct;
	const struct runner_opts *opts;
	int (*run)(const struct paths *, struct container *, const struct runner_opts *, pid_t);
};

static int run_child(void *arg, pid_t supervisor)
{
	struct supervised *s = arg;

	return s->run(s->paths, s->ct, s->opts, supervisor);
}

int runner_supervised(const struct paths *paths, struct container *ct, const struct runner_opts *opts,
		      int (*run)(const struct paths *, struct container *, const struct runner_opts *, pid_t))
{
	struct supervised s = { .paths = paths, .ct = ct, .opts = opts, .run = run };
	struct error e = { 0 };
	char who[300];
	int status;

	snprintf(who, sizeof(who), "container %s", ct->cfg.name);
	if (machine_supervise(&(struct machine_supervised){ .run = run_child, .arg = &s,
							    .give_fd = opts->ready_fd, .who = who },
			      &status, &e)) {
		err_print(&e);
		return EXIT_VMM_ERROR;
	}
	if (WIFSIGNALED(status)) {
		record_death(ct, WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	container_reload_state(ct);
	return WEXITSTATUS(status);
}
