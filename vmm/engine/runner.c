#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/engine/agent.h"
#include "vmm/engine/container.h"
#include "vmm/engine/ctl.h"
#include "vmm/base/log.h"
#include "vmm/engine/logfile.h"
#include "vmm/loop.h"
#include "vmm/machine/machine.h"
#include "vmm/engine/runner.h"
#include "vmm/engine/runner-internal.h"
#include "vmm/machine/snapshot.h"
#include "vmm/kvm.h"
#include "vmm/base/util.h"

static int payload_path(const char *env, const char *rel, char *buf, size_t len)
{
	char exe[PATH_MAX];
	const char *v = getenv(env);
	ssize_t n;
	char *slash;

	if (v && *v)
		return (size_t)snprintf(buf, len, "%s", v) >= len ? -ENAMETOOLONG : 0;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	return (size_t)snprintf(buf, len, "%s/%s", exe, rel) >= len ? -ENAMETOOLONG : 0;
}

int runner_kernel_path(char *buf, size_t len)
{
	return payload_path("VMM_KERNEL", "vmlinux", buf, len);
}

int runner_initrd_path(char *buf, size_t len)
{
	return payload_path("VMM_AGENT_INITRD", "guest/agent.cpio", buf, len);
}

/* Tell a waiting `vmm run -d` parent how the start went, once. */
static void report_ready(struct runner *r, const char *error)
{
	if (r->opts.ready_fd < 0)
		return;
	if (error)
		dprintf(r->opts.ready_fd, "%s\n", error);
	else
		dprintf(r->opts.ready_fd, "ok\n");
	close(r->opts.ready_fd);
	r->opts.ready_fd = -1;
}

/* The VM did not get going: say why once (here, or through a waiting `run -d`). */
static void start_failed(struct runner *r, const struct error *e)
{
	snprintf(r->error, sizeof(r->error), "%s", e->msg);
	if (r->opts.ready_fd >= 0)
		report_ready(r, r->error);
	else
		err_print(e);
}

void runner_fail(struct runner *r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	r->status = status;
	report_ready(r, r->error);
	vm_end(r->m->vm, VM_END_EXIT_STATUS, status, "%s", r->error);
}

/*
 * Container output: to container.log always, to our own stdio when attached.
 * 1: data moved, 0: nothing to read now, -1: end of file or error.
 */
static int pump_output(struct runner *r, int fd, enum log_stream s)
{
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	logfile_write(&r->log, s, buf, n);
	if (r->opts.attach)
		write_full(r->opts.out_fds[s] > 0 ? r->opts.out_fds[s] : s == LOG_STDOUT ? STDOUT_FILENO : STDERR_FILENO,
			   buf, n);
	return 1;
}

static void close_output(struct runner *r, int s)
{
	loop_remove(r->m->loop, r->pipe_rd[s]);
	close(r->pipe_rd[s]);
	r->pipe_rd[s] = -1;
}

static void on_output(void *opaque, uint32_t events)
{
	struct runner *r = opaque;

	(void)events;
	for (int s = 0; s < 2; s++)
		if (r->pipe_rd[s] >= 0 && pump_output(r, r->pipe_rd[s], s) < 0)
			close_output(r, s);
}

/* Everything the container wrote is in the pipes by now: move it out. */
static void drain_output(struct runner *r)
{
	for (int s = 0; s < 2; s++) {
		int ret;

		if (r->pipe_rd[s] < 0)
			continue;
		while ((ret = pump_output(r, r->pipe_rd[s], s)) > 0)
			;
		if (ret < 0)
			close_output(r, s);
	}
	logfile_flush(&r->log);
}

/* --timeout: the VM stops with everything in it, and the run ends with timeout(1)'s 124. */
static void timed_out(void *opaque, uint32_t events)
{
	struct runner *r = opaque;

	(void)events;
	r->main = NULL;
	runner_fail(r, 124, "container %s: timed out after %.3g s: stopped", r->ct->cfg.name,
		    r->ct->cfg.timeout_ns / 1e9);
}

