/*
 * vmm oci create: the container's vmm process boots its VM from the bundle
 * and holds the process until start. That process is the pid of --pid-file:
 * its exit status is the container's, which conmon and the containerd shim
 * (subreapers both) read when it ends. Its stdio is ours, the engine's
 * pipes, or the pty whose master went back over --console-socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"
#include "vmm/engine/lifecycle.h"
#include "vmm/engine/runner.h"
#include "vmm/oci/oci.h"

struct create_opts {
	const char *bundle, *pid_file, *console;
};

static int parse(struct oci_cli *o, int argc, char **argv, struct create_opts *c, const char **id)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "no-pivot", no_argument, NULL, 'n' },
		{ "no-new-keyring", no_argument, NULL, 'n' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+b:", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': c->bundle = optarg; break;
		case 'p': c->pid_file = optarg; break;
		case 'c': c->console = optarg; break;
		case 'n': break;	/* the guest's own root and keyring */
		case 'f':
			if (strcmp(optarg, "0"))
				return oci_fail(o, "--preserve-fds %.32s: a micro-VM cannot take host file descriptors; "
						"pass 0", optarg);
			break;
		default: return oci_fail(o, "create: %s: unknown option", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return oci_fail(o, "create: want one container ID (create [--bundle DIR] ID)");
	*id = argv[optind];
	if (!container_name_valid(*id))
		return oci_fail(o, "container ID %.128s: want [a-zA-Z0-9][a-zA-Z0-9_.-]+, up to 128", *id);
	return 0;
}

struct child {
	struct oci_cli *o;
	struct container *ct;
	int tty;		/* the pty's slave, or -1 */
};

/*
 * The child: a session of its own, stdio the engine's (or the pty), and the
 * VM. Its own messages go to the container's vmm.log: not into the
 * container's stderr, and not into --log, whose lines the engine parses in
 * the format it asked for (what keeps the VM from starting reaches --log
 * through create).
 */

static void run_child(void *arg, int ready)
{
	const struct child *c = arg;
	struct oci_cli *o = c->o;
	struct container *ct = c->ct;
	int tty = c->tty;
	struct runner_opts ro = { .attach = true, .interactive = true, .ready_fd = ready, .hold = true };
	char path[4096];
	int errfd, logfd;

	setsid();
	if (tty >= 0) {
		ioctl(tty, TIOCSCTTY, 0);	/* its window changes reach us as SIGWINCH */
		for (int fd = 0; fd < 3; fd++)
			dup2(tty, fd);
		if (tty > 2)
			close(tty);
	}
	errfd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	logfd = container_path(ct, "vmm.log", path, sizeof(path)) ? -1 :
		open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (errfd < 0 || logfd < 0)
		_exit(EXIT_VMM_ERROR);
	dup2(logfd, STDERR_FILENO);
	close(logfd);
	ro.out_fds[LOG_STDOUT] = STDOUT_FILENO;
	ro.out_fds[LOG_STDERR] = errfd;
	_exit(runner_run(&o->paths, ct, &ro));
}

/* Start the vmm process; once its VM is up, write --pid-file. 0, or -errno with e. */
static int spawn(struct oci_cli *o, struct container *ct, const struct create_opts *c, int tty, int *pid_out,
		 struct error *e)
{
	struct child c_arg = { o, ct, tty };
	pid_t pid;
	int ret;

	if (container_lock(ct))
		return err_set(e, -EBUSY, "container %s is already running", ct->cfg.name);
	if ((ret = engine_spawn(ct, run_child, &c_arg, &pid, e)))
		return ret;
	*pid_out = pid;
	ct->state.pid = pid;	/* what container_kill ends if a hook fails */
	return c->pid_file ? oci_pid_file(c->pid_file, pid, e) : 0;
}

int oci_create(struct oci_cli *o, int argc, char **argv)
{
	struct create_opts c = { .bundle = "." };
	struct container_config cfg;
	struct container *ct = NULL;
	struct oci_spec spec;
	struct error e = { 0 };
	char bundle[PATH_MAX];
	const char *id = NULL;
	json_object *state;
	int ret, tty = -1, pid = 0;

	if (parse(o, argc, argv, &c, &id))
		return 1;
	if (!realpath(c.bundle, bundle))
		return oci_fail(o, "bundle %s: %s", c.bundle, strerror(errno));
	if (oci_bundle_spec(bundle, &spec, &e))
		return oci_fail(o, "%s", e.msg);
	if (spec.terminal && !c.console) {
		oci_spec_free(&spec);
		return oci_fail(o, "process.terminal is set: its pty goes to --console-socket, which is missing");
	}
	ret = oci_bundle_config(bundle, &spec, &cfg, &e);
	if (!ret && (ret = container_new_id(cfg.id)))
		err_set(&e, ret, "a container ID: %s", strerror(-ret));
	if (!ret && !(cfg.name = strdup(id)))
		ret = err_set(&e, -ENOMEM, "out of memory");
	if (!ret && (ret = mkdir_p(AT_FDCWD, o->paths.root, 0700)))
		err_sys(&e, ret, "--root %s", o->paths.root);
	if (!ret && (ret = container_create(o->paths.root, &cfg, &ct, &e)) == -EEXIST)
		err_set(&e, ret, "container %s exists", id);
	container_config_free(&cfg);	/* the container has its copy */
	if (!ret && c.console && spec.terminal && (tty = oci_console(c.console, &e)) < 0)
		ret = tty;
	if (!ret)
		ret = spawn(o, ct, &c, tty, &pid, &e);
	if (tty >= 0)
		close(tty);
	/* createRuntime and prestart: the VM is up, the process not started (runtime-spec). */
	if (!ret) {
		state = oci_state_json(ct);
		for (int k = OCI_HOOK_PRESTART; !ret && k <= OCI_HOOK_CREATE_RUNTIME; k++)
			ret = oci_hooks_run(&spec, k, state, &e);
		json_object_put(state);
	}
	oci_spec_free(&spec);
	if (ret && ct) {
		if (pid > 0)
			container_kill(ct);
		oci_remove(o, ct);
	}
	container_free(ct);
	return ret ? oci_fail(o, "%s", e.msg) : 0;
}
