/*
 * vmm cp FILE CTR:/name on the host side (vmm/engine/copy.c), against a stand-in for the
 * container's vmm on its real control socket. docker cp's rules try "into the folder /name"
 * first; the stand-in refuses that at once, closing the tar's pipe while the host still writes
 * it (a file larger than a pipe holds), then takes the second reading ("the name /name in /").
 * The copy must end well, in a child whose death by SIGPIPE would show.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"
#include "vmm/engine/copy.h"
#include "vmm/engine/ctl.h"
#include "vmm/engine/paths.h"
#include "tests/unit/tap.h"

#define BIG	(1 << 20)	/* far more than a pipe holds */

struct fake {
	int listen_fd;
	char seen[256];		/* each request's path, and what the second one read */
};

static void reply(int c, const char *error)
{
	json_object *o = json_object_new_object();

	if (error)
		json_object_object_add(o, "error", json_object_new_string(error));
	ctl_send(c, o, NULL, 0);
	json_object_put(o);
}

/* The container's vmm: one connection, two cp_in requests. */
static void *fake_vmm(void *arg)
{
	struct fake *f = arg;
	struct ctl_reader rd = { 0 };
	int c = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC), fds[CTL_MAX_FDS];
	unsigned nfds, n = 0;
	json_object *msg, *path;

	while (c >= 0 && n < 2 && ctl_recv(c, &rd, &msg, fds, &nfds) >= 0) {
		size_t len = strlen(f->seen);

		if (!json_object_object_get_ex(msg, "path", &path) || nfds != 1) {
			json_object_put(msg);
			continue;
		}
		snprintf(f->seen + len, sizeof(f->seen) - len, "%s%s", len ? "|" : "", json_object_get_string(path));
		if (n++ == 0) {
			close(fds[0]);	/* at once, before the host is done writing */
			reply(c, "/big is not a directory");
		} else {
			char buf[65536];
			ssize_t r;
			size_t total = 0;

			while ((r = read(fds[0], buf, sizeof(buf))) > 0)
				total += (size_t)r;
			close(fds[0]);
			len = strlen(f->seen);
			snprintf(f->seen + len, sizeof(f->seen) - len, "|%s", total > BIG ? "tar read" : "tar short");
			reply(c, NULL);
		}
		json_object_put(msg);
	}
	if (c >= 0)
		close(c);
	ctl_reader_free(&rd);
	return NULL;
}

int main(void)
{
	char dir[] = "/tmp/vmm-cp-refused.XXXXXX", root[300], runtime[300], sock[300], src[300];
	struct paths p = { root, runtime };
	char *cmd[] = { (char *)"true", NULL };
	struct container_config cfg = { .name = (char *)"box", .image = (char *)"sha256:0", .argv = cmd };
	struct fake f = { .listen_fd = -1 };
	struct container *ct;
	struct error e = { 0 };
	char *data = calloc(1, BIG);
	int status = -1;
	pthread_t t;
	pid_t pid;

	alarm(60);	/* a stand-in that never answers must fail the test, not hang the suite */
	if (!data || !mkdtemp(dir))
		return 1;
	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(runtime, sizeof(runtime), "%s/run", dir);
	snprintf(src, sizeof(src), "%s/big", dir);
	memset(cfg.id, 'b', CONTAINER_ID_LEN);
	if (write_file_atomic(AT_FDCWD, src, data, BIG, 0644) || container_create(root, &cfg, &ct, &e) ||
	    container_lock(ct) < 0) {
		ok(0, "a source file and a container record, running: %s", e.msg);
		return tap_done();
	}
	ct->state.status = CONTAINER_RUNNING;
	ct->state.pid = getpid();
	container_save_state(ct);
	if (ctl_path(runtime, ct->cfg.id, sock, sizeof(sock)) || (f.listen_fd = ctl_listen(sock)) < 0) {
		ok(0, "a control socket");
		return tap_done();
	}
	fcntl(f.listen_fd, F_SETFL, fcntl(f.listen_fd, F_GETFL) & ~O_NONBLOCK);	/* the stand-in waits in accept */
	pid = fork();
	if (pid == 0) {
		close(f.listen_fd);
		_exit(engine_copy(&p, "box", true, src, "/big", false, &e) == 0 ? 0 : 3);
	}
	pthread_create(&t, NULL, fake_vmm, &f);
	pthread_join(t, NULL);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the copy ends well (%s %d)",
	   WIFSIGNALED(status) ? "killed by signal" : "exit", WIFSIGNALED(status) ? WTERMSIG(status) :
	   WEXITSTATUS(status));
	ok(!strcmp(f.seen, "/big|/|tar read"), "first into the folder /big, then as the name big in / (%s)", f.seen);
	close(f.listen_fd);
	container_free(ct);
	remove_tree(AT_FDCWD, dir);
	free(data);
	return tap_done();
}
