/* The runner's control socket: stop, kill, exec, cp, top and stats from other vmm processes. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/json.h"
#include "vmm/engine/agent.h"
#include "vmm/base/strv.h"
#include "vmm/engine/container.h"
#include "vmm/engine/ctl.h"
#include "vmm/base/log.h"
#include "vmm/loop.h"
#include "vmm/engine/runner-internal.h"

#define CPU_PERIOD_US 100000

struct ctl_client {
	struct runner *r;
	int fd;
	struct ctl_reader rd;
	struct agent_proc *proc;	/* an exec started on this connection */
	bool detached;			/* exec -d: it outlives the connection */
	int io[3];			/* its stdio, ours to close */
	int xfer_fd;			/* a cp tar stream */
	int lan_slot;			/* a network joined, until the guest has its address; -1: none */
	struct ctl_client *next;
};

static unsigned count(char *const *v)
{
	unsigned n = 0;

	while (v && v[n])
		n++;
	return n;
}

void runner_spec(struct runner *r, struct proto_spec *s)
{
	const struct container_config *c = &r->ct->cfg;
	struct winsize ws;

	memset(s, 0, sizeof(*s));
	s->argv = c->argv;
	s->argc = count(c->argv);
	s->env = c->env;
	s->nenv = count(c->env);
	s->cwd = c->workdir;
	s->user = c->user;
	s->groups = c->groups;
	s->ngroups = count(c->groups);
	s->tty = c->tty;
	s->stdin = r->opts.attach && r->opts.interactive;
	s->read_only = c->read_only;
	s->init = c->init;
	s->ephemeral = c->auto_remove;	/* --rm: its disk is deleted right after */
	if (c->tty && r->opts.attach && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
		s->rows = ws.ws_row;
		s->cols = ws.ws_col;
	}
	s->memory_max = c->memory;
	s->pids_max = c->pids_limit > 0 ? c->pids_limit : 0;
	s->cpu_quota_us = c->cpu_quota;
	s->cpu_period_us = CPU_PERIOD_US;
	s->hostname = c->hostname;
	s->name = c->name;
	s->caps_set = c->caps_set;
	memcpy(s->caps, c->caps, sizeof(s->caps));
	s->rlimits = c->rlimits;
	s->nrlimits = count(c->rlimits);
	s->no_new_privs = c->no_new_privs;
	s->root = c->rootfs ? RUNNER_ROOT_TAG : "/dev/vda";
	s->root_fstype = c->rootfs ? "virtiofs" : "ext4";
}

void runner_spec_free(struct proto_spec *s)
{
	memset(s, 0, sizeof(*s));	/* everything was borrowed */
}

