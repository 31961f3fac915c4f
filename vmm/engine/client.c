/* The client side of a running container's control socket (client.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/base/strv.h"
#include "vmm/engine/client.h"
#include "vmm/engine/container.h"
#include "vmm/engine/ctl.h"
#include "vmm/engine/env.h"

/*
 * Connect to a running container's socket. Its vmm process marks it running,
 * then makes the socket while the VM boots (a start, or a --restart run):
 * meanwhile, wait for it while that process holds the container.
 */
static int connect_running(struct container *ct, const char *path)
{
	int fd;

	for (int64_t end = monotonic_ns() + 600 * 1000000000LL;; poll(NULL, 0, 50)) {
		fd = ctl_connect(path);
		if ((fd != -ENOENT && fd != -ECONNREFUSED) || monotonic_ns() > end ||
		    container_reload_state(ct) || !container_is_running(ct) || ct->state.restarting)
			return fd;
	}
}

int engine_connect(const struct paths *p, const char *ref, struct container **ct, int *fd,
		   struct error *e)
{
	char path[256];
	int ret = container_open(p->root, ref, ct, e);

	if (ret)
		return ret;
	if (!container_is_running(*ct))
		ret = err_set(e, -ESRCH, "container %s is not running", ref);
	else if ((*ct)->state.restarting)	/* between two --restart runs: no control socket */
		ret = err_set(e, -EAGAIN, "container %s is restarting, wait until the container is running", ref);
	else if ((ret = ctl_path(p->runtime, (*ct)->cfg.id, path, sizeof(path))) ||
		 (ret = *fd = connect_running(*ct, path)) < 0)
		err_sys(e, ret, "container %s: cannot reach its vmm process at %s", ref, path);
	if (ret < 0) {
		container_free(*ct);
		*ct = NULL;
		return ret;
	}
	return 0;
}

int engine_send(int fd, json_object *req, const int *fds, unsigned nfds, struct error *e)
{
	int ret = ctl_send(fd, req, fds, nfds);

	json_object_put(req);
	return ret ? err_sys(e, ret, "the container's vmm process") : 0;
}

int engine_call(int fd, json_object *req, const int *fds, unsigned nfds, json_object **reply,
		struct error *e)
{
	int ret = engine_send(fd, req, fds, nfds, e);

	return ret ? ret : engine_reply(fd, reply, e);
}

int engine_reply(int fd, json_object **reply, struct error *e)
{
	struct ctl_reader rd = { 0 };
	json_object *err;
	int got[CTL_MAX_FDS], ret;
	unsigned ngot;

	*reply = NULL;
	while ((ret = ctl_recv(fd, &rd, reply, got, &ngot)) == 0)
		;
	ctl_reader_free(&rd);
	if (ret < 0)
		return err_set(e, -EIO, "the container's vmm process went away");
	for (unsigned i = 0; i < ngot; i++)
		close(got[i]);
	if (json_object_object_get_ex(*reply, "error", &err)) {
		err_set(e, -EIO, "%s", json_object_get_string(err));
		json_object_put(*reply);
		*reply = NULL;
		return -EIO;
	}
	return 0;
}

/* One request (with fds, kept by the caller) on a fresh connection, its reply dropped. */
static int simple_call(const struct paths *p, const char *ref, json_object *req, const int *fds,
		       unsigned nfds, struct container **ct, struct error *e)
{
	json_object *rep = NULL;
	int fd, ret = engine_connect(p, ref, ct, &fd, e);

	if (ret) {
		json_object_put(req);
		return ret;
	}
	ret = engine_call(fd, req, fds, nfds, &rep, e);
	json_object_put(rep);
	close(fd);
	return ret;
}

/*
 * A container between two --restart runs has no control socket: its vmm
 * process waits, and gives up on SIGTERM. 1 if ref was one (now stopped for
 * good), 0 if not, or -errno with e.
 */
static int stop_restarting(const struct paths *p, const char *ref, struct error *e)
{
	struct container_state st;
	struct container *ct;
	int ret = container_open(p->root, ref, &ct, e);

	if (ret)
		return ret;
	container_effective_state(ct, &st);
	if (!st.restarting || st.pid <= 0)
		ret = 0;
	else if (kill(st.pid, SIGTERM) < 0 && errno != ESRCH)
		ret = err_sys(e, -errno, "container %s: cannot signal its vmm process", ref);
	else if ((ret = container_wait(ct)))
		err_sys(e, ret, "container %s: cannot wait for it", ref);
	else
		ret = 1;
	container_free(ct);
	return ret;
}

