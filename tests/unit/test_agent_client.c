/*
 * The host agent client (vmm/agent.c) against a scripted agent on the other
 * end of a socket pair: RUN, stdin flow control, stdout backpressure with
 * windows, start failures, exit after the output is flushed, cp-out, top.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest-agent/protocol.h"
#include "tests/unit/tap.h"
#include "vmm/engine/agent.h"
#include "vmm/loop.h"

static struct event_loop *loop;
static struct agent_client *client;
static int agent_fd;		/* the scripted agent's end */
static struct proto_rx arx;
static struct proto_buf aout;
static int readies, started_code = -1, started_pid, exited_code = -1;
static char started_msg[256];
static int done_err = -1;
static unsigned top_n;
static char top_cmd[64];

static void pump(void)
{
	for (int i = 0; i < 4; i++)
		loop_run_once(loop, 1);
}

/* The agent sends what it queued. */
static void agent_flush(void)
{
	while (proto_buf_pending(&aout)) {
		ssize_t n = send(agent_fd, proto_buf_head(&aout), proto_buf_pending(&aout), MSG_DONTWAIT);

		if (n <= 0) {
			pump();
			continue;
		}
		proto_buf_consume(&aout, n);
	}
	pump();
}

/* The next frame the host sent (copied), or type 0. */
static struct proto_frame next(uint8_t *copy, size_t cap)
{
	struct proto_frame f = { 0 };

	for (int tries = 0; tries < 10; tries++) {
		if (proto_rx_next(&arx, &f) == 1) {
			if (f.len <= cap)
				memcpy(copy, f.payload, f.len);
			f.payload = copy;
			return f;
		}
		if (proto_rx_read(&arx, agent_fd) <= 0)
			pump();
	}
	f.type = 0;
	return f;
}

static void on_ready(void *opaque, const struct proto_hello *h)
{
	readies++;
}

static const struct agent_client_ops ops = { .ready = on_ready };

static void on_started(void *opaque, int pid, int code, const char *msg)
{
	started_pid = pid;
	started_code = code;
	snprintf(started_msg, sizeof(started_msg), "%s", msg ? msg : "");
}

static void on_exited(void *opaque, const struct proto_exit *e)
{
	exited_code = e->code;
}

static const struct agent_proc_ops pops = { .started = on_started, .exited = on_exited };

static void on_done(void *opaque, int err, const char *msg)
{
	done_err = err;
}

static void on_top(void *opaque, int err, const struct proto_proc *p, unsigned n)
{
	top_n = n;
	if (n)
		snprintf(top_cmd, sizeof(top_cmd), "%s/%s", p[n - 1].user, p[n - 1].cmd);
}