void runner_send_winsize(struct runner *r)
{
	struct winsize ws;

	if (r->main && r->ct->cfg.tty && r->opts.attach && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		agent_proc_resize(r->main, ws.ws_row, ws.ws_col);
}

static void reply(struct ctl_client *c, json_object *msg)
{
	ctl_send(c->fd, msg, NULL, 0);
	json_object_put(msg);
}

static void reply_error(struct ctl_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_error(struct ctl_client *c, const char *fmt, ...)
{
	json_object *o = json_object_new_object();
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "error", json_object_new_string(buf));
	reply(c, o);
}

static void reply_ok(struct ctl_client *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	reply(c, o);
}

static void close_io(struct ctl_client *c)
{
	for (int i = 0; i < 3; i++) {
		if (c->io[i] >= 0)
			close(c->io[i]);
		c->io[i] = -1;
	}
	if (c->xfer_fd >= 0)
		close(c->xfer_fd);
	c->xfer_fd = -1;
}

static void client_free(struct ctl_client *c)
{
	struct runner *r = c->r;

	for (struct ctl_client **p = &r->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	loop_remove(r->m->loop, c->fd);
	close(c->fd);
	close_io(c);
	ctl_reader_free(&c->rd);
	/* Its exec, cp or top goes on; nobody listens for the end (the agent must not call c). */
	if (r->agent)
		agent_forget(r->agent, c);
	free(c);
}

static void exec_started(void *opaque, int pid, int code, const char *message)
{
	struct ctl_client *c = opaque;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "event", json_object_new_string(code ? "exit" : "started"));
	if (code) {
		c->proc = NULL;
		json_object_object_add(o, "code", json_object_new_int(code));
		json_object_object_add(o, "error", json_object_new_string(message ? message : "cannot start"));
	} else {
		json_object_object_add(o, "pid", json_object_new_int(pid));
	}
	reply(c, o);
}

static void exec_exited(void *opaque, const struct proto_exit *e)
{
	struct ctl_client *c = opaque;
	json_object *o;

	if (!c->proc)
		return;		/* a start failure, already reported as the exit */
	o = json_object_new_object();
	c->proc = NULL;
	close_io(c);	/* all output was written before this callback */
	json_object_object_add(o, "event", json_object_new_string("exit"));
	json_object_object_add(o, "code", json_object_new_int(e->code));
	reply(c, o);
}

static const struct agent_proc_ops exec_ops = {
	.started = exec_started,
	.exited = exec_exited,
};

static void do_exec(struct ctl_client *c, json_object *req, int *fds, unsigned nfds)
{
	struct proto_spec s = { 0 };
	struct agent_stdio io;
	struct error e = { 0 };
	char **argv = NULL, **env = NULL;
	const char *cwd = NULL, *user = NULL;
	uint64_t rows = 0, cols = 0;
	bool present, tty = false, in = false, detach = false;
	int ret;

	if (nfds != 3 || c->proc) {
		reply_error(c, "exec needs stdin, stdout and stderr descriptors");
		goto out;
	}
	if (jget_strv(req, "argv", 4096, "exec", &argv, &e) || !argv || !argv[0] ||
	    jget_strv(req, "env", 4096, "exec", &env, &e) ||
	    jget_string(req, "cwd", false, "exec", &cwd, &e) ||
	    jget_string(req, "user", false, "exec", &user, &e) ||
	    jget_bool(req, "tty", "exec", &tty, &e) || jget_bool(req, "stdin", "exec", &in, &e) ||
	    jget_bool(req, "detach", "exec", &detach, &e) ||
	    jget_u64(req, "rows", false, 65535, "exec", &rows, &present, &e) ||
	    jget_u64(req, "cols", false, 65535, "exec", &cols, &present, &e)) {
		reply_error(c, "bad exec request: %s", e.msg[0] ? e.msg : "no command");
		goto out;
	}
	s.argv = argv;
	s.argc = count(argv);
	s.env = env;
	s.nenv = count(env);
	s.cwd = cwd;
	s.user = user;
	s.tty = tty;
	s.stdin = in;
	s.rows = rows;
	s.cols = cols;
	memcpy(c->io, fds, sizeof(c->io));
	nfds = 0;
	c->detached = detach;
	io = (struct agent_stdio){ .in = in ? c->io[0] : -1, .out = c->io[1], .err = tty ? c->io[1] : c->io[2] };
	ret = agent_exec(c->r->agent, &s, &io, &exec_ops, c, &c->proc);
	if (ret) {
		c->proc = NULL;
		close_io(c);
		reply_error(c, "exec failed: %s", strerror(-ret));
	}
out:
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	strv_free(argv);
	strv_free(env);
}

/* vmm attach: its input becomes the main process's stdin, held open by run -di. */
static void do_stdin(struct ctl_client *c, json_object *req, int *fds, unsigned nfds)
{
	struct runner *r = c->r;
	struct error e = { 0 };
	bool eof_closes = false;

	if (jget_bool(req, "close_at_eof", "stdin", &eof_closes, &e))
		reply_error(c, "bad stdin request: %s", e.msg);
	else if (nfds != 1)
		reply_error(c, "stdin needs one descriptor");
	else if (!r->main)
		reply_error(c, "the container's process is not running");
	else if (agent_proc_set_stdin(r->main, fds[0], eof_closes))
		reply_error(c, "the container's stdin is not open: create it with -i to attach stdin");
	else
		reply_ok(c);
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
}

static void xfer_done(void *opaque, int err, const char *message)
{
	struct ctl_client *c = opaque;

	close_io(c);
	if (err)
		reply_error(c, "%s", message ? message : strerror(err));
	else
		reply_ok(c);
}

static void do_copy(struct ctl_client *c, json_object *req, bool in, int *fds, unsigned nfds)
{
	struct error e = { 0 };
	const char *path = NULL;
	int ret;

	if (nfds != 1 || jget_string(req, "path", true, "cp", &path, &e)) {
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		reply_error(c, "bad cp request");
		return;
	}
	c->xfer_fd = fds[0];
	ret = in ? agent_copy_in(c->r->agent, path, c->xfer_fd, xfer_done, c)
		 : agent_copy_out(c->r->agent, path, c->xfer_fd, xfer_done, c);
	if (ret) {
		close_io(c);
		reply_error(c, "copy failed: %s", strerror(-ret));
	}
}

static void top_done(void *opaque, int err, const struct proto_proc *procs, unsigned n)
{
	struct ctl_client *c = opaque;
	json_object *o, *a;

	if (err) {
		reply_error(c, "top: %s", strerror(err));
		return;
	}
	o = json_object_new_object();
	a = json_object_new_array();
	for (unsigned i = 0; i < n; i++) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "pid", json_object_new_int(procs[i].pid));
		json_object_object_add(p, "user", json_object_new_string(procs[i].user ? procs[i].user : ""));
		json_object_object_add(p, "time_ms", json_object_new_int64(procs[i].time_ms));
		json_object_object_add(p, "cmd", json_object_new_string(procs[i].cmd ? procs[i].cmd : ""));
		json_object_array_add(a, p);
	}
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "procs", a);
	reply(c, o);
}

