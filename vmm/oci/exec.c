/*
 * vmm oci exec: another process in the running container's guest, with our
 * stdio (or a pty over --console-socket). --detach: a child of ours runs it
 * and is the pid of --pid-file, whose exit status is the process's, as
 * conmon and the containerd shim expect.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/client.h"
#include "vmm/engine/container.h"
#include "vmm/oci/oci.h"

struct exec_opts {
	const char *process, *pid_file, *console, *cwd, *user;
	char **env;
	bool detach, tty;
};

static int parse(struct oci_cli *o, int argc, char **argv, struct exec_opts *x)
{
	static const struct option opts[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "tty", no_argument, NULL, 't' },
		{ "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		/* the guest is the boundary: labels and profiles of the host do not apply in it */
		{ "process-label", required_argument, NULL, 'i' },
		{ "apparmor", required_argument, NULL, 'i' },
		{ "no-new-privs", no_argument, NULL, 'i' },
		{ "ignore-paused", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+p:dtw:e:u:", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': x->process = optarg; break;
		case 'd': x->detach = true; break;
		case 'P': x->pid_file = optarg; break;
		case 'c': x->console = optarg; break;
		case 't': x->tty = true; break;
		case 'w': x->cwd = optarg; break;
		case 'u': x->user = optarg; break;
		case 'i': break;
		case 'e':
			if (strv_push(&x->env, optarg))
				return oci_fail(o, "out of memory");
			break;
		case 'f':
			if (strcmp(optarg, "0"))
				return oci_fail(o, "--preserve-fds %.32s: a micro-VM cannot take host file descriptors; "
						"pass 0", optarg);
			break;
		default: return oci_fail(o, "exec: %s: unknown option", argv[optind - 1]);
		}
	}
	if (optind >= argc || (!x->process && optind + 1 >= argc))
		return oci_fail(o, "exec: want a container ID and a command, or --process FILE (exec ID [--process F | ARGS])");
	return 0;
}

/* Run it: in this process, or (detached) in a child whose pid goes to --pid-file. */
static int run(struct oci_cli *o, const char *eid, const struct exec_config *c, const struct exec_opts *x, int tty,
	       struct error *e)
{
	int status = 0, ret;
	pid_t pid;

	if (!x->detach && tty < 0) {
		ret = engine_exec(&o->paths, eid, c, &status, e);
		return ret ? ret : status;
	}
	pid = x->detach ? fork() : 0;
	if (pid < 0)
		return err_sys(e, -errno, "fork");
	if (pid == 0) {
		if (x->detach)
			setsid();
		if (tty >= 0) {
			ioctl(tty, TIOCSCTTY, 0);
			for (int fd = 0; fd < 3; fd++)
				dup2(tty, fd);
		}
		ret = engine_exec(&o->paths, eid, c, &status, e);
		if (!x->detach)
			return ret ? ret : status;
		_exit(ret ? oci_fail(o, "%s", e->msg), EXIT_VMM_ERROR : status);	/* said in --log too */
	}
	return x->pid_file ? oci_pid_file(x->pid_file, pid, e) : 0;
}

int oci_exec(struct oci_cli *o, int argc, char **argv)
{
	struct exec_opts x = { 0 };
	struct exec_config c = { .interactive = true, .size_fd = -1 };
	struct container *ct = NULL;
	struct oci_spec proc = { 0 };
	struct error e = { 0 };
	char eid[CONTAINER_ID_LEN + 1], user[32], *buf = NULL;
	int ret, tty = -1;
	size_t len;

	if (parse(o, argc, argv, &x)) {
		strv_free(x.env);
		return 1;
	}
	ret = oci_open(o, argv[optind], &ct, &e);
	if (!ret && !container_is_running(ct))
		ret = err_set(&e, -ESRCH, "container %s is not running", argv[optind]);
	if (!ret)
		snprintf(eid, sizeof(eid), "%s", ct->cfg.id);
	container_free(ct);
	if (!ret && x.process && (ret = read_file(AT_FDCWD, x.process, OCI_SPEC_MAX, &buf, &len)))
		err_sys(&e, ret, "--process %s", x.process);
	if (!ret && x.process && !(ret = oci_process_parse(buf, len, &proc, &e))) {
		snprintf(user, sizeof(user), "%u:%u", proc.uid, proc.gid);
		c = (struct exec_config){ .argv = proc.args, .env = proc.env, .workdir = proc.cwd, .user = user,
					  .tty = proc.terminal, .interactive = true, .size_fd = -1 };
	} else if (!ret && !x.process) {
		c.argv = argv + optind + 1;
		c.env = x.env;
		c.workdir = x.cwd;
		c.user = x.user;
		c.tty = x.tty;
	}
	free(buf);
	if (!ret && c.tty && !x.console)
		ret = err_set(&e, -EINVAL, "exec: a terminal was asked for: its pty goes to --console-socket, which is missing");
	if (!ret && c.tty && (tty = oci_console(x.console, &e)) < 0)
		ret = tty;
	if (!ret)
		ret = run(o, eid, &c, &x, tty, &e);
	if (tty >= 0)
		close(tty);
	oci_spec_free(&proc);
	strv_free(x.env);
	return ret < 0 ? oci_fail(o, "%s", e.msg) : ret;
}
