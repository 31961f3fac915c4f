/* Run a vmm subcommand as its own process (spawn.h). */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/api/spawn.h"
#include "vmm/base/error.h"

extern char **environ;

/* The last line of what the child printed, without "vmm: error: ". */
static void last_line(char *buf, size_t n, char *out, size_t len)
{
	const char *prefix = "vmm: error: ", *line;
	char *nl;

	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	buf[n] = 0;
	line = (nl = strrchr(buf, '\n')) ? nl + 1 : buf;
	if (!strncmp(line, prefix, strlen(prefix)))
		line += strlen(prefix);
	n = strnlen(line, len - 1);
	memcpy(out, line, n);
	out[n] = 0;
}

int api_spawn(const struct api_ctx *ctx, char *const *args, const int fds[4], pid_t *pid, struct error *e)
{
	size_t n = 0;
	char **argv;
	posix_spawn_file_actions_t fa;
	int ret;

	while (args[n])
		n++;
	if (!(argv = calloc(n + 4, sizeof(*argv))))
		return err_set(e, -ENOMEM, "out of memory");
	argv[0] = "vmm";
	argv[1] = "--root";
	argv[2] = (char *)ctx->paths.root;
	memcpy(argv + 3, args, n * sizeof(*argv));
	posix_spawn_file_actions_init(&fa);
	for (int i = 0; i < 3; i++) {
		if (fds[i] >= 0)
			posix_spawn_file_actions_adddup2(&fa, fds[i], i);
		else
			posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i ? O_WRONLY : O_RDONLY, 0);
	}
	if (fds[3] >= 0)
		posix_spawn_file_actions_adddup2(&fa, fds[3], 3);
	ret = posix_spawn(pid, ctx->self_exe, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	return ret ? err_sys(e, -ret, "%s", ctx->self_exe) : 0;
}

int api_spawn_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int api_spawn_vmm(const struct api_ctx *ctx, const char *verb, const char *ref, struct error *e)
{
	char *args[] = { (char *)verb, (char *)ref, NULL };
	char out[4096], msg[ERR_MSG_MAX];
	size_t n = 0;
	int pipefd[2], ret;
	ssize_t r;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return err_sys(e, -errno, "pipe");
	ret = api_spawn(ctx, args, (int[4]){ -1, -1, pipefd[1], -1 }, &pid, e);
	close(pipefd[1]);
	if (ret) {
		close(pipefd[0]);
		return ret;
	}
	for (;;) {	/* read it all (the child must not block on a full pipe); keep the end */
		if (n == sizeof(out) - 1) {
			memmove(out, out + n / 2, n - n / 2);
			n -= n / 2;
		}
		r = read(pipefd[0], out + n, sizeof(out) - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
	}
	close(pipefd[0]);
	if (api_spawn_wait(pid) == 0)
		return 0;
	last_line(out, n, msg, sizeof(msg));
	return err_set(e, strstr(msg, "no such container") ? -ENOENT : -EIO, "%s %s: %s", verb, ref,
		       msg[0] ? msg : "vmm failed");
}
