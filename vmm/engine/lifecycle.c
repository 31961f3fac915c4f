/* Starting, waiting for and removing containers (lifecycle.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"
#include "vmm/engine/events-journal.h"
#include "vmm/engine/lan.h"
#include "vmm/engine/lifecycle.h"
#include "vmm/engine/mounts.h"
#include "vmm/engine/runner.h"

/* --rm, or a fresh container whose process never started: leave nothing behind. */
static void maybe_remove(const struct paths *p, struct container *ct, bool fresh)
{
	/* Its anonymous volumes go with it (docker's --rm); its config first, so none is in use. */
	if (ct->cfg.auto_remove || (fresh && ct->state.status == CONTAINER_CREATED)) {
		events_journal_removed(p->root, ct);
		container_remove(ct);
		engine_mounts_drop_anonymous(p, &ct->cfg);
	}
}

/* A background vmm process: its own session, /dev/null for stdio. */
static void detach_session(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	setsid();
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
}

/*
 * Wait ms before a restart; false if SIGTERM, SIGINT or SIGHUP came first
 * (vmm stop or kill during the wait: client.c's stop_restarting): a manual stop.
 */
static bool restart_wait(uint64_t ms)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int64_t now = monotonic_ns(), end = now + (int64_t)ms * 1000000; now < end; now = monotonic_ns()) {
		struct timespec ts = { .tv_sec = (end - now) / 1000000000, .tv_nsec = (end - now) % 1000000000 };

		if (sigtimedwait(&set, NULL, &ts) > 0)
			return false;
	}
	return true;
}

/*
 * Does ct's policy want another run? The policy on disk counts: vmm update may have changed it
 * meanwhile, and vmm network connect and disconnect its networks.
 */
static bool again(const struct paths *p, struct container *ct, int status)
{
	struct container *now;
	int ret = container_open(p->root, ct->cfg.id, &now, NULL);

	if (ret == -ENOENT)
		return false;	/* removed (vmm rm -f) */
	if (ret == 0) {
		struct net_config swap = ct->cfg.net;

		ct->cfg.restart = now->cfg.restart;
		ct->cfg.net = now->cfg.net;
		now->cfg.net = swap;
		container_free(now);
	}
	return restart_wanted(&ct->cfg.restart, status, ct->state.manual_stop, ct->state.restart_count);
}

/*
 * --restart: run ct again, in this (detached) process, while its policy says
 * so. Returns the last run's status.
 */
static int restart_loop(const struct paths *p, struct container *ct, const struct start_opts *o, int status)
{
	uint64_t delay = 0;

	while (again(p, ct, status)) {
		struct runner_opts ro = { .ready_fd = -1, .cold = o->cold };

		delay = restart_delay_ms(delay, ct->state.finished_ns - ct->state.started_ns);
		ct->state.restarting = true;
		ct->state.pid = getpid();	/* what vmm stop signals meanwhile */
		container_save_state(ct);
		if (!restart_wait(delay)) {
			ct->state.restarting = false;
			ct->state.manual_stop = true;
			ct->state.pid = 0;
			container_save_state(ct);
			break;
		}
		ct->state.restart_count++;
		status = runner_run(p, ct, &ro);
	}
	return status;
}

/* Leave the caller (its terminal, its exit status) and go on with --restart in the background. */
static bool restart_in_background(const struct paths *p, struct container *ct, const struct start_opts *o,
				  int status)
{
	pid_t pid;

	if (!again(p, ct, status))
		return false;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		detach_session();
		_exit(restart_loop(p, ct, o, status));
	}
	close(ct->lock_fd);	/* the child holds the run lock now */
	ct->lock_fd = -1;
	return true;
}

/* The child of a detached start: runs the VM, says "ok" or why not on fd. */
static void run_detached(const struct paths *p, struct container *ct, const struct start_opts *o,
			 int fd)
{
	struct runner_opts ro = { .attach = false, .interactive = false, .ready_fd = fd, .cold = o->cold };
	bool fresh = o->fresh;
	int status;

	detach_session();
	status = runner_run(p, ct, &ro);
	if (ct->state.status == CONTAINER_EXITED) {	/* it ran: --restart applies; not fresh now */
		status = restart_loop(p, ct, o, status);
		fresh = false;
	}
	maybe_remove(p, ct, fresh);
	_exit(status);
}

struct detached {
	const struct paths *p;
	struct container *ct;
	const struct start_opts *o;
};

static void detached_child(void *arg, int ready_fd)
{
	struct detached *d = arg;

	run_detached(d->p, d->ct, d->o, ready_fd);
}

int engine_start(const struct paths *p, struct container *ct, const struct start_opts *o,
		 int *status, struct error *e)
{
	pid_t pid;
	int ret;

	*status = EXIT_VMM_ERROR;
	if (container_lock(ct))
		return err_set(e, -EBUSY, "container %s is already running", ct->cfg.name);
	if (o->attach) {
		struct runner_opts ro = { .attach = true, .interactive = o->interactive, .ready_fd = -1,
					  .cold = o->cold };

		*status = runner_run(p, ct, &ro);
		if (ct->state.status == CONTAINER_EXITED && restart_in_background(p, ct, o, *status))
			return 0;
		maybe_remove(p, ct, o->fresh);
		return 0;
	}
	/* -d: a child runs the VM; we return once the container's process started. */
	ret = engine_spawn(ct, detached_child, &(struct detached){ p, ct, o }, &pid, e);
	if (!ret)
		*status = 0;
	return ret;
}

