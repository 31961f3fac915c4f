/*
 * RUN: the step's command in a micro-VM. The stage's state is an image; a
 * container of it (an overlay disk on its root disk) runs the command with the
 * stage's environment, working folder and user, the build's ARGs in its
 * environment. Its layer is the difference between the container's disk and
 * the image's, computed from the two ext4 filesystems. The container is
 * removed in every case, Ctrl-C included.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "images/oci/layer-writer.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/engine/build-internal.h"
#include "vmm/engine/container.h"
#include "vmm/engine/create.h"
#include "vmm/engine/export.h"
#include "vmm/engine/lifecycle.h"

extern char **environ;

static const char *config_string(struct stage *sg, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(image_draft_config(&sg->st.d), key, &v) ||
	    !json_object_is_type(v, json_type_string) || !*json_object_get_string(v))
		return NULL;
	return json_object_get_string(v);
}

/* The step's output, as it comes, to the build's (none when quiet). */
static ssize_t relay(struct builder *b, int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0 && b->out) {
		fwrite(buf, 1, (size_t)n, b->out);
		fflush(b->out);
	}
	return n;
}

/*
 * `vmm --root ROOT start -a ID`, a process of its own (posix_spawn: safe from
 * the API service's threads too), its output piped to the build's.
 */
static int spawn_start(struct builder *b, struct container *ct, int out, pid_t *pid)
{
	char *argv[] = { "vmm", "--root", (char *)b->p->root, "start", "-a", ct->cfg.id, NULL };
	posix_spawn_file_actions_t fa;
	int ret;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out, STDERR_FILENO);
	ret = posix_spawn(pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return ret ? err_sys(b->e, -ret, "RUN: starting the step's container") : 0;
}

/* Run the step's container; Ctrl-C (or SIGTERM, SIGHUP) stops it and the build. */
static int run_child(struct builder *b, struct container *ct, int *status)
{
	sigset_t set, old;
	int sfd, pfd, out[2], ret, ws = 0;
	bool open_out = true, done = false;
	pid_t pid;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pipe2(out, O_CLOEXEC) < 0)
		return err_sys(b->e, -errno, "RUN: a pipe");
	sigprocmask(SIG_BLOCK, &set, &old);
	ret = spawn_start(b, ct, out[1], &pid);
	close(out[1]);
	if (ret) {
		close(out[0]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return ret;
	}
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	/* until the child is gone (or, without a pidfd, its output ends) */
	while (!done) {
		struct pollfd p[3] = { { .fd = pfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN },
				       { .fd = open_out ? out[0] : -1, .events = POLLIN } };

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
			open_out = relay(b, out[0]) > 0;
		if ((p[1].revents & POLLIN) && !ret) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				ret = err_set(b->e, -EINTR, "interrupted (signal %u): the build stopped",
					      si.ssi_signo);
				kill(pid, SIGTERM);
			}
		}
		done = pfd >= 0 ? (p[0].revents & POLLIN) != 0 : !open_out;
	}
	/* what is left in the pipe once the child is gone (a process it left may hold it open) */
	while (open_out) {
		struct pollfd p = { .fd = out[0], .events = POLLIN };

		if (poll(&p, 1, 0) <= 0)
			break;
		open_out = relay(b, out[0]) > 0;
	}
	close(out[0]);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (sfd >= 0)
		close(sfd);
	if (pfd >= 0)
		close(pfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return ret;
}

/* The difference between the container's disk and its image's, as a layer blob. */
static int diff_layer(struct builder *b, struct container *ct, struct draft_layer *layer)
{
	int fd = open(b->tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600), ret;

	if (fd < 0)
		return err_sys(b->e, -errno, "RUN: a scratch file in %s", b->tmp);
	ret = engine_diff_tar(b->p, ct->cfg.id, 0, fd, b->e);
	if (!ret && lseek(fd, 0, SEEK_SET) < 0)
		ret = err_sys(b->e, -errno, "RUN: the layer");
	if (!ret)
		ret = layer_store_tar(b->s, fd, layer, b->e);
	close(fd);
	return ret;
}

int build_run(struct builder *b, struct stage *sg, const struct df_instr *in, char **argv,
	      const char *shown, struct draft_layer *layer)
{
	struct create_config cc = { .entrypoint = "", .cmd = argv, .env = sg->st.args };
	struct net_config net = { 0 };
	struct container *ct = NULL;
	char manifest[DIGEST_BUF], config[DIGEST_BUF], id[16];
	struct error rm = { 0 };
	int ret, status = 0;

	ret = netcfg_parse_mode(b->o->network && strcmp(b->o->network, "default") ? b->o->network : "slirp",
				&net, b->e);
	if (ret)
		return err_wrap(b->e, ret, "--network");
	if ((ret = build_stage_image(b, sg, manifest, config)))
		return ret;
	cc.image = config;
	cc.net = &net;
	cc.workdir = config_string(sg, "WorkingDir");
	cc.user = config_string(sg, "User");
	ret = engine_create(b->p, &cc, &ct, b->e);
	netcfg_free(&net);
	if (ret)
		return err_wrap(b->e, ret, "line %u: RUN", in->line);
	snprintf(id, sizeof(id), "%.12s", ct->cfg.id);
	build_say(b, " ---> Running in %s\n", id);
	ret = run_child(b, ct, &status);
	if (!ret && status) {
		*b->run_status = status;
		ret = err_set(b->e, -ECHILD, "The command '%s' returned a non-zero code: %d", shown,
			      status);
	}
	if (!ret)
		ret = diff_layer(b, ct, layer);
	if (engine_remove(b->p, ct->cfg.id, true, true, &rm))
		pr_warn("build: removing the intermediate container %s: %s", id, rm.msg);
	else
		build_say(b, "Removing intermediate container %s\n", id);
	container_free(ct);
	return ret;
}
