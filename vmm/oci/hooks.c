/*
 * The bundle's hooks, run on the host as the runtime spec says: the path
 * with its args and env, the container's state as JSON on stdin, killed
 * after its timeout. A hook that fails fails the verb (prestart,
 * createRuntime) or is reported and passed over (poststart, poststop), as
 * runc does.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/oci/oci.h"

/* One hook: 0, or -errno with e. */
static int run_one(const struct oci_hook *h, const char *kind, const char *state, struct error *e)
{
	char *const none[] = { (char *)h->path, NULL };
	int64_t end = h->timeout ? monotonic_ns() + (int64_t)h->timeout * 1000000000 : 0;
	int in[2], status;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return err_sys(e, -errno, "hook %s", h->path);
	pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return err_sys(e, -errno, "hook %s", h->path);
	}
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		execve(h->path, h->args ? h->args : none, h->env ? h->env : (char *[]){ NULL });
		_exit(127);
	}
	close(in[0]);
	signal(SIGPIPE, SIG_IGN);
	write_full(in[1], state, strlen(state));
	close(in[1]);
	for (;;) {
		pid_t w = waitpid(pid, &status, end ? WNOHANG : 0);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return err_sys(e, -errno, "%s hook %s", kind, h->path);
		if (end && monotonic_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return err_set(e, -ETIMEDOUT, "%s hook %s: still running after %u s: killed", kind, h->path,
				       h->timeout);
		}
		if (end)
			nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return err_set(e, -EIO, "%s hook %s: exit status %d", kind, h->path, WEXITSTATUS(status));
	return err_set(e, -EIO, "%s hook %s: killed by signal %d", kind, h->path, WTERMSIG(status));
}

int oci_hooks_run(const struct oci_spec *s, enum oci_hook_kind k, json_object *state, struct error *e)
{
	const char *text = json_object_to_json_string_ext(state, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);

	for (size_t i = 0; i < s->nhooks[k]; i++) {
		int ret = run_one(&s->hooks[k][i], oci_hook_name(k), text, e);

		if (ret)
			return ret;
	}
	return 0;
}