static void main_started(void *opaque, int pid, int code, const char *message)
{
	struct runner *r = opaque;

	if (code) {
		r->main = NULL;
		runner_fail(r, code, "%s", message ? message : "the container's process could not start");
		return;
	}
	r->main_pid = pid;
	r->main_started = true;
	dev_info(r->ct->cfg.name, "process started after %.3f s", machine_uptime_ns(r->m) / 1e9);
	report_ready(r, NULL);
	if (r->opts.attach && r->ct->cfg.tty)
		runner_send_winsize(r);
	if (r->ct->cfg.timeout_ns > 0 &&
	    (r->timeout_fd = loop_add_timer(r->m->loop, 0, timed_out, r)) >= 0)
		loop_timer_set(r->timeout_fd, r->ct->cfg.timeout_ns, 0);
}

static void main_exited(void *opaque, const struct proto_exit *e)
{
	struct runner *r = opaque;

	r->main = NULL;
	r->status = e->code;
	r->ct->state.oom_killed = e->oom;
	drain_output(r);
	dev_info(r->ct->cfg.name, "main process exited with %d after %.3f s", e->code,
		 machine_uptime_ns(r->m) / 1e9);
	vm_end(r->m->vm, VM_END_EXIT_STATUS, e->code, "container exited with %d", e->code);
}

static const struct agent_proc_ops main_ops = {
	.started = main_started,
	.exited = main_exited,
};

static void agent_ready(void *opaque, const struct proto_hello *hello)
{
	struct runner *r = opaque;

	dev_info(r->ct->cfg.name, "agent ready after %.3f s", machine_uptime_ns(r->m) / 1e9);
	if (r->run_sent || r->held)
		return;		/* a reconnect: the container is already there, or waits for start */
	if (r->snap_save) {
		struct error e = { 0 };

		/* Agent-ready and nothing container-specific sent yet: the point to save. */
		r->snap_save = false;
		if (snapshot_save(r->m, r->paths->root, r->snap_key, &e))
			pr_warn("could not save a snapshot for faster starts: %s", e.msg);
	}
	agent_time_sync(r->agent);	/* a restored guest's clock is the snapshot's */
	if (r->opts.hold) {	/* `vmm oci create`: booted; the process waits for start */
		r->held = true;
		report_ready(r, NULL);
		return;
	}
	runner_begin(r);
}

void runner_begin(struct runner *r)
{
	struct agent_stdio io = {
		.in = r->opts.attach && r->opts.interactive ? STDIN_FILENO : -1,
		.out = r->pipe_wr[LOG_STDOUT],
		.err = r->ct->cfg.tty ? r->pipe_wr[LOG_STDOUT] : r->pipe_wr[LOG_STDERR],
		/* -i without our stdin (run -di, start): open for vmm attach, as docker keeps it */
		.hold_in = r->ct->cfg.interactive && !(r->opts.attach && r->opts.interactive),
	};
	struct proto_spec spec;
	int ret;

	r->held = false;
	r->run_sent = true;
	if (r->opts.hold) {	/* created until now */
		r->ct->state.status = CONTAINER_RUNNING;
		r->ct->state.started_ns = realtime_ns();
		container_save_state(r->ct);
	}
	runner_spec(r, &spec);
	runner_net_spec(r, &spec);
	runner_mounts_spec(r, &spec);
	ret = agent_run(r->agent, &spec, &io, &main_ops, r, &r->main);
	runner_spec_free(&spec);
	if (ret)
		runner_fail(r, EXIT_VMM_ERROR, "cannot start the container: %s", strerror(-ret));
}

static void agent_gone(void *opaque)
{
	struct runner *r = opaque;

	dev_debug(r->ct->cfg.name, "agent connection lost");
}

static const struct agent_client_ops agent_ops = {
	.ready = agent_ready,
	.disconnected = agent_gone,
};