int engine_stop(const struct paths *p, const char *ref, uint64_t timeout, struct error *e)
{
	json_object *req;
	struct container *ct = NULL;
	int ret = stop_restarting(p, ref, e);

	if (ret)
		return ret < 0 ? ret : 0;
	req = json_object_new_object();

	json_object_object_add(req, "op", json_object_new_string("stop"));
	json_object_object_add(req, "timeout", json_object_new_int64(timeout));
	ret = simple_call(p, ref, req, NULL, 0, &ct, e);
	if (ret == -ESRCH) {
		err_clear(e);
		return 0;	/* docker: stopping a stopped container is fine */
	}
	if (!ret && (ret = container_wait(ct)))
		err_sys(e, ret, "container %s: cannot wait for it", ref);
	container_free(ct);
	return ret;
}

int engine_kill(const struct paths *p, const char *ref, int sig, struct error *e)
{
	json_object *req;
	struct container *ct = NULL;
	int ret = stop_restarting(p, ref, e);	/* a kill is a manual stop too */

	if (ret)
		return ret < 0 ? ret : 0;
	req = json_object_new_object();

	json_object_object_add(req, "op", json_object_new_string("kill"));
	json_object_object_add(req, "signal", json_object_new_int(sig));
	ret = simple_call(p, ref, req, NULL, 0, &ct, e);
	container_free(ct);
	return ret;
}

/* {"op": OP, "rows": R, "cols": C}: a terminal's size, the main process's or an exec's. */
static json_object *size_request(const char *op, unsigned rows, unsigned cols)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "op", json_object_new_string(op));
	json_object_object_add(o, "rows", json_object_new_int((int)rows));
	json_object_object_add(o, "cols", json_object_new_int((int)cols));
	return o;
}

int engine_resize(const struct paths *p, const char *ref, unsigned rows, unsigned cols, struct error *e)
{
	struct container *ct = NULL;
	int ret = simple_call(p, ref, size_request("winsize", rows, cols), NULL, 0, &ct, e);

	container_free(ct);
	return ret;
}

int engine_attach_stdin(const struct paths *p, const char *ref, int fd, bool close_at_eof,
			struct error *e)
{
	json_object *req = json_object_new_object();
	struct container *ct = NULL;
	int ret;

	json_object_object_add(req, "op", json_object_new_string("stdin"));
	json_object_object_add(req, "close_at_eof", json_object_new_boolean(close_at_eof));
	ret = simple_call(p, ref, req, &fd, 1, &ct, e);
	container_free(ct);
	return ret;
}

int engine_pause(const struct paths *p, const char *ref, bool pause, struct error *e)
{
	json_object *req, *rep = NULL;
	struct container *ct = NULL;
	int fd, ret = engine_connect(p, ref, &ct, &fd, e);

	if (ret)
		return ret;
	if (ct->state.paused == pause) {
		ret = err_set(e, -EBUSY, pause ? "container %s is already paused"
				     : "container %s is not paused", ref);
	} else {
		req = json_object_new_object();
		json_object_object_add(req, "op", json_object_new_string(pause ? "pause" : "unpause"));
		ret = engine_call(fd, req, NULL, 0, &rep, e);
		json_object_put(rep);
	}
	close(fd);
	container_free(ct);
	return ret;
}

