/*
 * A domain's life (lifecycle.h). A plain VM's vmm process holds
 * $VMM_RUNTIME/domains/NAME/pid locked (flock) while it runs, with its pid
 * in it, and serves ctl.sock beside it: the lock is the truth, the socket is
 * what destroy asks (the pid what it signals when that fails). A domain
 * with container metadata goes to lifecycle-container.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/domain/lifecycle-internal.h"
#include "vmm/domain/run.h"
#include "vmm/engine/client.h"
#include "vmm/engine/ctl.h"
#include "vmm/engine/lifecycle.h"

#define DESTROY_WAIT_MS	30000	/* for the VM to go after SIGTERM, before SIGKILL */

static int state_path(const struct paths *p, const char *name, const char *file, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/domains/%s%s%s", p->runtime, name, file ? "/" : "",
			     file ? file : "") >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* The pid of the vmm process running the plain VM name, or 0. */
static int plain_pid(const struct paths *p, const char *name)
{
	char path[4096], buf[16] = "";
	int fd, pid = 0;
	ssize_t n;

	if (state_path(p, name, "pid", path, sizeof(path)) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		pid = atoi(buf);
	}
	close(fd);
	return pid > 0 ? pid : 0;
}

/* Take the run lock of d, in a private folder of ours. The fd, or -errno with e. */
static int lock(const struct paths *p, const struct domain_def *d, struct error *e)
{
	char dir[4096], path[4096];
	int fd, ret;

	if (state_path(p, d->name, NULL, dir, sizeof(dir)) || state_path(p, d->name, "pid", path, sizeof(path)))
		return err_set(e, -ENAMETOOLONG, "runtime directory %s: too long", p->runtime);
	if ((ret = mkdir_p(AT_FDCWD, dir, 0700)) || (ret = dir_is_private(dir)))
		return err_sys(e, ret, "domain %s: state folder %s", d->name, dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_sys(e, -errno, "domain %s: %s", d->name, path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? err_set(e, -EBUSY, "domain %s is already running", d->name)
					   : err_sys(e, -errno, "domain %s: lock %s", d->name, path);
		close(fd);
		return ret;
	}
	return fd;
}

/* This process runs the VM: its pid in the lock file it holds. */
static void mark_running(int lock_fd)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (ftruncate(lock_fd, 0) == 0)
		pwrite_full(lock_fd, buf, n, 0);
}

/* At its end: no pty, no socket, no pid file (unlinked still locked: a start that opened it meanwhile finds it running). */
static void clear_state(const struct paths *p, const char *name)
{
	static const char *const files[] = { "pty", "ctl.sock", "pid" };
	char path[4096];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!state_path(p, name, files[i], path, sizeof(path)))
			unlink(path);
}

/*
 * A `pty` console for a background VM: the master is the guest's console
 * (stdin and stdout of this process), the path of the other side is written
 * down for `vmm domain console`. We keep that side open too, so the master
 * never reads EIO between two console sessions; output nobody reads is
 * dropped once the terminal's buffer is full (console.c), as QEMU's pty does.
 */
static int open_pty(const struct paths *p, const char *name, struct error *e)
{
	char path[4096], *slave;
	struct termios t;
	int master, keep, ret;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) || unlockpt(master) || !(slave = ptsname(master)))
		return err_sys(e, -errno, "domain %s: a pseudo-terminal for its console", name);
	keep = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (keep < 0 || tcgetattr(keep, &t) < 0)
		return err_sys(e, -errno, "domain %s: %s", name, slave);
	cfmakeraw(&t);	/* bytes both ways as they are */
	tcsetattr(keep, TCSANOW, &t);
	if ((ret = state_path(p, name, "pty", path, sizeof(path))) ||
	    (ret = write_file_atomic(AT_FDCWD, path, slave, strlen(slave), 0600)))
		return err_sys(e, ret, "domain %s: pty file", name);
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	dup2(master, STDIN_FILENO);
	dup2(master, STDOUT_FILENO);
	close(master);
	return 0;	/* keep stays open as long as this process */
}

