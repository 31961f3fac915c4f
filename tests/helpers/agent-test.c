/*
 * agent-test (a test helper, build/tests/agent-test; tests/integration/40-agent.sh):
 * boot a guest with virtio-vsock and the agent initramfs and run one container
 * process through the real host client (vmm/engine/agent.c), then a list of
 * actions (exec, top, cp, signal). Links libvmm.a; not part of the vmm binary.
 * -D first turns on debug logging, as vmm -D does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/agent.h"
#include "vmm/cli/options.h"
#include "vmm/base/log.h"
#include "vmm/loop.h"
#include "vmm/machine/machine.h"
#include "vmm/base/util.h"

#define MAX_ACTIONS	32
#define MAX_ENV		64

enum action_kind { ACT_EXEC, ACT_EXEC_RAW, ACT_TOP, ACT_CP_OUT, ACT_CP_IN, ACT_SIGNAL, ACT_SLEEP, ACT_RESET, ACT_SHUTDOWN };

struct action {
	enum action_kind kind;
	const char *arg;	/* exec: shell command; cp: PATH; signal: name */
	const char *file;	/* cp: host file */
	int fd;
};

struct test {
	struct machine *m;
	struct agent_client *client;
	struct proto_spec spec;
	char *env[MAX_ENV + 1];
	char *groups[16];
	bool stdin_fwd;
	bool timing;
	bool started;
	bool resetting;		/* waiting for HELLO after a transport reset */
	struct agent_proc *main;
	struct action actions[MAX_ACTIONS];
	unsigned nactions, next;
	int exec_no;
	uint64_t t_hello, t_started, t_output, guest_hello_ns;
	int out_pipe, out_read;	/* --timing: stdout through us, to see the first byte */
	int timer_fd;
};

static void usage(void)
{
	printf("Usage: agent-test [-D] --kernel VMLINUX --initrd AGENT.cpio [OPTIONS] -- CMD [ARG...]\n\n"
	       "Boot a guest with the vmm agent and run CMD in a container through the agent\n"
	       "protocol (a test aid until `vmm run`); exits with CMD's status.\n\n"
	       "VM: --kernel, --initrd, -m/--memory, --cpus, --cmdline, --console FILE,\n"
	       "    --host-quirks, --vsock PATH (also expose the unix socket front end)\n"
	       "Container: --root SPEC (/dev/vda, dir:/path, tmpfs; default dir:/rootfs),\n"
	       "    --fstype T, -e K=V, -w DIR, -u USER[:GROUP], --group-add G, --hostname H,\n"
	       "    --memory-limit SIZE, --pids-limit N, --cpu-quota USEC, --read-only, -i, -t\n"
	       "Actions after the process started, in order:\n"
	       "    --exec CMD          run `sh -c CMD` in the container, print its exit status\n"
	       "    --exec-raw WORDS    the same without a shell (argv split at spaces)\n"
	       "    --top               print the container's processes\n"
	       "    --cp-out PATH:FILE  archive PATH of the container into the tar FILE\n"
	       "    --cp-in FILE:PATH   extract the tar FILE into the directory PATH\n"
	       "    --sleep MS          wait\n"
	       "    --transport-reset   reset the vsock transport; go on when the agent is back\n"
	       "    --shutdown          ask the agent to kill the container and unmount\n"
	       "    --signal SIG        send SIG (name or number) to the process\n"
	       "  --timing              print when HELLO, STARTED, the first output and EXIT came\n");
}

static double ms(struct test *t)
{
	return machine_uptime_ns(t->m) / 1e6;
}

static void next_action(struct test *t);

static void exec_started(void *opaque, int pid, int code, const char *msg)
{
	struct test *t = opaque;

	if (code)
		fprintf(stderr, "agent-test: exec %d failed: %s\n", t->exec_no, msg ? msg : "?");
}

static void exec_exited(void *opaque, const struct proto_exit *e)
{
	struct test *t = opaque;

	fprintf(stderr, "agent-test: exec %d exit %d\n", t->exec_no, e->code);
	fflush(stderr);
	next_action(t);
}

static const struct agent_proc_ops exec_ops = { .started = exec_started, .exited = exec_exited };

