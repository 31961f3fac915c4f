/*
 * The Engine API's exec resize on the host side (vmm/engine/client.c): engine_exec with a tty and
 * a --size-fd pipe, against a stand-in for the container's vmm on its real control socket. The
 * sizes written on the pipe reach the vmm as resize requests, the last whole line of a burst
 * counts, garbage and runts are skipped, and the exec's exit status comes back.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/engine/client.h"
#include "vmm/engine/container.h"
#include "vmm/engine/ctl.h"
#include "vmm/engine/paths.h"
#include "tests/unit/tap.h"

struct fake {
	int listen_fd, size_wr;
	char seen[256];		/* "exec" then each "resize R C" */
};

static void note(struct fake *f, const char *s)
{
	size_t n = strlen(f->seen);

	snprintf(f->seen + n, sizeof(f->seen) - n, "%s%s", n ? "|" : "", s);
}

/* The container's vmm: take the exec, then the sizes, then say the process exited 7. */
static void *fake_vmm(void *arg)
{
	struct fake *f = arg;
	struct ctl_reader rd = { 0 };
	int c = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC), fds[CTL_MAX_FDS], resizes = 0;
	unsigned nfds;
	json_object *msg;

	while (c >= 0 && resizes < 2 && ctl_recv(c, &rd, &msg, fds, &nfds) >= 0) {
		json_object *op, *r, *cl;
		char line[64];

		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		if (!json_object_object_get_ex(msg, "op", &op)) {
			json_object_put(msg);
			continue;
		}
		if (!strcmp(json_object_get_string(op), "exec")) {
			note(f, "exec");
			/* one burst: a runt, garbage, then two sizes; the last one counts */
			if (write(f->size_wr, "1\nxx yy\n10 20\n33 101\n", 22) != 22)
				note(f, "write failed");
		} else if (!strcmp(json_object_get_string(op), "resize") &&
			   json_object_object_get_ex(msg, "rows", &r) && json_object_object_get_ex(msg, "cols", &cl)) {
			snprintf(line, sizeof(line), "resize %d %d", json_object_get_int(r), json_object_get_int(cl));
			note(f, line);
			if (++resizes == 1 && write(f->size_wr, "40 120\n", 7) != 7)
				note(f, "write failed");
		}
		json_object_put(msg);
	}
	if (c >= 0) {
		json_object *exit = json_object_new_object();

		json_object_object_add(exit, "event", json_object_new_string("exit"));
		json_object_object_add(exit, "code", json_object_new_int(7));
		ctl_send(c, exit, NULL, 0);
		json_object_put(exit);
		close(c);
	}
	ctl_reader_free(&rd);
	return NULL;
}

int main(void)
{
	char dir[] = "/tmp/vmm-exec-resize.XXXXXX", root[300], runtime[300], sock[300];
	struct paths p = { root, runtime };
	char *argv[] = { (char *)"sh", NULL }, *cmd[] = { (char *)"true", NULL };
	struct container_config cfg = { .name = (char *)"tty", .image = (char *)"sha256:0", .argv = cmd };
	struct fake f = { .listen_fd = -1 };
	struct exec_config ec = { .argv = argv, .tty = true, .interactive = true };
	struct container *ct;
	struct error e = { 0 };
	int size[2], status = -1;
	pthread_t t;

	alarm(60);	/* a stand-in that never answers must fail the test, not hang the suite */
	if (!mkdtemp(dir))
		return 1;
	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(runtime, sizeof(runtime), "%s/run", dir);
	memset(cfg.id, 'a', CONTAINER_ID_LEN);
	if (container_create(root, &cfg, &ct, &e) || container_lock(ct) < 0) {
		ok(0, "a container record, running: %s", e.msg);
		return tap_done();
	}
	ct->state.status = CONTAINER_RUNNING;
	ct->state.pid = getpid();
	container_save_state(ct);
	if (ctl_path(runtime, ct->cfg.id, sock, sizeof(sock)) || (f.listen_fd = ctl_listen(sock)) < 0 ||
	    pipe(size) < 0) {
		ok(0, "a control socket and a pipe");
		return tap_done();
	}
	fcntl(f.listen_fd, F_SETFL, fcntl(f.listen_fd, F_GETFL) & ~O_NONBLOCK);	/* the stand-in waits in accept */
	/* the descriptor vmm exec --size-fd would have: above stderr */
	ec.size_fd = size[0];
	f.size_wr = size[1];
	pthread_create(&t, NULL, fake_vmm, &f);
	ok(engine_exec(&p, "tty", &ec, &status, &e) == 0 && status == 7, "engine_exec returns the exec's status (%d%s%s)",
	   status, e.msg[0] ? ": " : "", e.msg);
	pthread_join(t, NULL);
	ok(!strcmp(f.seen, "exec|resize 33 101|resize 40 120"),
	   "the last whole size of each burst reaches the vmm as a resize (%s)", f.seen);
	close(size[0]);
	close(size[1]);
	close(f.listen_fd);
	container_free(ct);
	remove_tree(AT_FDCWD, dir);
	return tap_done();
}
