/*
 * A container's VMM shuts itself in (docs/sandbox.md). runner_run forks it
 * from a supervisor that stays as it was: the supervisor outlives the VM to
 * restart it (--restart opens /dev/kvm, the disks and virtiofsd again) and
 * to clean up after it (--rm), passes signals on, and records a VMM that
 * died. The VMM, once its VM is built and before the vCPUs start, keeps only
 * the store and the runtime folder in view, drops every capability and
 * loads the event loop's seccomp allow-list.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/confine.h"
#include "vmm/engine/container.h"
#include "vmm/machine/machine.h"
#include "vmm/engine/runner-internal.h"
#include "vmm/engine/runner.h"

int runner_confine_mode(enum runner_confine *mode, struct error *e)
{
	const char *v = getenv("VMM_CONFINE");

	if (!v || !*v || !strcmp(v, "on"))
		*mode = RUNNER_CONFINE_ON;
	else if (!strcmp(v, "log"))
		*mode = RUNNER_CONFINE_LOG;
	else if (!strcmp(v, "off"))
		*mode = RUNNER_CONFINE_OFF;
	else
		return err_set(e, -EINVAL, "VMM_CONFINE=%s: use on (the default), log or off", v);
	return 0;
}

/* vm_start's hook: everything is open; nothing from the guest has been handled yet. */
int runner_confine(void *opaque, struct error *e)
{
	struct runner *r = opaque;
	bool inet = r->m && r->m->cfg.net && r->m->cfg.net->backend != MACHINE_NET_TAP;
	const char *dirs[] = { r->paths->root, r->paths->runtime, NULL };
	/* libslirp reads the host's resolvers as the guest asks 10.0.2.3 */
	const char *files[] = { "/dev/null", "/dev/urandom", inet ? "/etc/resolv.conf" : NULL, NULL };
	struct confine_loop loop = { .inet = inet, .log = r->confine == RUNNER_CONFINE_LOG };
	int ret;

	ret = confine_jail(&(struct confine_jail){ .dirs = dirs, .files = files }, e);
	if (ret > 0) {	/* what the host allows is still done: no capabilities, the filter */
		pr_warn("container %s: its VMM keeps the host's view of files: %s", r->ct->cfg.name, e->msg);
		*e = (struct error){ 0 };
		ret = 0;
	}
	if (ret || (ret = confine_drop_caps(e)) || (ret = confine_loop_thread(&loop, e)))
		return err_wrap(e, ret, "confining the VMM (VMM_CONFINE=off runs it unconfined)");
	return 0;
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

/*
 * Wait for the VMM. A signal sent to us (vmm stop, kill PID) goes on to it;
 * one from the kernel (the terminal's) reached it directly.
 */
static int supervise(pid_t vmm, struct container *ct, const sigset_t *set)
{
	for (;;) {
		siginfo_t si;
		int status;
		pid_t w;

		if (sigwaitinfo(set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			if (si.si_code != SI_KERNEL)	/* the terminal's reached the VMM itself */
				sigqueue(vmm, MACHINE_SIG_PASSED, (union sigval){ .sival_int = si.si_signo });
			continue;
		}
		while ((w = waitpid(vmm, &status, WNOHANG)) < 0 && errno == EINTR)
			;
		if (w != vmm)
			continue;
		if (WIFSIGNALED(status)) {
			record_death(ct, WTERMSIG(status));
			return 128 + WTERMSIG(status);
		}
		container_reload_state(ct);
		return WEXITSTATUS(status);
	}
}

int runner_supervised(const struct paths *paths, struct container *ct, const struct runner_opts *opts,
		      int (*run)(const struct paths *, struct container *, const struct runner_opts *, pid_t))
{
	pid_t self = getpid(), vmm;
	struct termios tio;
	bool tty = opts->attach && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &tio) == 0;
	sigset_t set, old;
	int status;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, &old);
	vmm = fork();
	if (vmm < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		pr_err("container %s: cannot fork its VMM: %s", ct->cfg.name, strerror(errno));
		return EXIT_VMM_ERROR;
	}
	if (vmm == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* the supervisor gone (kill -9): the VM goes too */
		if (getppid() != self)
			_exit(EXIT_VMM_ERROR);
		sigaddset(&old, MACHINE_SIG_PASSED);	/* queued until the machine reads it */
		sigprocmask(SIG_SETMASK, &old, NULL);
		status = run(paths, ct, opts, self);
		fflush(NULL);
		_exit(status);
	}
	if (opts->ready_fd >= 0)
		close(opts->ready_fd);	/* the VMM's to write, or to close by dying */
	status = supervise(vmm, ct, &set);
	if (tty)	/* a VMM killed in raw mode leaves the terminal as it was */
		tcsetattr(STDIN_FILENO, TCSADRAIN, &tio);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}
