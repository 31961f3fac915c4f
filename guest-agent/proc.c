/*
 * Process streams: RUN (the container's init) and EXEC, their stdio over the
 * host connection with per-stream windows, signals, window sizes, and the
 * exit status. A stream ends with EXIT once the process is reaped and its
 * output drained (or 2 s after its exit, if something else holds the pipes).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "guest-agent/agent.h"

#define DRAIN_GRACE_MS	2000
#define WINDOW_MAX	(64u << 20)

struct proc {
	uint16_t stream;
	bool main, tty;
	pid_t pid;
	int errp;		/* CLOEXEC error pipe from the child; -1 once resolved */
	int fail_code;		/* the start failed: report this status */
	int in_fd, out_fd, err_fd;	/* -1 when closed / at EOF */
	uint8_t *in_buf;	/* host stdin not yet written to the process */
	uint32_t in_len, in_consumed;
	bool in_eof;
	bool in_wait;		/* tty: stdin waits for the child's pty master */
	uint16_t rows, cols;	/* a resize that came before the pty */
	uint32_t out_window;	/* data bytes the host still accepts */
	bool exited;
	int status;
	uint64_t exit_ms;
	int pi_errp, pi_in, pi_out, pi_err;	/* pollfd indices, -1 if not polled */
};

static struct proc *find(struct agent *a, uint16_t stream)
{
	for (int i = 0; i < MAX_STREAMS; i++)
		if (a->procs[i] && a->procs[i]->stream == stream)
			return a->procs[i];
	return NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void send_exit(struct agent *a, uint16_t stream, int code, int sig, bool oom)
{
	struct proto_exit e = { .code = code, .signal = sig, .oom = oom };

	proto_exit_encode(&a->out, stream, &e);
}

/* A start that failed before any process existed: STARTED(error), EXIT. */
static void start_failed(struct agent *a, uint16_t stream, bool main, int code, const char *msg)
{
	struct proto_started st = { .code = code, .message = msg };

	say("start failed: ", msg, NULL);
	proto_started_encode(&a->out, stream, &st);
	if (main) {
		container_teardown(!a->ephemeral);
		a->main_done = true;
	}
	send_exit(a, stream, code, 0, false);
	if (main)
		agent_main_exited(a, code);
}

static int make_stdio(struct agent *a, struct proc *p, const struct proto_spec *s,
		      struct stdio_fds *io)
{
	int in[2] = { -1, -1 }, out[2], err[2];