static void top_done(void *opaque, int err, const struct proto_proc *p, unsigned n)
{
	struct test *t = opaque;

	if (err)
		fprintf(stderr, "agent-test: top: %s\n", strerror(err));
	printf("%-8s %-10s %-10s %s\n", "PID", "USER", "TIME", "COMMAND");
	for (unsigned i = 0; i < n; i++)
		printf("%-8d %-10s %02llu:%02llu:%02llu %s\n", p[i].pid, p[i].user,
		       (unsigned long long)(p[i].time_ms / 3600000), (unsigned long long)(p[i].time_ms / 60000 % 60),
		       (unsigned long long)(p[i].time_ms / 1000 % 60), p[i].cmd);
	fflush(stdout);
	next_action(t);
}

static void cp_done(void *opaque, int err, const char *msg)
{
	struct test *t = opaque;
	struct action *a = &t->actions[t->next - 1];

	fprintf(stderr, "agent-test: %s %s: %s\n", a->kind == ACT_CP_IN ? "cp-in" : "cp-out", a->arg,
		err ? (msg ? msg : strerror(err)) : "ok");
	close(a->fd);
	next_action(t);
}

static void shutdown_done(void *opaque, int err, const char *msg)
{
	fprintf(stderr, "agent-test: shutdown: %s\n", err ? (msg ? msg : strerror(err)) : "ok");
}

static void on_sleep(void *opaque, uint32_t events)
{
	struct test *t = opaque;

	loop_remove(t->m->loop, t->timer_fd);
	close(t->timer_fd);
	t->timer_fd = -1;
	next_action(t);
}