void engine_proc_text(const struct engine_proc *p, struct engine_proc_text *t)
{
	long long s = p->time_ms / 1000;

	snprintf(t->user, sizeof(t->user), "%s", p->user);
	snprintf(t->cmd, sizeof(t->cmd), "%s", p->cmd);
	str_sanitize(t->user, true);
	str_sanitize(t->cmd, true);
	snprintf(t->time, sizeof(t->time), "%02lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

int engine_top(const struct paths *p, const char *ref,
	       void (*fn)(void *arg, const struct engine_proc *proc), void *arg, struct error *e)
{
	json_object *req = json_object_new_object(), *rep = NULL, *procs;
	struct container *ct;
	int fd, ret = engine_connect(p, ref, &ct, &fd, e);

	if (ret) {
		json_object_put(req);
		return ret;
	}
	json_object_object_add(req, "op", json_object_new_string("top"));
	ret = engine_call(fd, req, NULL, 0, &rep, e);
	if (!ret && json_object_object_get_ex(rep, "procs", &procs)) {
		for (size_t i = 0; i < json_object_array_length(procs); i++) {
			json_object *o = json_object_array_get_idx(procs, i), *v;
			struct engine_proc pr = { .user = "?", .cmd = "" };

			if (json_object_object_get_ex(o, "pid", &v))
				pr.pid = json_object_get_int(v);
			if (json_object_object_get_ex(o, "user", &v))
				pr.user = json_object_get_string(v);
			if (json_object_object_get_ex(o, "time_ms", &v))
				pr.time_ms = json_object_get_int64(v);
			if (json_object_object_get_ex(o, "cmd", &v))
				pr.cmd = json_object_get_string(v);
			fn(arg, &pr);
		}
	}
	json_object_put(rep);
	close(fd);
	container_free(ct);
	return ret;
}

int engine_stats_ask(const struct paths *p, const char *ref, int *fd, struct error *e)
{
	json_object *req;
	struct container *ct;
	int ret = engine_connect(p, ref, &ct, fd, e);

	if (ret)
		return ret;
	container_free(ct);
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("stats"));
	ret = engine_send(*fd, req, NULL, 0, e);
	if (ret) {
		close(*fd);
		*fd = -1;
	}
	return ret;
}

static uint64_t stat_field(json_object *o, const char *key, bool *present)
{
	json_object *v;

	*present = json_object_object_get_ex(o, key, &v);
	return *present ? (uint64_t)json_object_get_int64(v) : 0;
}

int engine_stats_reply(int fd, struct engine_stats *out, struct error *e)
{
	json_object *rep = NULL;
	int ret = engine_reply(fd, &rep, e);
	bool present;

	close(fd);
	memset(out, 0, sizeof(*out));
	if (ret)
		return ret;
	out->cpu_ns = stat_field(rep, "cpu_ns", &present);
	out->uptime_ns = stat_field(rep, "uptime_ns", &present);
	out->net_rx = stat_field(rep, "net_rx", &present);
	out->net_tx = stat_field(rep, "net_tx", &present);
	out->blk_read = stat_field(rep, "blk_read", &present);
	out->blk_write = stat_field(rep, "blk_write", &present);
	out->mem = stat_field(rep, "guest_mem", &out->guest);
	out->mem_max = stat_field(rep, "guest_mem_max", &present);
	out->pids = stat_field(rep, "pids", &present);
	json_object_put(rep);
	return 0;
}

int engine_stats(const struct paths *p, const char *ref, struct engine_stats *out, struct error *e)
{
	int fd, ret = engine_stats_ask(p, ref, &fd, e);

	if (ret)
		memset(out, 0, sizeof(*out));
	return ret ? ret : engine_stats_reply(fd, out, e);
}

/* ---- exec ---- */

static void send_size(int fd, unsigned rows, unsigned cols)
{
	json_object *o = size_request("resize", rows, cols);

	ctl_send(fd, o, NULL, 0);
	json_object_put(o);
}

static void send_resize(int fd)
{
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		send_size(fd, ws.ws_row, ws.ws_col);
}

/*
 * Window sizes from size_fd ("ROWS COLS" lines): the last whole one goes to the
 * process. false at the end of the stream.
 */
static bool forward_sizes(int fd, int size_fd)
{
	char buf[256], *line, *save = NULL;
	ssize_t n = read(size_fd, buf, sizeof(buf) - 1);
	unsigned rows = 0, cols = 0;
	bool got = false;

	if (n <= 0)
		return n < 0 && errno == EINTR;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%u %u", &rows, &cols) == 2 && rows <= 65535 && cols <= 65535)
			got = true;
	if (got)
		send_size(fd, rows, cols);
	return true;
}

static void forward_signal(int fd, int sig, bool tty)
{
	json_object *o;

	if (sig == SIGWINCH) {
		if (tty)
			send_resize(fd);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "op", json_object_new_string("signal"));
	json_object_object_add(o, "signal", json_object_new_int(sig));
	ctl_send(fd, o, NULL, 0);
	json_object_put(o);
}

/*
 * One message of the exec's conversation: 1 when it was the last (*status
 * set; e too when the process did not run), 0 to go on.
 */
static int exec_event(json_object *msg, int *status, struct error *e)
{
	json_object *v, *code, *err;

	if (json_object_object_get_ex(msg, "error", &v) && !json_object_object_get_ex(msg, "event", NULL)) {
		err_set(e, -EIO, "%s", json_object_get_string(v));
		*status = EXIT_VMM_ERROR;
		return 1;
	}
	if (!json_object_object_get_ex(msg, "event", &v) || strcmp(json_object_get_string(v), "exit"))
		return 0;
	*status = json_object_object_get_ex(msg, "code", &code) ? json_object_get_int(code) : EXIT_VMM_ERROR;
	if (json_object_object_get_ex(msg, "error", &err))
		err_set(e, -ENOEXEC, "%s", json_object_get_string(err));
	return 1;
}

/* exec -d: wait for its start (or its failure to start). */
static int wait_started(int fd, int *status, struct error *e)
{
	struct ctl_reader rd = { 0 };
	json_object *msg = NULL, *v;
	int got[CTL_MAX_FDS], r;
	unsigned ngot;

	*status = EXIT_VMM_ERROR;
	while ((r = ctl_recv(fd, &rd, &msg, got, &ngot)) == 0)
		;
	ctl_reader_free(&rd);
	if (r < 0)
		return err_set(e, -EIO, "the container's vmm process went away");
	for (unsigned i = 0; i < ngot; i++)
		close(got[i]);
	if (json_object_object_get_ex(msg, "event", &v) && !strcmp(json_object_get_string(v), "started"))
		*status = 0;
	else
		exec_event(msg, status, e);
	json_object_put(msg);
	return err_is_set(e) ? e->code : 0;
}

/* Wait for the exec's events; forward our signals (and window size) meanwhile. */
static int wait_exit(int fd, bool tty, int size_fd, int *status, struct error *e)
{
	struct ctl_reader rd = { 0 };
	sigset_t set;
	int sfd, ret = -EIO;

	*status = EXIT_VMM_ERROR;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	for (;;) {
		struct pollfd pf[3] = { { .fd = fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN },
					{ .fd = size_fd, .events = POLLIN } };
		json_object *msg;
		int got[CTL_MAX_FDS], r;
		unsigned ngot;

		if (poll(pf, 3, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				forward_signal(fd, si.ssi_signo, tty);
		}
		if ((pf[2].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) && !forward_sizes(fd, size_fd))
			size_fd = -1;	/* its writer is gone: poll ignores a negative descriptor */
		if (!(pf[0].revents & (POLLIN | POLLHUP)))
			continue;
		while ((r = ctl_recv(fd, &rd, &msg, got, &ngot)) == 1) {
			int last;

			for (unsigned i = 0; i < ngot; i++)
				close(got[i]);
			last = exec_event(msg, status, e);
			json_object_put(msg);
			if (last) {
				ret = err_is_set(e) ? e->code : 0;
				goto out;
			}
		}
		if (r < 0) {
			err_set(e, -EIO, "the container's vmm process went away");
			break;
		}
	}
out:
	ctl_reader_free(&rd);
	close(sfd);
	return ret;
}

static json_object *exec_request(const struct container *ct, const struct exec_config *c, struct error *e)
{
	json_object *req;
	char **env;
	int ret = env_merge(ct->cfg.env, c->env, &env);

	if (ret) {
		err_set(e, ret, "out of memory");
		return NULL;
	}
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("exec"));
	json_object_object_add(req, "argv", strv_to_json(c->argv));
	json_object_object_add(req, "env", strv_to_json(env));
	strv_free(env);
	if (c->workdir || ct->cfg.workdir)
		json_object_object_add(req, "cwd", json_object_new_string(c->workdir ? c->workdir : ct->cfg.workdir));
	if (c->user || ct->cfg.user)
		json_object_object_add(req, "user", json_object_new_string(c->user ? c->user : ct->cfg.user));
	json_object_object_add(req, "tty", json_object_new_boolean(c->tty));
	json_object_object_add(req, "stdin", json_object_new_boolean(c->interactive && !c->detach));
	if (c->detach)
		json_object_object_add(req, "detach", json_object_new_boolean(true));
	if (c->tty) {
		struct winsize ws;

		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
			json_object_object_add(req, "rows", json_object_new_int(ws.ws_row));
			json_object_object_add(req, "cols", json_object_new_int(ws.ws_col));
		}
	}
	return req;
}