/* What this process sees of the container: its CPU time (vCPUs and devices) and device I/O. */
static json_object *host_stats(struct runner *r)
{
	json_object *o = json_object_new_object();
	struct machine_io_stats io;
	struct timespec cpu = { 0, 0 };

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	machine_io_stats(r->m, &io);
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_add_u64(o, "cpu_ns", cpu.tv_sec * 1000000000ULL + cpu.tv_nsec);
	json_add_u64(o, "uptime_ns", machine_uptime_ns(r->m));
	json_add_u64(o, "net_rx", io.net_rx);
	json_add_u64(o, "net_tx", io.net_tx);
	json_add_u64(o, "blk_read", io.blk_read);
	json_add_u64(o, "blk_write", io.blk_write);
	return o;
}

/* The guest's side joins the host's (none when the agent could not answer). */
static void stats_done(void *opaque, int err, const struct proto_stats *st)
{
	struct ctl_client *c = opaque;
	json_object *o = host_stats(c->r);

	if (!err && st) {
		json_add_u64(o, "guest_mem", st->mem);
		json_add_u64(o, "guest_mem_max", st->mem_max);
		json_add_u64(o, "pids", st->pids);
	}
	reply(c, o);
}

static void stop_expired(void *opaque, uint32_t events)
{
	struct runner *r = opaque;

	(void)events;
	if (r->main) {
		dev_info(r->ct->cfg.name, "did not stop in time: killing it");
		agent_proc_signal(r->main, SIGKILL);
		loop_timer_set(r->stop_timer_fd, 60000000000ULL, 0);	/* room to sync and unmount */
		r->main = NULL;	/* next expiry: the agent did not manage either */
		return;
	}
	runner_fail(r, 137, "the container did not stop: VM killed");
}

static void do_stop(struct ctl_client *c, json_object *req)
{
	struct runner *r = c->r;
	struct error e = { 0 };
	uint64_t timeout = 10;
	bool present;

	jget_u64(req, "timeout", false, 86400, "stop", &timeout, &present, &e);
	if (!r->main) {
		runner_fail(r, 137, "stopped before the container started");
		reply_ok(c);
		return;
	}
	agent_proc_signal(r->main, SIGTERM);
	if (r->stop_timer_fd < 0)
		r->stop_timer_fd = loop_add_timer(r->m->loop, 0, stop_expired, r);
	if (r->stop_timer_fd >= 0)
		loop_timer_set(r->stop_timer_fd, timeout ? timeout * 1000000000ULL : 1, 0);
	reply_ok(c);
}

/* vmm pause and unpause: the VM's vCPUs parked and let go, the state saved for ps. */
static void do_pause(struct ctl_client *c, bool pause)
{
	struct runner *r = c->r;
	int ret;

	if (!r->main) {
		reply_error(c, "container %s is not running", r->ct->cfg.name);
		return;
	}
	if (r->ct->state.paused == pause) {
		reply_error(c, pause ? "container %s is already paused" : "container %s is not paused",
			    r->ct->cfg.name);
		return;
	}
	if (pause && !machine_pause(r->m)) {
		reply_error(c, "container %s: its VM ended while pausing", r->ct->cfg.name);
		return;
	}
	if (!pause)
		machine_resume(r->m);
	r->ct->state.paused = pause;
	ret = container_save_state(r->ct);
	if (ret)
		dev_warn(r->ct->cfg.name, "cannot save its state: %s", strerror(-ret));
	reply_ok(c);
}

/* The guest set eth0's addresses (or could not: a network it joined is left again). */
static void net_done(void *opaque, int err, const char *message)
{
	struct ctl_client *c = opaque;

	if (err && c->lan_slot >= 0)
		runner_lan_leave_slot(c->r, c->lan_slot, NULL);
	c->lan_slot = -1;
	if (err)
		reply_error(c, "container %s: %s", c->r->ct->cfg.name, message ? message : strerror(err));
	else
		reply_ok(c);
}