int engine_spawn(struct container *ct, void (*child)(void *arg, int ready_fd), void *arg, pid_t *pid_out,
		 struct error *e)
{
	char line[600];
	int pipefd[2];
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return err_sys(e, -errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return err_sys(e, -errno, "fork");
	}
	if (pid == 0) {
		close(pipefd[0]);
		child(arg, pipefd[1]);
		_exit(EXIT_VMM_ERROR);	/* child() does not return */
	}
	close(pipefd[1]);
	close(ct->lock_fd);	/* the child holds the run lock now */
	ct->lock_fd = -1;
	/* A child removes a container that never started: we return once that is done. */
	if (engine_child_ready(pipefd[0], pid, line, sizeof(line)))
		return err_set(e, -EIO, "container %s did not start: %s", ct->cfg.name,
			       *line ? line : "its vmm process died");
	*pid_out = pid;
	return 0;
}

int engine_child_ready(int fd, pid_t pid, char *why, size_t len)
{
	ssize_t n = read(fd, why, len - 1);

	close(fd);
	why[n > 0 ? n : 0] = '\0';
	why[strcspn(why, "\n")] = '\0';
	if (!strcmp(why, "ok"))
		return 0;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return -EIO;
}

int engine_wait(const struct paths *p, const char *ref, int *exit_code, struct error *e)
{
	struct container_state st;
	struct container *ct;
	int ret = container_open(p->root, ref, &ct, e);

	if (ret)
		return ret;
	if (container_wait(ct) || container_reload_state(ct)) {
		ret = err_set(e, -EIO, "container %s: cannot wait for it", ref);
	} else {
		container_effective_state(ct, &st);
		*exit_code = st.exit_code;
	}
	container_free(ct);
	return ret;
}

/* Has ct's run after since ended? Its exit status in *code. */
static bool ended_since(struct container *ct, int64_t since, int *code)
{
	bool running = container_is_running(ct);

	if (container_reload_state(ct) || ct->state.started_ns == since)
		return false;
	if (ct->state.status == CONTAINER_EXITED) {
		*code = ct->state.exit_code;
		return true;
	}
	if (ct->state.status == CONTAINER_RUNNING && !running && !container_is_running(ct)) {
		*code = 137;	/* its vmm died without saying so: what container_effective_state shows */
		return true;
	}
	return false;
}

int engine_wait_exit(const struct paths *p, const char *ref, bool next, bool (*gone)(void *arg), void *arg,
		     int *exit_code, struct error *e)
{
	struct container_state st;
	struct container *ct;
	int ret = container_open(p->root, ref, &ct, e), in;
	int64_t since;

	if (ret)
		return ret;
	if (!next && !container_is_running(ct)) {	/* not-running: it is not */
		container_effective_state(ct, &st);
		*exit_code = st.exit_code;
		container_free(ct);
		return 0;
	}
	/* A running container's run is the one to wait for; else the next one. */
	since = container_is_running(ct) ? ct->state.started_ns - 1 : ct->state.started_ns;
	in = inotify_init1(IN_CLOEXEC);
	if (in < 0 || inotify_add_watch(in, ct->dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF) < 0)
		ret = err_sys(e, -errno, "container %s: watching its state", ref);
	while (!ret && !ended_since(ct, since, exit_code)) {
		struct pollfd pf = { .fd = in, .events = POLLIN };
		char ev[4096];

		if (access(ct->dir, F_OK)) {
			ret = err_set(e, -ENOENT, "container %s was removed before its exit status could be read", ref);
			break;
		}
		if (gone && gone(arg)) {
			ret = err_set(e, -ECANCELED, "container %s: nobody waits any more", ref);
			break;
		}
		/* the state file is replaced by rename; a second's timeout covers a vmm that died */
		if (poll(&pf, 1, 1000) > 0 && read(in, ev, sizeof(ev)) < 0)
			ret = err_sys(e, -errno, "container %s: watching its state", ref);
	}
	if (in >= 0)
		close(in);
	container_free(ct);
	return ret;
}

/* A killed vmm could not leave its networks itself: those of its config, and those it joined running. */
static void reap_networks(const struct paths *p, const struct container *ct)
{
	char name[65];

	if (ct->cfg.net.network)
		lan_reap(p, ct->cfg.net.network);
	for (char **m = ct->cfg.net.more; m && *m; m++) {
		netcfg_more_split(*m, name);
		lan_reap(p, name);
	}
	for (unsigned i = 0; i < ct->state.nlans; i++)
		lan_reap(p, ct->state.lans[i].network);
}

int engine_remove(const struct paths *p, const char *ref, bool force, bool volumes, struct error *e)
{
	struct container *ct;
	int ret = container_open(p->root, ref, &ct, e);

	if (ret)
		return ret;
	if (container_is_running(ct)) {
		if (!force) {
			container_free(ct);
			return err_set(e, -EBUSY, "container %s is running: stop it first ('vmm stop %s') or use "
				       "'vmm rm -f'", ref, ref);
		}
		container_kill(ct);
		reap_networks(p, ct);
	}
	events_journal_removed(p->root, ct);
	ret = container_remove(ct);
	if (ret)
		err_sys(e, ret, "container %s: cannot remove %s", ref, ct->dir);
	else if (volumes)
		engine_mounts_drop_anonymous(p, &ct->cfg);
	container_free(ct);
	return ret;
}