static void on_signal(void *opaque, int sig)
{
	struct runner *r = opaque;

	if (sig == SIGWINCH) {
		runner_send_winsize(r);
		return;
	}
	r->ct->state.manual_stop = true;	/* signalled from the host: no --restart after it */
	/* Like docker's --sig-proxy: the container gets it; a second one ends the VM. */
	if (r->main && !r->signalled) {
		r->signalled = true;
		agent_proc_signal(r->main, sig);
		return;
	}
	r->status = 128 + sig;
	vm_end(r->m->vm, VM_END_HOST, 128 + sig, "stopped by signal %d", sig);
}

static int open_pipes(struct runner *r)
{
	for (int s = 0; s < 2; s++) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		r->pipe_rd[s] = p[0];
		r->pipe_wr[s] = p[1];
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		if (loop_add(r->m->loop, p[0], EPOLLIN, on_output, r))
			return -EIO;
	}
	return 0;
}

/* The agent connected (again): serve it. */
static void agent_accept(void *opaque, int fd, uint32_t guest_port)
{
	struct runner *r = opaque;

	dev_debug(r->ct->cfg.name, "guest agent connected from port %u", guest_port);
	agent_client_attach(r->agent, fd);
}

/* The agent's listener and the VM's output; the network's ports. */
static int attach(struct runner *r, struct error *e)
{
	int ret = agent_client_create(r->m->loop, &agent_ops, r, &r->agent);

	if (ret)
		return err_sys(e, ret, "agent client");
	ret = machine_vsock_listen(r->m, PROTO_PORT, agent_accept, r);
	if (ret)
		return err_sys(e, ret, "agent: cannot listen on vsock port %d", PROTO_PORT);
	ret = runner_net_publish(r, e);
	if (!ret && (ret = open_pipes(r)))
		err_sys(e, ret, "output pipes");
	if (!ret)
		ret = runner_ctl_start(r, e);
	return ret;
}

static void teardown(struct runner *r)
{
	if (r->timeout_fd >= 0) {
		loop_remove(r->m->loop, r->timeout_fd);
		close(r->timeout_fd);
		r->timeout_fd = -1;
	}
	if (r->m)
		machine_vsock_unlisten(r->m, PROTO_PORT);
	agent_client_destroy(r->agent);
	runner_net_free(r);
	machine_destroy(r->m);	/* its devices too: disks flushed, published ports released */
	runner_mounts_free(r);	/* after the daemons removed their sockets */
	r->agent = NULL;
	r->m = NULL;
}

/*
 * Create the machine and its devices, then restore the snapshot or boot. A
 * snapshot that cannot be restored is dropped and we boot from scratch.
 */
static int start_vm(struct runner *r, struct machine_config *mc, bool restore, struct error *e)
{
	struct error why = { 0 };
	char mem[4300];
	int ret;

	if (restore) {
		snapshot_dir(r->paths->root, r->snap_key, mem, sizeof(mem));
		strcat(mem, "/memory");
		mc->mem_file = mem;
	}
	ret = machine_create(mc, &r->m, e);
	mc->mem_file = NULL;
	if (!ret)
		ret = attach(r, e);
	if (ret)
		return ret;
	if (!restore)
		return machine_boot(r->m, e);
	ret = snapshot_restore(r->m, r->paths->root, r->snap_key, &why);
	if (!ret) {
		dev_info(r->ct->cfg.name, "restored snapshot %.12s", r->snap_key);
		machine_vsock_reset(r->m);	/* the agent reconnects: a fresh connection */
		return 0;
	}
	pr_warn("%s", why.msg);
	pr_warn("snapshot %.12s unusable: booting from scratch", r->snap_key);
	snapshot_remove(r->paths->root, r->snap_key);
	runner_ctl_stop(r);
	for (int s = 0; s < 2; s++) {
		close(r->pipe_rd[s]);
		close(r->pipe_wr[s]);
		r->pipe_rd[s] = r->pipe_wr[s] = -1;
	}
	teardown(r);
	r->snap_save = true;
	return start_vm(r, mc, false, e);
}