/* vmm network connect and disconnect of a running container. */
static void do_network(struct ctl_client *c, json_object *req, bool join)
{
	struct runner *r = c->r;
	struct error e = { 0 };
	const char *network = NULL, *ip = NULL;
	char **aliases = NULL;
	int ret, slot = -1;

	if ((ret = jget_string(req, "network", true, "request", &network, &e)) ||
	    (ret = jget_string(req, "ip", false, "request", &ip, &e)) ||
	    (ret = jget_strv(req, "aliases", NETCFG_MAX_LIST, "request", &aliases, &e))) {
		reply_error(c, "%s", e.msg);
		return;
	}
	if (!r->main || r->ct->state.paused)
		ret = err_set(&e, -EBUSY, "container %s is %s", r->ct->cfg.name, r->main ? "paused" : "not running");
	else if (join)
		ret = runner_lan_connect(r, network, ip, aliases, &slot, &e);
	else
		ret = runner_lan_disconnect(r, network, &e);
	strv_free(aliases);
	if (ret) {
		reply_error(c, "%s", e.msg);
		return;
	}
	c->lan_slot = slot;
	if (agent_net_addrs(r->agent, runner_net_extra(r), net_done, c))
		net_done(c, ENOTCONN, "the agent is not connected");
}

/* docker stops and kills a paused container: it runs again to take the signal. */
static void unpause_for_signal(struct runner *r)
{
	if (!r->ct->state.paused)
		return;
	machine_resume(r->m);
	r->ct->state.paused = false;
	container_save_state(r->ct);
}

static void handle(struct ctl_client *c, json_object *req, int *fds, unsigned nfds)
{
	struct runner *r = c->r;
	struct error e = { 0 };
	const char *op = NULL;
	uint64_t v = 0, cols = 0;
	bool present;

	jget_string(req, "op", true, "request", &op, &e);
	if (!op)
		op = "";
	if (strcmp(op, "exec") && strcmp(op, "cp_in") && strcmp(op, "cp_out") && strcmp(op, "stdin"))
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
	if (r->ct->state.paused && (!strcmp(op, "exec") || !strcmp(op, "cp_in") ||
				    !strcmp(op, "cp_out") || !strcmp(op, "top"))) {
		const char *what = !strcmp(op, "top") ? "top" : !strcmp(op, "exec") ? "exec" : "cp";

		if (strcmp(what, "top"))	/* exec and cp brought their fds */
			for (unsigned i = 0; i < nfds; i++)
				close(fds[i]);
		reply_error(c, "container %s is paused, unpause the container before %s",
			    r->ct->cfg.name, what);
		return;
	}
	if (!strcmp(op, "pause") || !strcmp(op, "unpause")) {
		do_pause(c, !strcmp(op, "pause"));
	} else if (!strcmp(op, "exec")) {
		do_exec(c, req, fds, nfds);
	} else if (!strcmp(op, "net_connect") || !strcmp(op, "net_disconnect")) {
		do_network(c, req, !strcmp(op, "net_connect"));
	} else if (!strcmp(op, "cp_in") || !strcmp(op, "cp_out")) {
		do_copy(c, req, !strcmp(op, "cp_in"), fds, nfds);
	} else if (!strcmp(op, "stdin")) {
		do_stdin(c, req, fds, nfds);
	} else if (!strcmp(op, "top")) {
		if (agent_top(r->agent, top_done, c))
			reply_error(c, "top: the agent is not connected");
	} else if (!strcmp(op, "stats")) {
		/* A paused guest cannot answer: the host's side alone. */
		if (r->ct->state.paused || !r->main || agent_stats(r->agent, stats_done, c))
			reply(c, host_stats(r));
	} else if (!strcmp(op, "stop")) {
		unpause_for_signal(r);
		r->ct->state.manual_stop = true;	/* no --restart after it */
		do_stop(c, req);
	} else if (!strcmp(op, "start")) {	/* `vmm oci start` of a held (created) container */
		if (!r->held) {
			reply_error(c, "container %s is not waiting to start", r->ct->cfg.name);
			return;
		}
		runner_begin(r);
		reply_ok(c);
	} else if (!strcmp(op, "kill")) {
		unpause_for_signal(r);
		r->ct->state.manual_stop = true;
		jget_u64(req, "signal", true, 64, "kill", &v, &present, &e);
		if (v && r->held) {	/* created, not started: the process-to-be dies with its VM */
			reply_ok(c);
			r->status = 128 + (int)v;
			vm_end(r->m->vm, VM_END_HOST, 128 + (int)v, "killed before it started (signal %d)", (int)v);
		} else if (!v || !r->main)
			reply_error(c, !v ? "kill: bad signal" : "the container's process is not running");
		else if (agent_proc_signal(r->main, v))
			reply_error(c, "kill: the agent is not connected");
		else
			reply_ok(c);
	} else if (!strcmp(op, "winsize")) {	/* the main process's terminal (docker's container resize) */
		jget_u64(req, "rows", true, 65535, "winsize", &v, &present, &e);
		jget_u64(req, "cols", true, 65535, "winsize", &cols, &present, &e);
		if (err_is_set(&e))
			reply_error(c, "%s", e.msg);
		else if (!r->main)
			reply_error(c, "the container's process is not running");
		else if (agent_proc_resize(r->main, v, cols))
			reply_error(c, "resize: the agent is not connected");
		else
			reply_ok(c);
	} else if (!strcmp(op, "signal") || !strcmp(op, "resize")) {
		if (!c->proc) {
			reply_error(c, "no process on this connection");
		} else if (!strcmp(op, "signal")) {
			jget_u64(req, "signal", true, 64, "signal", &v, &present, &e);
			agent_proc_signal(c->proc, v);
		} else {
			jget_u64(req, "rows", true, 65535, "resize", &v, &present, &e);
			jget_u64(req, "cols", true, 65535, "resize", &cols, &present, &e);
			agent_proc_resize(c->proc, v, cols);
		}
	} else {
		reply_error(c, "unknown request '%s'", op);
	}
}