	if (a->devnull < 0)
		a->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	io->tty = s->tty;
	if (s->tty) {
		p->in_wait = s->stdin;	/* the child sends the pty master */
		return 0;
	}
	if (s->stdin && pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(err, O_CLOEXEC) < 0)
		return -errno;
	io->in = s->stdin ? in[0] : a->devnull;
	io->out = out[1];
	io->err = err[1];
	p->in_fd = in[1];
	p->out_fd = out[0];
	p->err_fd = err[0];
	set_nonblock(out[0]);
	set_nonblock(err[0]);
	if (in[1] >= 0)
		set_nonblock(in[1]);
	return 0;
}

static void close_child_ends(const struct stdio_fds *io, bool stdin_pipe)
{
	if (io->tty)
		return;
	if (stdin_pipe)
		close(io->in);
	close(io->out);
	close(io->err);
}

int proc_start(struct agent *a, uint16_t stream, uint16_t type, const uint8_t *payload, size_t n)
{
	struct stdio_fds io = { -1, -1, -1, false };
	bool main = type == PROTO_RUN;
	struct error e = { 0 };
	struct proto_spec s;
	struct proc *p;
	int slot = -1, ep[2], ret;

	for (int i = 0; i < MAX_STREAMS && slot < 0; i++)
		if (!a->procs[i])
			slot = i;
	if (find(a, stream) || slot < 0) {
		start_failed(a, stream, false, 125, "stream in use, or too many processes");
		return -EBUSY;
	}
	if (main && a->main_pid) {
		start_failed(a, stream, false, 125, "the container is running already");
		return -EBUSY;
	}
	if (!main && (!a->main_pid || a->main_done)) {
		start_failed(a, stream, false, 125, "the container is not running");
		return -ESRCH;
	}
	ret = proto_spec_decode(payload, n, &s);
	if (ret) {
		start_failed(a, stream, main, 125, "malformed process spec");
		return ret;
	}
	if (main)
		a->ephemeral = s.ephemeral;
	if (main && container_prepare(&s, &e)) {
		start_failed(a, stream, main, 125, e.msg);
		proto_spec_free(&s);
		return -EIO;
	}
	if (main)
		trace("root mounted, cgroup made");
	p = calloc(1, sizeof(*p));
	if (!p) {
		start_failed(a, stream, main, 125, "out of memory");
		proto_spec_free(&s);
		return -ENOMEM;
	}
	p->stream = stream;
	p->main = main;
	p->tty = s.tty;
	p->in_fd = p->out_fd = p->err_fd = p->errp = -1;
	p->out_window = PROTO_WINDOW_SIZE;
	ret = make_stdio(a, p, &s, &io);
	if (!ret && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ep) < 0)
		ret = -errno;
	if (ret) {
		err_cat(&e, ret, "stdio: ", strerror(-ret), NULL);
		goto fail;
	}
	if (a->self_pidns < 0)
		a->self_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	p->pid = container_spawn(&s, main ? 0 : a->main_pid, &io, ep[1], a->self_pidns);
	close(ep[1]);
	close_child_ends(&io, s.stdin);
	if (p->pid < 0) {
		if (p->pid == -ESRCH)
			err_cat(&e, p->pid, "the container is not running", NULL);
		else
			err_cat(&e, p->pid, "start the process: ", strerror(-p->pid), NULL);
		close(ep[0]);
		goto fail;
	}
	p->errp = ep[0];
	set_nonblock(p->errp);
	trace("forked");
	if (main)
		a->main_pid = p->pid;
	a->procs[slot] = p;
	proto_spec_free(&s);
	return 0;
fail:
	close_fd(&p->in_fd);
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	free(p);
	proto_spec_free(&s);
	start_failed(a, stream, main, 125, e.msg);
	return -EIO;
}

/* Everything about p is known and sent: report the exit. */
static void finish(struct agent *a, struct proc *p)
{
	int code, sig = 0;
	bool oom = false;

	if (p->fail_code) {
		code = p->fail_code;
	} else if (WIFSIGNALED(p->status)) {
		sig = WTERMSIG(p->status);
		code = 128 + sig;
	} else {
		code = WEXITSTATUS(p->status);
	}
	close_fd(&p->in_fd);
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	if (p->main) {
		oom = sig == SIGKILL && container_oom_killed();
		container_teardown(!a->ephemeral);
		trace("synced, unmounted");
		a->main_done = true;
	}
	send_exit(a, p->stream, code, sig, oom);
	trace("exit sent");
	for (int i = 0; i < MAX_STREAMS; i++)
		if (a->procs[i] == p)
			a->procs[i] = NULL;
	if (p->main)
		agent_main_exited(a, code);
	free(p->in_buf);
	free(p);
}

static void check_done(struct agent *a, struct proc *p)
{
	if (!p->exited || p->errp >= 0)
		return;
	if ((p->out_fd >= 0 || p->err_fd >= 0) && now_ms() < p->exit_ms + DRAIN_GRACE_MS)
		return;
	finish(a, p);
}

void proc_reaped(struct agent *a, pid_t pid, int status)
{
	for (int i = 0; i < MAX_STREAMS; i++) {
		struct proc *p = a->procs[i];

		if (p && p->pid == pid && !p->exited) {
			trace("reaped");
			p->exited = true;
			p->status = status;
			p->exit_ms = now_ms();
			check_done(a, p);
			return;
		}
	}
}