/* Warm start: pick the snapshot of this VM shape, or plan to save one. */
static bool plan_snapshot(struct runner *r, const struct machine_config *mc)
{
	struct error why = { 0 };

	/* Debugging runs with their own kernel parameters never make or use snapshots. */
	if (getenv("VMM_NO_SNAPSHOT") || mc->user_cmdline || snapshot_key(mc, r->snap_key))
		return false;
	if (!r->opts.cold && snapshot_usable(r->paths->root, r->snap_key, &why))
		return true;
	if (err_is_set(&why))
		pr_warn("%s", why.msg);
	r->snap_save = true;
	return false;
}

/* The container's VM: its root disk (or none: an OCI bundle's root folder), the agent's vsock, an RNG and eth0 (unless --network none). */
static void describe_machine(struct runner *r, struct machine_config *mc)
{
	const struct container *ct = r->ct;

	snprintf(r->disk_dir, sizeof(r->disk_dir), "%s/disks", r->paths->root);
	container_path(ct, "disk.qcow2", r->disk_path, sizeof(r->disk_path));
	r->trusted[0] = r->disk_dir;
	r->trusted[1] = NULL;
	r->disk = (struct machine_disk_config){
		.path = r->disk_path, .format = DISK_FMT_QCOW2, .read_only = ct->cfg.read_only,
		.serial = "vmm-root", .trusted_dirs = r->trusted,
	};
	r->vsock_cfg = (struct machine_vsock_config){ .guest_cid = 0 };
	mc->disks = &r->disk;
	mc->ndisks = ct->cfg.rootfs ? 0 : 1;	/* a bundle's root is a shared folder (runner-mounts.c) */
	mc->vsock = &r->vsock_cfg;
	mc->rng = true;
	mc->net = runner_net_config(r);
}

static void set_raw(struct runner *r)
{
	struct termios t;

	if (!r->opts.attach || !r->ct->cfg.tty || !isatty(STDIN_FILENO) ||
	    tcgetattr(STDIN_FILENO, &r->saved_tio) < 0)
		return;
	t = r->saved_tio;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0)
		r->tty_raw = true;
}

static void finish_state(struct runner *r)
{
	struct container *ct = r->ct;

	/* A process that never started leaves the container as it was: created (or exited, a restart's). */
	ct->state.status = r->main_started || ct->state.restart_count ? CONTAINER_EXITED : CONTAINER_CREATED;
	ct->state.exit_code = r->status & 0xff;
	ct->state.pid = 0;
	ct->state.paused = false;
	ct->state.nports = 0;	/* published only while it runs */
	ct->state.finished_ns = realtime_ns();
	snprintf(ct->state.error, sizeof(ct->state.error), "%.255s", r->error);
	container_save_state(ct);
}