static void next_action(struct test *t)
{
	struct action *a;
	int ret = 0;

	if (t->next >= t->nactions)
		return;
	a = &t->actions[t->next++];
	switch (a->kind) {
	case ACT_EXEC:
	case ACT_EXEC_RAW: {
		char *argv[16] = { "sh", "-c", (char *)a->arg, NULL }, *words = NULL, *save = NULL;
		unsigned argc = 3;
		struct proto_spec s = {
			.argv = argv, .env = t->spec.env, .nenv = t->spec.nenv,
			.user = t->spec.user, .cwd = t->spec.cwd,
		};

		if (a->kind == ACT_EXEC_RAW) {	/* words, no shell: the agent's own exec errors */
			words = strdup(a->arg);
			argc = 0;
			for (char *w = strtok_r(words, " ", &save); w && argc < 15; w = strtok_r(NULL, " ", &save))
				argv[argc++] = w;
			argv[argc] = NULL;
		}
		s.argc = argc;
		struct agent_stdio io = { .in = -1, .out = STDOUT_FILENO, .err = STDERR_FILENO };
		struct agent_proc *p;

		t->exec_no++;
		ret = agent_exec(t->client, &s, &io, &exec_ops, t, &p);	/* encodes the spec now */
		free(words);
		break;
	}
	case ACT_TOP:
		ret = agent_top(t->client, top_done, t);
		break;
	case ACT_CP_OUT:
	case ACT_CP_IN:
		a->fd = a->kind == ACT_CP_IN ? open(a->file, O_RDONLY | O_CLOEXEC) :
			open(a->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (a->fd < 0) {
			pr_err("%s: %s", a->file, strerror(errno));
			ret = -errno;
			break;
		}
		ret = a->kind == ACT_CP_IN ? agent_copy_in(t->client, a->arg, a->fd, cp_done, t) :
			agent_copy_out(t->client, a->arg, a->fd, cp_done, t);
		break;
	case ACT_SIGNAL:
		ret = agent_proc_signal(t->main, parse_signal(a->arg));
		next_action(t);
		break;
	case ACT_SHUTDOWN:
		ret = agent_shutdown(t->client, shutdown_done, t);
		break;
	case ACT_RESET:
		/* The guest drops its connections; the agent reconnects and says HELLO. */
		t->resetting = true;
		machine_vsock_reset(t->m);
		break;
	case ACT_SLEEP: {
		uint64_t v = 0;

		parse_uint(a->arg, 0, 600000, &v);
		t->timer_fd = loop_add_timer(t->m->loop, 0, on_sleep, t);
		if (t->timer_fd >= 0)
			loop_timer_set(t->timer_fd, v * 1000000 + 1, 0);
		break;
	}
	}
	if (ret)
		pr_err("agent-test: action %u: %s", t->next, strerror(-ret));
}

static void main_started(void *opaque, int pid, int code, const char *msg)
{
	struct test *t = opaque;

	t->t_started = machine_uptime_ns(t->m);
	if (code) {
		pr_err("%s", msg ? msg : "the container did not start");
		return;
	}
	t->started = true;
	next_action(t);
}

static void main_exited(void *opaque, const struct proto_exit *e)
{
	struct test *t = opaque;

	if (t->timing)
		fprintf(stderr, "agent-test: timing: exit %.0f ms\n", ms(t));
	if (e->oom)
		fprintf(stderr, "agent-test: killed by the memory limit (OOM)\n");
	/* The agent synced and unmounted: we end the VM (docs/agent.md). */
	vm_end(t->m->vm, VM_END_EXIT_STATUS, e->code, "container exited with status %d", e->code);
}

static const struct agent_proc_ops main_ops = { .started = main_started, .exited = main_exited };

static void on_ready(void *opaque, const struct proto_hello *h)
{
	struct test *t = opaque;
	struct agent_stdio io = { .in = t->stdin_fwd ? STDIN_FILENO : -1,
				  .out = t->out_pipe >= 0 ? t->out_pipe : STDOUT_FILENO, .err = STDERR_FILENO };
	int ret;

	if (t->main) {		/* a reconnect: the process runs on */
		if (t->resetting) {
			fprintf(stderr, "agent-test: agent reconnected after the transport reset\n");
			t->resetting = false;
			next_action(t);
		}
		return;
	}
	t->t_hello = machine_uptime_ns(t->m);
	t->guest_hello_ns = h->uptime_ns;
	ret = agent_run(t->client, &t->spec, &io, &main_ops, t, &t->main);
	if (ret)
		vm_end(t->m->vm, VM_END_ERROR, 0, "agent: cannot start the process: %s", strerror(-ret));
}

static const struct agent_client_ops client_ops = { .ready = on_ready };

/* --timing: stdout passes through us so the first byte can be timed. */
static void on_output(void *opaque, uint32_t events)
{
	struct test *t = opaque;
	char buf[65536];
	ssize_t n = read(t->out_read, buf, sizeof(buf));

	if (n <= 0) {
		loop_remove(t->m->loop, t->out_read);
		return;
	}
	if (!t->t_output) {
		t->t_output = machine_uptime_ns(t->m);
		fprintf(stderr, "agent-test: timing: first output %.0f ms\n", t->t_output / 1e6);
	}
	if (write_full(STDOUT_FILENO, buf, n))
		pr_debug("stdout: %s", strerror(errno));
}

static void on_agent(void *opaque, int fd, uint32_t guest_port)
{
	struct test *t = opaque;

	agent_client_attach(t->client, fd);
}

static int add_action(struct test *t, enum action_kind kind, const char *arg)
{
	struct action *a;
	char *colon;

	if (t->nactions == MAX_ACTIONS)
		return -1;
	a = &t->actions[t->nactions++];
	a->kind = kind;
	a->arg = arg;
	a->fd = -1;
	if (kind == ACT_CP_OUT || kind == ACT_CP_IN) {
		colon = strchr(arg, ':');
		if (!colon)
			return -1;
		*colon = 0;
		if (kind == ACT_CP_OUT) {
			a->arg = arg;
			a->file = colon + 1;
		} else {
			a->file = arg;
			a->arg = colon + 1;
		}
	}
	if (kind == ACT_SIGNAL && !parse_signal(arg))
		return -1;
	return 0;
}

static int agent_test(int argc, char **argv)
{
	enum { OPT_VSOCK = 256,
	       OPT_ROOT, OPT_FSTYPE, OPT_GROUP, OPT_HOSTNAME, OPT_MEMLIM, OPT_PIDS, OPT_CPUQ, OPT_RO,
	       OPT_EXEC, OPT_EXEC_RAW, OPT_TOP, OPT_CPOUT, OPT_CPIN, OPT_SIGNAL, OPT_SLEEP, OPT_RESET, OPT_SHUTDOWN, OPT_TIMING };
	static const struct option opts[] = {
		OPT_VM_LONG_OPTIONS,
		{ "vsock", required_argument, NULL, OPT_VSOCK },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "fstype", required_argument, NULL, OPT_FSTYPE },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "group-add", required_argument, NULL, OPT_GROUP },
		{ "hostname", required_argument, NULL, OPT_HOSTNAME },
		{ "memory-limit", required_argument, NULL, OPT_MEMLIM },
		{ "pids-limit", required_argument, NULL, OPT_PIDS },
		{ "cpu-quota", required_argument, NULL, OPT_CPUQ },
		{ "read-only", no_argument, NULL, OPT_RO },
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "exec", required_argument, NULL, OPT_EXEC },
		{ "exec-raw", required_argument, NULL, OPT_EXEC_RAW },
		{ "top", no_argument, NULL, OPT_TOP },
		{ "cp-out", required_argument, NULL, OPT_CPOUT },
		{ "cp-in", required_argument, NULL, OPT_CPIN },
		{ "signal", required_argument, NULL, OPT_SIGNAL },
		{ "sleep", required_argument, NULL, OPT_SLEEP },
		{ "transport-reset", no_argument, NULL, OPT_RESET },
		{ "shutdown", no_argument, NULL, OPT_SHUTDOWN },
		{ "timing", no_argument, NULL, OPT_TIMING },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct machine_config cfg = {
		.name = "agent-test", .mem_size = 128 * MiB, .ncpus = 1, .quirks = QUIRKS_AUTO,
		.console_fd = -1, .console_input = false,
	};
	struct machine_vsock_config vcfg = { .guest_cid = 0 };
	struct error e = { 0 };
	struct test *t = calloc(1, sizeof(*t));
	const char *console_path = NULL;
	char cmdline[512] = "";
	uint64_t v;
	int c, ret, status;

	if (!t)
		return EXIT_VMM_ERROR;
	t->spec.root = "dir:/rootfs";
	t->spec.env = t->env;
	t->spec.groups = t->groups;
	t->out_pipe = -1;
	t->timer_fd = -1;
	while ((c = getopt_long(argc, argv, "+m:e:w:u:ith", opts, NULL)) != -1) {
		switch (opt_vm("agent-test", c, optarg, &cfg, &console_path)) {
		case 1:
			continue;
		case EXIT_VMM_ERROR:
			return 2;
		}
		switch (c) {
		case OPT_VSOCK: vcfg.uds_path = optarg; break;
		case OPT_ROOT: t->spec.root = optarg; break;
		case OPT_FSTYPE: t->spec.root_fstype = optarg; break;
		case 'e':
			if (t->spec.nenv == MAX_ENV)
				return cli_usage_error("agent-test", "too many -e");
			t->env[t->spec.nenv++] = optarg;
			break;
		case 'w': t->spec.cwd = optarg; break;
		case 'u': t->spec.user = optarg; break;
		case OPT_GROUP:
			if (t->spec.ngroups == ARRAY_SIZE(t->groups))
				return cli_usage_error("agent-test", "too many --group-add");
			t->groups[t->spec.ngroups++] = optarg;
			break;
		case OPT_HOSTNAME: t->spec.hostname = optarg; break;
		case OPT_MEMLIM:
			if (parse_size(optarg, 1, &t->spec.memory_max))
				return cli_usage_error("agent-test", "--memory-limit %s: not a size", optarg);
			break;
		case OPT_PIDS:
			if (parse_uint(optarg, 1, 1 << 22, &t->spec.pids_max))
				return cli_usage_error("agent-test", "--pids-limit %s: not a number", optarg);
			break;
		case OPT_CPUQ:
			if (parse_uint(optarg, 1000, 1000000, &v))
				return cli_usage_error("agent-test", "--cpu-quota %s: 1000 to 1000000 us", optarg);
			t->spec.cpu_quota_us = v;
			t->spec.cpu_period_us = 100000;
			break;
		case OPT_RO: t->spec.read_only = true; break;
		case 'i': t->stdin_fwd = true; break;
		case 't': t->spec.tty = true; break;
		case OPT_EXEC: ret = add_action(t, ACT_EXEC, optarg); goto act;
		case OPT_EXEC_RAW: ret = add_action(t, ACT_EXEC_RAW, optarg); goto act;
		case OPT_TOP: ret = add_action(t, ACT_TOP, NULL); goto act;
		case OPT_CPOUT: ret = add_action(t, ACT_CP_OUT, optarg); goto act;
		case OPT_CPIN: ret = add_action(t, ACT_CP_IN, optarg); goto act;
		case OPT_SIGNAL: ret = add_action(t, ACT_SIGNAL, optarg); goto act;
		case OPT_SLEEP: ret = add_action(t, ACT_SLEEP, optarg); goto act;
		case OPT_RESET: ret = add_action(t, ACT_RESET, NULL); goto act;
		case OPT_SHUTDOWN: ret = add_action(t, ACT_SHUTDOWN, NULL); goto act;
		case OPT_TIMING: t->timing = true; break;
		case 'h':
			usage();
			return 0;
		default:
			return cli_bad_option("agent-test", argv);
		}
		continue;
act:
		if (ret)
			return cli_usage_error("agent-test", "bad action argument '%s' (or too many actions)",
					       optarg ? optarg : "");
	}
	if (optind >= argc)
		return cli_usage_error("agent-test", "no command given (-- CMD [ARG...])");
	t->spec.argv = argv + optind;
	t->spec.argc = argc - optind;
	t->spec.hostname = t->spec.hostname ? t->spec.hostname : "vmm-test";
	if (!cfg.kernel || !cfg.initrd)
		return cli_usage_error("agent-test", "--kernel and --initrd are required");
	if (log_get_level() >= LOG_DEBUG)
		snprintf(cmdline, sizeof(cmdline), "%s " PROTO_CMDLINE_DEBUG, cfg.user_cmdline ? cfg.user_cmdline : "");
	if (*cmdline)
		cfg.user_cmdline = cmdline;
	if (machine_validate(&cfg, &e)) {
		err_print(&e);
		return EXIT_VMM_ERROR;
	}
	if (console_path) {
		cfg.console_fd = open(console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (cfg.console_fd < 0) {
			pr_err("--console %s: %s", console_path, strerror(errno));
			return EXIT_VMM_ERROR;
		}
	}
	cfg.vsock = &vcfg;
	ret = machine_create(&cfg, &t->m, &e);
	if (!ret && (ret = agent_client_create(t->m->loop, &client_ops, t, &t->client)))
		err_sys(&e, ret, "agent client");
	if (!ret && (ret = machine_vsock_listen(t->m, PROTO_PORT, on_agent, t)))
		err_sys(&e, ret, "agent: cannot listen on vsock port %d", PROTO_PORT);
	if (!ret)
		ret = machine_boot(t->m, &e);
	if (ret) {
		err_print(&e);
		if (t->m)
			machine_vsock_unlisten(t->m, PROTO_PORT);
		agent_client_destroy(t->client);
		machine_destroy(t->m);
		return EXIT_VMM_ERROR;
	}
	if (t->timing) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) == 0) {
			t->out_read = p[0];
			t->out_pipe = p[1];
			fcntl(p[0], F_SETFL, O_NONBLOCK);
			loop_add(t->m->loop, p[0], EPOLLIN, on_output, t);
		}
	}
	machine_wait(t->m);
	status = machine_report(t->m);
	if (t->timing)
		fprintf(stderr, "agent-test: timing: hello %.0f ms (guest uptime %.0f ms), started %.0f ms\n",
			t->t_hello / 1e6, t->guest_hello_ns / 1e6, t->t_started / 1e6);
	machine_vsock_unlisten(t->m, PROTO_PORT);
	agent_client_destroy(t->client);
	if (t->out_pipe >= 0) {
		/* What is still in the pipe belongs on stdout. */
		char buf[65536];
		ssize_t n;

		close(t->out_pipe);
		while ((n = read(t->out_read, buf, sizeof(buf))) > 0)
			if (write_full(STDOUT_FILENO, buf, n))
				break;
		loop_remove(t->m->loop, t->out_read);
		close(t->out_read);
	}
	machine_destroy(t->m);
	if (console_path)
		close(cfg.console_fd);
	free(t);
	return status;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "-D")) {
		log_set_level(LOG_DEBUG);
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	return agent_test(argc, argv);
}