/* The background process: its own session; stdio the console or /dev/null, stderr its log. */
static int detach(const struct paths *p, const struct domain_def *d, struct error *e)
{
	char log[4096];
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), fd;

	setsid();
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	if ((size_t)snprintf(log, sizeof(log), "%s/domains/%s.log", p->root, d->name) < sizeof(log) &&
	    (fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	return d->serial == DOMAIN_CHR_PTY ? open_pty(p, d->name, e) : 0;
}

/* Run d in this process, which holds its lock: marked, with its control socket, then cleared. */
static int run_locked(const struct paths *p, const struct domain_def *d, int lock_fd,
		      struct domain_run_opts *o, int *status, struct error *e)
{
	char path[4096];
	int ret;

	if (state_path(p, d->name, "ctl.sock", path, sizeof(path)) || (o->ctl_fd = ctl_listen(path)) < 0)
		return err_sys(e, o->ctl_fd < 0 ? o->ctl_fd : -ENAMETOOLONG, "domain %s: control socket %s",
			       d->name, path);
	mark_running(lock_fd);
	ret = domain_run(d, o, status, e);
	close(o->ctl_fd);
	clear_state(p, d->name);
	return ret;
}

static void tell_started(void *opaque)
{
	int *fd = opaque;

	write_full(*fd, "ok\n", 3);
	close(*fd);
	*fd = -1;
}

static void background_child(const struct paths *p, const struct domain_def *d, int lock_fd, int ready)
{
	struct domain_run_opts o = { .runtime = p->runtime, .started = tell_started, .opaque = &ready,
				     .ctl_fd = -1 };
	struct error e = { 0 };
	int status = EXIT_VMM_ERROR;

	/* the first boot's VMM says ok on ready; a failure after it finds no reader: EPIPE, not death */
	signal(SIGPIPE, SIG_IGN);
	if (!detach(p, d, &e)) {
		if (log_get_level() < LOG_INFO)	/* the log says how the domain went */
			log_set_level(LOG_INFO);
		dev_info(d->name, "started (vmm pid %d)", (int)getpid());
		if (!run_locked(p, d, lock_fd, &o, &status, &e))
			dev_info(d->name, "ended: exit status %d", status);
	}
	if (err_is_set(&e)) {
		if (ready >= 0)
			write_full(ready, e.msg, strlen(e.msg));
		err_print(&e);	/* into the log */
	}
	_exit(status);
}

static int start_plain(const struct paths *p, const struct domain_def *d, bool foreground, int *status,
		       struct error *e)
{
	struct domain_run_opts o = { .runtime = p->runtime, .ctl_fd = -1 };
	int lock_fd = lock(p, d, e), pipefd[2], ret;
	char line[ERR_MSG_MAX];
	pid_t pid;

	if (lock_fd < 0)
		return lock_fd;
	if (foreground) {
		ret = run_locked(p, d, lock_fd, &o, status, e);
		close(lock_fd);
		return ret;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		close(lock_fd);
		return err_sys(e, -errno, "domain %s: pipe", d->name);
	}
	if ((pid = fork()) < 0) {
		ret = err_sys(e, -errno, "domain %s: fork", d->name);
		close(pipefd[0]);
		close(pipefd[1]);
		close(lock_fd);
		return ret;
	}
	if (pid == 0) {
		close(pipefd[0]);
		background_child(p, d, lock_fd, pipefd[1]);
	}
	close(pipefd[1]);
	close(lock_fd);	/* the child holds the lock now */
	if (engine_child_ready(pipefd[0], pid, line, sizeof(line)))
		return err_set(e, -EIO, "%s", *line ? line : "domain did not start: its vmm process died");
	*status = 0;
	return 0;
}

/* The container metadata of d: 0 (a container domain), -ENOENT (a plain VM), or a bad one with e. */
static int as_container(const struct domain_def *d, struct domain_container *m, struct error *e)
{
	int ret = domain_container_read(d, m, e);

	return ret && ret != -ENOENT ? err_wrap(e, ret, "domain %s", d->name) : ret;
}

void domain_state(const struct paths *p, const struct domain_def *d, struct domain_state *st)
{
	struct domain_container m;
	struct error ignored = { 0 };

	memset(st, 0, sizeof(*st));
	if (!as_container(d, &m, &ignored)) {
		dc_state(p, &m, st);
		domain_container_free(&m);
		return;
	}
	st->pid = plain_pid(p, d->name);
	st->running = st->pid > 0;
}

int domain_start(const struct paths *p, const struct domain_def *d, bool foreground, int *status,
		 struct error *e)
{
	struct domain_container m;
	int ret = as_container(d, &m, e);

	*status = EXIT_VMM_ERROR;
	if (ret == -ENOENT)
		return start_plain(p, d, foreground, status, e);
	if (ret)
		return ret;
	ret = dc_start(p, d, &m, foreground, status, e);
	domain_container_free(&m);
	return ret;
}

int domain_shutdown(const struct paths *p, const struct domain_def *d, uint64_t timeout, struct error *e)
{
	struct domain_container m;
	int ret = as_container(d, &m, e);

	if (ret == -ENOENT)
		return plain_pid(p, d->name) ?
		       err_set(e, -EOPNOTSUPP, "domain %s: a micro-VM has no ACPI power button and runs no vmm agent "
			       "to ask; power it off from inside, or 'vmm domain destroy %s'", d->name, d->name) :
		       err_set(e, -ESRCH, "domain %s is not running", d->name);
	if (ret)
		return ret;
	ret = dc_stop(p, d, &m, timeout, e);
	domain_container_free(&m);
	return ret;
}

/* One request on the domain's control socket: 0 once it answered, or -errno. */
static int ask(const struct paths *p, const char *name, const char *op)
{
	json_object *req = json_object_new_object(), *got = NULL;
	char path[4096];
	int fd, ret;

	json_object_object_add(req, "op", json_object_new_string(op));
	if ((ret = state_path(p, name, "ctl.sock", path, sizeof(path))) || (fd = ret = ctl_connect(path)) < 0) {
		json_object_put(req);
		return ret;
	}
	ret = engine_call(fd, req, NULL, 0, &got, NULL);
	close(fd);
	json_object_put(got);
	return ret;
}

/* Until the lock is free (the process gone), for at most ms. */
static bool wait_gone(const struct paths *p, const char *name, int ms)
{
	for (int waited = 0; plain_pid(p, name); waited += 20) {
		struct timespec ts = { 0, 20 * 1000000 };

		if (waited >= ms)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

int domain_destroy(const struct paths *p, const struct domain_def *d, struct error *e)
{
	struct domain_container m;
	int ret = as_container(d, &m, e), pid;

	if (ret == -ENOENT) {
		if (!(pid = plain_pid(p, d->name)))
			return err_set(e, -ESRCH, "domain %s is not running", d->name);
		/* Asked on its control socket; SIGTERM does the same when that does not answer. */
		if (ask(p, d->name, "destroy"))
			kill(pid, SIGTERM);
		if (!wait_gone(p, d->name, DESTROY_WAIT_MS)) {
			kill(pid, SIGKILL);
			wait_gone(p, d->name, DESTROY_WAIT_MS);
		}
		return 0;
	}
	if (ret)
		return ret;
	ret = dc_stop(p, d, &m, 0, e);
	domain_container_free(&m);
	return ret;
}

int domain_console_open(const struct paths *p, const struct domain_def *d, char *buf, size_t len,
			int *lock_fd, struct error *e)
{
	struct domain_container m;
	char path[4096], *pty = NULL;
	size_t n;
	int fd, ret = as_container(d, &m, e);

	if (ret != -ENOENT) {	/* a container, or bad metadata */
		if (!ret) {
			domain_container_free(&m);
			ret = err_set(e, -EOPNOTSUPP, "domain %s is a container: its console is its process's; "
				      "use 'vmm attach' or 'vmm logs'", d->name);
		}
		return ret;
	}
	if (d->serial != DOMAIN_CHR_PTY)
		return err_set(e, -EOPNOTSUPP, "domain %s has no pty console%s%s", d->name,
			       d->serial == DOMAIN_CHR_FILE ? ": it writes to " : "",
			       d->serial == DOMAIN_CHR_FILE ? d->serial_path : "");
	if (!plain_pid(p, d->name))
		return err_set(e, -ESRCH, "domain %s is not running", d->name);
	if ((ret = state_path(p, d->name, "pty", path, sizeof(path))) ||
	    (ret = read_file(AT_FDCWD, path, 64, &pty, &n)))
		return err_sys(e, ret, "domain %s: its console (started in the foreground?)", d->name);
	/* Ours, in our private folder; still, only ever a pseudo-terminal. */
	ret = str_has_prefix(pty, "/dev/pts/") && strspn(pty + 9, "0123456789") == strlen(pty + 9) &&
	      strlen(pty) < len ? 0 : -EINVAL;
	if (!ret)
		snprintf(buf, len, "%s", pty);
	free(pty);
	if (ret)
		return err_set(e, ret, "domain %s: %s holds no pseudo-terminal", d->name, path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? err_set(e, -EBUSY, "domain %s: its console is in use by another "
						       "session", d->name)
					   : err_sys(e, -errno, "domain %s: %s", d->name, path);
		if (fd >= 0)
			close(fd);
		return ret;
	}
	*lock_fd = fd;
	return 0;
}

int domain_forget(const struct paths *p, const char *name, struct error *e)
{
	char path[4096];

	if (!domain_name_valid(name))	/* no path of ours from it; the store says why */
		return 0;
	if (plain_pid(p, name))
		return err_set(e, -EBUSY, "domain %s is running; 'vmm domain destroy %s' first", name, name);
	if ((size_t)snprintf(path, sizeof(path), "%s/domains/%s.log", p->root, name) < sizeof(path))
		unlink(path);
	if (!state_path(p, name, NULL, path, sizeof(path)))
		rmdir(path);
	return 0;
}