static void on_client(void *opaque, uint32_t events)
{
	struct ctl_client *c = opaque;
	json_object *msg;
	int fds[CTL_MAX_FDS], ret;
	unsigned nfds;

	(void)events;
	while ((ret = ctl_recv(c->fd, &c->rd, &msg, fds, &nfds)) == 1) {
		handle(c, msg, fds, nfds);
		json_object_put(msg);
	}
	if (ret < 0) {
		/* The client went away: an exec it started is ended with it (docker exec),
		 * unless it was started detached (exec -d). */
		if (c->proc && !c->detached)
			agent_proc_signal(c->proc, SIGKILL);
		client_free(c);
	}
}

static void on_accept(void *opaque, uint32_t events)
{
	struct runner *r = opaque;
	struct ctl_client *c;
	int fd = accept4(r->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	struct ucred cred;
	socklen_t len = sizeof(cred);

	(void)events;
	if (fd < 0)
		return;
	/* Only our own user (or root) drives this VM, whatever the socket's mode says. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != geteuid() && cred.uid != 0)) {
		dev_warn(r->ct->cfg.name, "refused a control connection from uid %d", len ? (int)cred.uid : -1);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->r = r;
	c->fd = fd;
	c->io[0] = c->io[1] = c->io[2] = c->xfer_fd = c->lan_slot = -1;
	if (loop_add(r->m->loop, fd, EPOLLIN, on_client, c)) {
		close(fd);
		free(c);
		return;
	}
	c->next = r->clients;
	r->clients = c;
}

int runner_ctl_start(struct runner *r, struct error *e)
{
	int ret = ctl_path(r->paths->runtime, r->ct->cfg.id, r->ctl_path, sizeof(r->ctl_path));

	r->stop_timer_fd = -1;
	if (!ret) {
		r->ctl_fd = ctl_listen(r->ctl_path);
		ret = r->ctl_fd < 0 ? r->ctl_fd : 0;
	}
	if (ret) {
		r->ctl_fd = -1;
		return err_set(e, ret, "control socket %s: %s (set VMM_RUNTIME to a shorter directory)",
			       r->ctl_path, strerror(-ret));
	}
	ret = loop_add(r->m->loop, r->ctl_fd, EPOLLIN, on_accept, r);
	return ret ? err_sys(e, ret, "control socket %s", r->ctl_path) : 0;
}

void runner_ctl_stop(struct runner *r)
{
	char dir[256], *slash;

	while (r->clients)
		client_free(r->clients);
	if (r->stop_timer_fd >= 0) {
		loop_remove(r->m->loop, r->stop_timer_fd);
		close(r->stop_timer_fd);
	}
	if (r->ctl_fd < 0)
		return;
	loop_remove(r->m->loop, r->ctl_fd);
	close(r->ctl_fd);
	unlink(r->ctl_path);
	snprintf(dir, sizeof(dir), "%s", r->ctl_path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		rmdir(dir);
	}
}