static int run_vm(const struct paths *paths, struct container *ct, const struct runner_opts *opts,
		  pid_t supervisor)
{
	char kernel[4096], initrd[4096], console[4096], log[4096];
	struct machine_config mc = {
		.name = ct->cfg.name, .kernel = kernel, .initrd = initrd,
		.mem_size = ct->cfg.vm_memory, .ncpus = ct->cfg.vcpus, .quirks = QUIRKS_AUTO,
		.on_signal = on_signal,
		.user_cmdline = getenv("VMM_GUEST_CMDLINE"),	/* debugging: e.g. vmm_agent.debug */
	};
	struct runner r = {
		.paths = paths, .ct = ct, .opts = *opts, .status = EXIT_VMM_ERROR,
		.pipe_rd = { -1, -1 }, .pipe_wr = { -1, -1 }, .ctl_fd = -1, .timeout_fd = -1,
	};
	struct error e = { 0 };
	int ret, status;

	mc.signal_opaque = &r;
	mc.signals_from = supervisor;
	if (confine_mode(&r.confine, &e)) {
		start_failed(&r, &e);
		return EXIT_VMM_ERROR;
	}
	if (r.confine != CONFINE_OFF) {
		mc.confine = runner_confine;
		mc.confine_opaque = &r;
	}
	if (runner_kernel_path(kernel, sizeof(kernel)) || runner_initrd_path(initrd, sizeof(initrd)) ||
	    container_path(ct, "console.log", console, sizeof(console)) ||
	    container_path(ct, "container.log", log, sizeof(log))) {
		err_set(&e, -ENAMETOOLONG, "path too long");
		start_failed(&r, &e);
		return EXIT_VMM_ERROR;
	}
	if (machine_validate(&mc, &e)) {
		err_wrap(&e, e.code, "cannot boot (build the guest with `make kernel`)");
		start_failed(&r, &e);
		return EXIT_VMM_ERROR;
	}
	if (runner_netns_enter(&r, &e) || runner_net_join(&r, &e)) {
		start_failed(&r, &e);
		return EXIT_VMM_ERROR;
	}
	mc.console_fd = open(console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	mc.console_max = RUNNER_CONSOLE_MAX;	/* a guest kernel that floods it cannot fill the disk */
	logfile_open(&r.log, log, ct->cfg.log.max_size, ct->cfg.log.max_file);
	describe_machine(&r, &mc);
	if (runner_mounts_config(&r, &mc, &e)) {
		start_failed(&r, &e);
		status = EXIT_VMM_ERROR;
		goto out;
	}

	ct->state = (struct container_state){
		.status = opts->hold ? CONTAINER_CREATED : CONTAINER_RUNNING,
		.pid = supervisor ? supervisor : getpid(),	/* what vmm stop and kill signal */
		.started_ns = opts->hold ? 0 : realtime_ns(),
		.restart_count = ct->state.restart_count,
	};
	runner_net_state(&r);
	ret = container_save_state(ct);
	if (ret)
		err_sys(&e, ret, "container %.12s: cannot save its state", ct->cfg.id);
	if (!ret)
		ret = start_vm(&r, &mc, plan_snapshot(&r, &mc), &e);
	if (!ret && (ret = container_save_state(ct)))	/* with the host ports bound */
		err_sys(&e, ret, "container %.12s: cannot save its state", ct->cfg.id);
	if (ret) {
		start_failed(&r, &e);
		status = EXIT_VMM_ERROR;
		goto out;
	}
	set_raw(&r);
	machine_wait(r.m);
	if (r.tty_raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &r.saved_tio);
	drain_output(&r);

	/* The VM may also have ended without the container's say: crash, panic, kill. */
	if (vm_end_reason(r.m->vm) != VM_END_EXIT_STATUS) {
		int ms = machine_report(r.m);

		if (vm_end_reason(r.m->vm) == VM_END_HOST)
			r.status = ms;
		else if (!r.error[0])
			snprintf(r.error, sizeof(r.error), "the container's VM stopped: %.400s", r.m->vm->end_detail);
		if (vm_end_reason(r.m->vm) != VM_END_HOST)
			r.status = EXIT_VMM_ERROR;
		report_ready(&r, r.error);
	} else if (r.error[0] && r.opts.attach) {
		pr_err("%s", r.error);
	}
	status = r.status;
out:
	finish_state(&r);
	if (r.m)
		runner_ctl_stop(&r);
	teardown(&r);
	for (int s = 0; s < 2; s++) {
		if (r.pipe_rd[s] >= 0)
			close(r.pipe_rd[s]);
		if (r.pipe_wr[s] >= 0)
			close(r.pipe_wr[s]);
	}
	logfile_close(&r.log);
	if (mc.console_fd >= 0)
		close(mc.console_fd);
	runner_net_leave(&r);
	return status;
}

int runner_run(const struct paths *paths, struct container *ct, const struct runner_opts *opts)
{
	enum confine_mode mode;
	struct error e = { 0 };

	/* `vmm oci create`'s process is the one the engine watches, and has nothing to do after */
	if (opts->hold || confine_mode(&mode, &e) || mode == CONFINE_OFF)
		return run_vm(paths, ct, opts, 0);
	return runner_supervised(paths, ct, opts, run_vm);
}