static void write_stdin(struct agent *a, struct proc *p);

/* The child's pty master arrived: output, stdin and the window size go through it. */
static void got_master(struct agent *a, struct proc *p, int fd)
{
	p->out_fd = fd;
	set_nonblock(fd);
	if (p->rows) {
		struct winsize ws = { .ws_row = p->rows, .ws_col = p->cols };

		ioctl(fd, TIOCSWINSZ, &ws);
	}
	if (p->in_wait) {
		p->in_wait = false;
		p->in_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		write_stdin(a, p);
	}
}

static void read_errpipe(struct agent *a, struct proc *p)
{
	struct child_error ce;
	struct proto_started st = { .pid = p->pid };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct iovec iov = { .iov_base = &ce, .iov_len = sizeof(ce) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(p->errp, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
		int fd;

		memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
		if (p->out_fd < 0)
			got_master(a, p, fd);
		else
			close(fd);
		return;
	}
	if (n == sizeof(ce)) {
		ce.msg[sizeof(ce.msg) - 1] = 0;
		st = (struct proto_started){ .code = ce.code ? ce.code : 125, .message = ce.msg };
		p->fail_code = st.code;
		if (a->debug)
			say("start failed: ", ce.msg, NULL);
	}
	proto_started_encode(&a->out, p->stream, &st);
	close_fd(&p->errp);
	p->in_wait = false;
	trace("started");
}

static void grant_stdin(struct agent *a, struct proc *p, bool force)
{
	if (p->in_consumed && (force || p->in_consumed >= PROTO_WINDOW_SIZE / 4 || !p->in_len)) {
		proto_u64_encode(&a->out, PROTO_WINDOW, p->stream, TAG_INCREMENT, p->in_consumed);
		p->in_consumed = 0;
	}
}

static void write_stdin(struct agent *a, struct proc *p)
{
	while (p->in_len && p->in_fd >= 0) {
		ssize_t n = write(p->in_fd, p->in_buf, p->in_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {	/* the process closed its stdin: drop what is left */
			close_fd(&p->in_fd);
			p->in_consumed += p->in_len;
			p->in_len = 0;
			break;
		}
		memmove(p->in_buf, p->in_buf + n, p->in_len - n);
		p->in_len -= n;
		p->in_consumed += n;
	}
	if (!p->in_len && p->in_eof && p->in_fd >= 0) {
		if (p->tty)
			write(p->in_fd, "\x04", 1);	/* EOF for a terminal: ^D */
		close_fd(&p->in_fd);
	}
	grant_stdin(a, p, false);
}

static void read_output(struct agent *a, struct proc *p, int *fd, uint16_t type)
{
	uint8_t *buf = a->io_buf;
	size_t want = p->out_window < sizeof(a->io_buf) ? p->out_window : sizeof(a->io_buf);
	ssize_t n = read(*fd, buf, want);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {	/* EOF; EIO on a pty whose other side is gone */
		close_fd(fd);
		if (p->tty)
			close_fd(&p->in_fd);
		return;
	}
	proto_put_frame(&a->out, type, p->stream, buf, n);
	p->out_window -= n;
}

void proc_frame(struct agent *a, const struct proto_frame *f)
{
	struct proc *p = find(a, f->stream);
	uint64_t v;
	uint16_t rows, cols;

	if (!p)
		return;
	switch (f->type) {
	case PROTO_STDIN:
		if ((p->in_fd < 0 && !p->in_wait) || p->in_eof) {
			p->in_consumed += f->len;	/* nobody reads it: give the window back */
			grant_stdin(a, p, true);
			break;
		}
		if (!p->in_buf && !(p->in_buf = malloc(PROTO_WINDOW_SIZE)))
			break;
		if (f->len > PROTO_WINDOW_SIZE - p->in_len) {
			say("host sent stdin beyond its window; dropped", NULL);
			break;
		}
		memcpy(p->in_buf + p->in_len, f->payload, f->len);
		p->in_len += f->len;
		write_stdin(a, p);
		break;
	case PROTO_STDIN_EOF:
		p->in_eof = true;
		write_stdin(a, p);
		break;
	case PROTO_WINDOW:
		if (!proto_u64_decode(f->payload, f->len, TAG_INCREMENT, &v) && v <= WINDOW_MAX &&
		    p->out_window + v <= WINDOW_MAX)
			p->out_window += v;
		break;
	case PROTO_SIGNAL:
		if (!proto_u64_decode(f->payload, f->len, TAG_SIGNAL, &v) && v >= 1 && v <= 64 &&
		    !p->exited && p->pid > 0)
			kill(p->pid, v);
		break;
	case PROTO_RESIZE:
		if (p->tty && !proto_resize_decode(f->payload, f->len, &rows, &cols)) {
			struct winsize ws = { .ws_row = rows, .ws_col = cols };

			p->rows = rows;
			p->cols = cols;
			if (p->out_fd >= 0)
				ioctl(p->out_fd, TIOCSWINSZ, &ws);
		}
		break;
	}
}

int proc_poll_fill(struct agent *a, void *pfdv, int max, int *timeout)
{
	struct pollfd *pfd = pfdv;
	bool can_send = a->vsock >= 0 && agent_backlog(a) < AGENT_BACKLOG_MAX;
	int n = 0;

	for (int i = 0; i < MAX_STREAMS; i++) {
		struct proc *p = a->procs[i];

		if (!p)
			continue;
		p->pi_errp = p->pi_in = p->pi_out = p->pi_err = -1;
		if (n + 4 > max)
			break;
		if (p->errp >= 0) {
			p->pi_errp = n;
			pfd[n++] = (struct pollfd){ .fd = p->errp, .events = POLLIN };
		}
		if (p->in_fd >= 0 && p->in_len) {
			p->pi_in = n;
			pfd[n++] = (struct pollfd){ .fd = p->in_fd, .events = POLLOUT };
		}
		if (can_send && p->out_window) {
			if (p->out_fd >= 0) {
				p->pi_out = n;
				pfd[n++] = (struct pollfd){ .fd = p->out_fd, .events = POLLIN };
			}
			if (p->err_fd >= 0) {
				p->pi_err = n;
				pfd[n++] = (struct pollfd){ .fd = p->err_fd, .events = POLLIN };
			}
		}
		if (p->exited) {
			int64_t left = (int64_t)(p->exit_ms + DRAIN_GRACE_MS) - (int64_t)now_ms();

			if (left < 0)
				left = 0;
			if (*timeout < 0 || left < *timeout)
				*timeout = left + 1;
		}
	}
	return n;
}

void proc_poll_done(struct agent *a, void *pfdv, int n)
{
	struct pollfd *pfd = pfdv;

	for (int i = 0; i < MAX_STREAMS; i++) {
		struct proc *p = a->procs[i];

		if (!p)
			continue;
		if (p->pi_errp >= 0 && pfd[p->pi_errp].revents)
			read_errpipe(a, p);
		if (p->pi_in >= 0 && pfd[p->pi_in].revents)
			write_stdin(a, p);
		if (p->pi_out >= 0 && pfd[p->pi_out].revents && p->out_fd >= 0)
			read_output(a, p, &p->out_fd, PROTO_STDOUT);
		if (p->pi_err >= 0 && pfd[p->pi_err].revents && p->err_fd >= 0)
			read_output(a, p, &p->err_fd, PROTO_STDERR);
		p->pi_errp = p->pi_in = p->pi_out = p->pi_err = -1;
		check_done(a, p);	/* may free p */
	}
}

void proc_kill_all(struct agent *a)
{
	for (int i = 0; i < MAX_STREAMS; i++)
		if (a->procs[i] && !a->procs[i]->exited && a->procs[i]->pid > 0)
			kill(a->procs[i]->pid, SIGKILL);
}