static void test_run_and_flow(void)
{
	static uint8_t buf[PROTO_MAX_PAYLOAD], big[400000];
	char *argv[] = { "sh", "-c", "cat", NULL };
	struct proto_spec spec = { .argv = argv, .argc = 3 }, got;
	struct proto_hello h = { .version = PROTO_VERSION };
	int in[2], outp[2];
	struct agent_stdio io;
	struct agent_proc *p = NULL;
	struct proto_frame f;
	uint32_t stdin_bytes = 0, winsum = 0;
	uint16_t stream;
	ssize_t n;

	proto_hello_encode(&aout, &h);
	agent_flush();
	ok(readies == 1 && agent_client_connected(client), "HELLO: ready");
	f = next(buf, sizeof(buf));
	ok(f.type == PROTO_RESEED && f.stream == 0 && f.len == 64, "the guest RNG is seeded first");

	ok(pipe(in) == 0 && pipe(outp) == 0, "pipes");
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	io = (struct agent_stdio){ .in = in[0], .out = outp[1], .err = -1 };
	ok(agent_run(client, &spec, &io, &pops, NULL, &p) == 0, "agent_run");
	pump();
	f = next(buf, sizeof(buf));
	ok(f.type == PROTO_RUN && f.stream != 0, "RUN frame on stream %u", f.stream);
	stream = f.stream;
	ok(proto_spec_decode(f.payload, f.len, &got) == 0 && got.argc == 3 && !strcmp(got.argv[2], "cat") &&
	   got.stdin, "spec argv and stdin flag arrive");
	proto_spec_free(&got);
	ok(!(fcntl(in[0], F_GETFL) & O_NONBLOCK) && !(fcntl(outp[1], F_GETFL) & O_NONBLOCK),
	   "the caller's fds stay blocking");

	/* stdin: the host sends at most a window's worth without WINDOW frames. */
	memset(big, 'i', sizeof(big));
	for (int round = 0; round < 40; round++) {
		n = write(in[1], big, 16384);
		(void)n;
		pump();
		while ((f = next(buf, sizeof(buf))).type == PROTO_STDIN)
			stdin_bytes += f.len;
	}
	ok(stdin_bytes == PROTO_WINDOW_SIZE, "stdin stops at the window (%u bytes)", stdin_bytes);
	proto_u64_encode(&aout, PROTO_WINDOW, stream, TAG_INCREMENT, 100000);
	agent_flush();
	for (int round = 0; round < 20; round++) {
		n = write(in[1], big, 16384);
		(void)n;
		pump();
		while ((f = next(buf, sizeof(buf))).type == PROTO_STDIN)
			stdin_bytes += f.len;
	}
	ok(stdin_bytes == PROTO_WINDOW_SIZE + 100000, "WINDOW 100000 lets exactly that much more through (%u)",
	   stdin_bytes);
	close(in[1]);

	/* STARTED, then output the reader does not consume: no credit comes back. */
	{
		struct proto_started st = { .pid = 42 };

		proto_started_encode(&aout, stream, &st);
	}
	for (int i = 0; i < 8; i++)
		proto_put_frame(&aout, PROTO_STDOUT, stream, big, 32768);
	agent_flush();
	ok(started_pid == 42 && started_code == 0, "started callback with the pid");
	while ((f = next(buf, sizeof(buf))).type) {
		if (f.type == PROTO_WINDOW) {
			uint64_t v;

			proto_u64_decode(f.payload, f.len, TAG_INCREMENT, &v);
			winsum += v;
		}
	}
	ok(winsum <= 65536 + 16384, "output the fd did not take is not acknowledged (%u)", winsum);
	{
		struct proto_exit e = { .code = 3 };

		proto_exit_encode(&aout, stream, &e);
	}
	agent_flush();
	ok(exited_code == -1, "EXIT waits until the output is written out");
	/* Now read it all: the rest flows, credit comes back, then exited. */
	{
		size_t total = 0;

		fcntl(outp[0], F_SETFL, O_NONBLOCK);
		for (int i = 0; i < 200 && total < 8 * 32768; i++) {
			n = read(outp[0], big, sizeof(big));
			if (n > 0)
				total += n;
			pump();
		}
		ok(total == 8 * 32768, "all output arrives (%zu)", total);
	}
	while ((f = next(buf, sizeof(buf))).type) {
		if (f.type == PROTO_WINDOW) {
			uint64_t v;

			proto_u64_decode(f.payload, f.len, TAG_INCREMENT, &v);
			winsum += v;
		}
	}
	ok(exited_code == 3, "exited after the output, status 3");
	ok(winsum >= 8 * 32768 - PROTO_WINDOW_SIZE / 4 && winsum <= 8 * 32768,
	   "credit returned for what was written (%u)", winsum);
	close(in[0]);
	close(outp[0]);
	close(outp[1]);
}