int engine_exec(const struct paths *p, const char *ref, const struct exec_config *c, int *status,
		struct error *e)
{
	int fds[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO }, fd, ret;
	struct termios saved;
	struct container *ct;
	json_object *req;
	bool raw = false;

	*status = EXIT_VMM_ERROR;
	ret = engine_connect(p, ref, &ct, &fd, e);
	if (ret)
		return ret;
	req = exec_request(ct, c, e);
	container_free(ct);
	if (!req) {
		close(fd);
		return e ? e->code : -ENOMEM;
	}
	if (c->detach) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null < 0) {
			json_object_put(req);
			close(fd);
			return err_sys(e, -errno, "/dev/null");
		}
		fds[0] = fds[1] = fds[2] = null;
		ret = ctl_send(fd, req, fds, 3);
		json_object_put(req);
		close(null);
		ret = ret ? err_sys(e, ret, "the container's vmm process") : wait_started(fd, status, e);
		close(fd);
		return ret;
	}
	if (c->tty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios t = saved;

		cfmakeraw(&t);
		raw = tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0;
	}
	ret = ctl_send(fd, req, fds, 3);
	json_object_put(req);
	if (ret)
		err_sys(e, ret, "the container's vmm process");
	else
		ret = wait_exit(fd, c->tty, c->tty && c->size_fd > STDERR_FILENO ? c->size_fd : -1, status, e);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
	close(fd);
	return ret;
}
