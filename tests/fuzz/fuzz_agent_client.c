/*
 * The host's end of the agent connection (vmm/engine/agent.c) against a
 * hostile guest agent: the input is the byte stream the agent sends, read by
 * the client from a socket on the event loop, in 4 KiB pieces. Before it
 * comes in, every kind of stream is open as `vmm run`, exec, cp, top, stats
 * and stop open them (ids 1 to 7), their outputs a pipe nobody drains, a
 * socket, a memfd, so frames reach queueing, flow control and every
 * callback. Checked: callbacks get terminated strings and their streams
 * once; ASan/UBSan and the leak check do the rest.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/base/log.h"
#include "vmm/engine/agent.h"
#include "vmm/loop.h"

#define PIECE	4096

struct run {
	unsigned done[8];	/* completions per stream kind; each at most once */
	struct agent_proc *proc;	/* the RUN stream, NULL once exited */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void once(struct run *r, unsigned k)
{
	if (++r->done[k] > 1)
		__builtin_trap();
}

static void ready(void *o, const struct proto_hello *h)
{
}

static void disconnected(void *o)
{
}

static void started(void *o, int pid, int code, const char *message)
{
	if (message)
		(void)strlen(message);
}

static void exited_run(void *o, const struct proto_exit *e)
{
	struct run *r = o;

	once(r, 0);
	r->proc = NULL;
}

static void exited_exec(void *o, const struct proto_exit *e)
{
	once(o, 1);
}

static void done_in(void *o, int err, const char *message)
{
	once(o, 2);
	if (message)
		(void)strlen(message);
}

static void done_out(void *o, int err, const char *message)
{
	once(o, 3);
	if (message)
		(void)strlen(message);
}

static void done_shutdown(void *o, int err, const char *message)
{
	once(o, 6);
}

static void top(void *o, int err, const struct proto_proc *procs, unsigned n)
{
	once(o, 4);
	for (unsigned i = 0; i < n; i++)
		if (strlen(procs[i].user) + strlen(procs[i].cmd) > PROTO_MAX_STRING * 2)
			__builtin_trap();
}

static void stats(void *o, int err, const struct proto_stats *s)
{
	once(o, 5);
}

static const struct agent_client_ops client_ops = { ready, disconnected };
static const struct agent_proc_ops run_ops = { started, exited_run };
static const struct agent_proc_ops exec_ops = { started, exited_exec };

/* What the client sends us: read and dropped, so it never blocks on a full socket. */
static void drain(int fd)
{
	char buf[16384];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_loop *loop;
	char *argv[] = { "sh", NULL }, *env[] = { NULL };
	struct proto_spec spec = { .argv = argv, .argc = 1, .env = env };
	int conn[2], sock[2], pipe_out[2], pipe_in[2], mem_in, mem_out;
	struct agent_stdio run_io, exec_io;
	struct agent_client *c;
	struct agent_proc *exec;
	struct run r = { { 0 } };
	size_t off = 0;

	if (!loop) {
		log_set_level(LOG_NONE);
		if (loop_create(&loop))
			abort();
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, conn) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) ||
	    pipe2(pipe_out, O_CLOEXEC) || pipe2(pipe_in, O_CLOEXEC) ||
	    (mem_in = memfd_create("in", MFD_CLOEXEC)) < 0 || (mem_out = memfd_create("out", MFD_CLOEXEC)) < 0 ||
	    write(mem_in, "tar bytes", 9) != 9 || lseek(mem_in, 0, SEEK_SET) ||
	    write(pipe_in[1], "stdin", 5) != 5 || agent_client_create(loop, &client_ops, NULL, &c) ||
	    agent_client_attach(c, conn[0]))
		abort();
	close(pipe_in[1]);
	run_io = (struct agent_stdio){ .in = pipe_in[0], .out = pipe_out[1], .err = pipe_out[1] };
	exec_io = (struct agent_stdio){ .in = -1, .out = sock[0], .err = -1, .hold_in = true };
	if (agent_run(c, &spec, &run_io, &run_ops, &r, &r.proc) ||
	    agent_exec(c, &spec, &exec_io, &exec_ops, &r, &exec) ||
	    agent_copy_in(c, "/in", mem_in, done_in, &r) || agent_copy_out(c, "/out", mem_out, done_out, &r) ||
	    agent_top(c, top, &r) || agent_stats(c, stats, &r) || agent_shutdown(c, done_shutdown, &r))
		abort();
	while (off < size) {
		size_t n = size - off < PIECE ? size - off : PIECE;
		ssize_t w = send(conn[1], data + off, n, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w <= 0)
			break;
		off += (size_t)w;
		loop_run_once(loop, 0);
		drain(conn[1]);
		if (r.proc && (data[off - 1] & 0x81) == 0x81)	/* the host's own frames in between */
			agent_proc_resize(r.proc, data[off - 1], 80);
	}
	shutdown(conn[1], SHUT_WR);
	for (int i = 0; i < 3; i++)	/* the rest, then the end of the stream */
		loop_run_once(loop, 0);
	agent_forget(c, &r);
	agent_client_destroy(c);
	close(conn[1]);
	close(sock[0]);
	close(sock[1]);
	close(pipe_out[0]);
	close(pipe_out[1]);
	close(pipe_in[0]);
	close(mem_in);
	close(mem_out);
	return 0;
}