static void test_start_failure(void)
{
	static uint8_t buf[65536];
	char *argv[] = { "nosuch", NULL };
	struct proto_spec spec = { .argv = argv, .argc = 1 };
	struct agent_stdio io = { .in = -1, .out = -1, .err = -1 };
	struct proto_started st = { .code = 127, .message = "exec: \"nosuch\": executable file not found in $PATH" };
	struct proto_exit e = { .code = 127 };
	struct agent_proc *p;
	struct proto_frame f;

	exited_code = -1;
	ok(agent_exec(client, &spec, &io, &pops, NULL, &p) == 0, "agent_exec");
	f = next(buf, sizeof(buf));
	ok(f.type == PROTO_EXEC, "EXEC frame");
	proto_started_encode(&aout, f.stream, &st);
	proto_exit_encode(&aout, f.stream, &e);
	agent_flush();
	ok(started_code == 127 && strstr(started_msg, "not found in $PATH"), "start failure: 127 and message");
	ok(exited_code == 127, "then exited 127");
}

/* run -di: stdin held open; attach sources come and go, StdinOnce's EOF closes it. */
static void test_held_stdin(void)
{
	static uint8_t buf[65536];
	char *argv[] = { "cat", NULL };
	struct proto_spec spec = { .argv = argv, .argc = 1 }, got;
	struct agent_stdio io = { .in = -1, .out = -1, .err = -1, .hold_in = true };
	struct agent_stdio plain = { .in = -1, .out = -1, .err = -1 };
	struct proto_exit e = { .code = 0 };
	struct agent_proc *p, *q;
	struct proto_frame f;
	int a[2], b[2];

	ok(agent_exec(client, &spec, &io, &pops, NULL, &p) == 0, "held stdin: agent_exec");
	f = next(buf, sizeof(buf));
	ok(f.type == PROTO_EXEC && proto_spec_decode(f.payload, f.len, &got) == 0 && got.stdin,
	   "held stdin: the process gets a stdin with no source yet");
	proto_spec_free(&got);
	ok(pipe(a) == 0 && pipe(b) == 0, "held stdin: pipes");
	ok(agent_proc_set_stdin(p, a[0], false) == 0, "held stdin: a first attach");
	close(a[0]);
	ok(write(a[1], "abc", 3) == 3, "held stdin: the first attach writes");
	close(a[1]);
	pump();
	f = next(buf, sizeof(buf));
	ok(f.type == PROTO_STDIN && f.len == 3 && !memcmp(f.payload, "abc", 3), "held stdin: its bytes arrive");
	f = next(buf, sizeof(buf));
	ok(f.type == 0, "held stdin: its EOF does not close the process's stdin (frame %u)", f.type);
	ok(agent_proc_set_stdin(p, b[0], true) == 0, "held stdin: a second attach, with StdinOnce");
	close(b[0]);
	ok(write(b[1], "de", 2) == 2, "held stdin: the second attach writes");
	close(b[1]);
	pump();
	f = next(buf, sizeof(buf));
	ok(f.type == PROTO_STDIN && f.len == 2 && !memcmp(f.payload, "de", 2), "held stdin: the second's bytes");
	f = next(buf, sizeof(buf));
	ok(f.type == PROTO_STDIN_EOF, "held stdin: with StdinOnce, the attach's EOF is the process's (%u)", f.type);
	ok(agent_proc_set_stdin(p, 0, false) == -EINVAL, "held stdin: after its EOF, no more attaches");
	proto_exit_encode(&aout, f.stream, &e);
	agent_flush();
	ok(agent_exec(client, &spec, &plain, &pops, NULL, &q) == 0 && agent_proc_set_stdin(q, 0, false) == -EINVAL,
	   "a process without held stdin takes no attach");
	f = next(buf, sizeof(buf));
	proto_exit_encode(&aout, f.stream, &e);
	agent_flush();
}

/* A listener that went away (agent_forget): its streams end without calling it. */
static void test_forget(void)
{
	static uint8_t buf[65536];
	static int listener;
	char *argv[] = { "sleep", "9", NULL };
	struct proto_spec spec = { .argv = argv, .argc = 2 };
	struct agent_stdio io = { .in = -1, .out = -1, .err = -1 };
	struct proto_started st = { .pid = 9 };
	struct proto_exit e = { .code = 0 };
	struct proto_result r = { .code = 0 };
	struct agent_proc *p;
	struct proto_frame fe, fc;

	exited_code = started_code = done_err = -1;
	ok(agent_exec(client, &spec, &io, &pops, &listener, &p) == 0, "forget: agent_exec");
	fe = next(buf, sizeof(buf));
	ok(agent_copy_in(client, "/tmp", -1, on_done, &listener) == 0, "forget: agent_copy_in");
	fc = next(buf, sizeof(buf));
	agent_forget(client, &listener);
	proto_started_encode(&aout, fe.stream, &st);
	proto_exit_encode(&aout, fe.stream, &e);
	proto_result_encode(&aout, fc.stream, &r);
	agent_flush();
	ok(started_code == -1 && exited_code == -1 && done_err == -1,
	   "forget: STARTED, EXIT and RESULT call nobody back");
}

static void test_copy_out_and_top(void)
{
	static uint8_t buf[65536];
	char path[] = "/tmp/vmm-test-cp-XXXXXX", got[64] = "";
	struct proto_proc procs[2] = {
		{ .pid = 1, .user = "root", .time_ms = 10, .cmd = "sh" },
		{ .pid = 7, .user = "alice", .time_ms = 0, .cmd = "sleep 9" },
	};
	struct proto_result r = { .code = 0 };
	struct proto_frame f;
	char pathbuf[256];
	int fd = mkstemp(path);

	ok(agent_copy_out(client, "/etc", fd, on_done, NULL) == 0, "agent_copy_out");
	f = next(buf, sizeof(buf));
	ok(f.type == PROTO_CP_OUT && proto_path_decode(f.payload, f.len, pathbuf, sizeof(pathbuf)) == 0 &&
	   !strcmp(pathbuf, "/etc"), "CP_OUT /etc");
	proto_put_frame(&aout, PROTO_TAR_DATA, f.stream, "tar-bytes", 9);
	proto_put_frame(&aout, PROTO_TAR_END, f.stream, NULL, 0);
	agent_flush();
	ok(done_err == 0, "cp-out done");
	ok(pread(fd, got, sizeof(got), 0) == 9 && !memcmp(got, "tar-bytes", 9), "archive bytes in the file");
	close(fd);
	unlink(path);

	done_err = -1;
	ok(agent_copy_out(client, "/nope", -1, on_done, NULL) == 0, "agent_copy_out of a missing path");
	f = next(buf, sizeof(buf));
	r = (struct proto_result){ .code = ENOENT, .message = "/nope: No such file or directory" };
	proto_result_encode(&aout, f.stream, &r);
	agent_flush();
	ok(done_err == ENOENT, "cp-out error comes back as ENOENT");

	ok(agent_top(client, on_top, NULL) == 0, "agent_top");
	f = next(buf, sizeof(buf));
	ok(f.type == PROTO_TOP, "TOP frame");
	proto_top_begin(&aout, f.stream);
	proto_top_add(&aout, &procs[0]);
	proto_top_add(&aout, &procs[1]);
	proto_top_end(&aout);
	agent_flush();
	ok(top_n == 2 && !strcmp(top_cmd, "alice/sleep 9"), "top rows (%u, %s)", top_n, top_cmd);
}

static void test_garbage(void)
{
	uint8_t hdr[8] = { 0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0 };

	if (write(agent_fd, hdr, 8) != 8)
		return;
	pump();
	ok(!agent_client_connected(client), "an oversized frame closes the connection");
}

int main(void)
{
	int sv[2];

	loop_create(&loop);
	proto_rx_init(&arx);
	proto_buf_init(&aout);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	agent_fd = sv[1];
	fcntl(agent_fd, F_SETFL, O_NONBLOCK);
	agent_client_create(loop, &ops, NULL, &client);
	ok(agent_client_attach(client, sv[0]) == 0, "attach");
	test_run_and_flow();
	test_start_failure();
	test_held_stdin();
	test_forget();
	test_copy_out_and_top();
	test_garbage();
	agent_client_destroy(client);
	loop_destroy(loop);
	close(agent_fd);
	proto_rx_free(&arx);
	proto_buf_free(&aout);
	return tap_done();
}
