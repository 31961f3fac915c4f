/*
 * Host side of the agent protocol (vmm/agent.h): one connection, many
 * streams. Every stream has a source (stdin, or a tar to copy in) and sinks
 * (stdout/stderr, or a tar copied out), each an `io`: our own file
 * description of the caller's fd, so that O_NONBLOCK never leaks into the
 * caller's (a shell's terminal, say).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/engine/agent.h"
#include "vmm/base/log.h"
#include "vmm/loop.h"
#include "vmm/base/util.h"

#define MAX_STREAMS	256
#define QUEUE_MAX	(4 * PROTO_WINDOW_SIZE)	/* more than the agent may send us */
#define WINDOW_CAP	(64u << 20)

enum stream_kind { S_PROC, S_COPY_IN, S_COPY_OUT, S_TOP, S_STATS, S_REQUEST };
enum io_kind { IO_NONE, IO_FILE, IO_SOCKET, IO_NONBLOCK };

struct io {
	int fd;
	enum io_kind kind;
	uint32_t events;	/* epoll interest, 0 when not registered */
	struct agent_proc *s;
	uint8_t *q;		/* sinks: bytes waiting for the fd */
	size_t qlen;
	bool broken;		/* a sink whose reader went away: data is dropped */
};

struct agent_proc {
	struct agent_client *c;
	uint16_t id;
	enum stream_kind kind;
	struct io in, out, err;
	bool in_eof;
	bool hold_in;		/* an input's EOF leaves the process's stdin open */
	uint32_t window;	/* data bytes we may still send */
	uint32_t consumed;	/* written out since our last WINDOW */
	bool finished;		/* the stream's last frame arrived */
	int result;
	char message[256];
	struct proto_exit exit;
	const struct agent_proc_ops *ops;
	agent_done_fn done;
	agent_top_fn top;
	agent_stats_fn stats;
	void *opaque;
};

struct agent_client {
	struct event_loop *loop;
	const struct agent_client_ops *ops;
	void *opaque;
	int fd;
	uint32_t events;
	struct proto_rx rx;
	struct proto_buf out;
	bool hello;
	uint16_t next_id;
	struct agent_proc *streams[MAX_STREAMS];
	uint8_t io_buf[PROTO_DATA_CHUNK];	/* one data frame read from a source (loop thread) */
};

static void flush(struct agent_client *c);
static void maybe_finish(struct agent_proc *s);
static void source_pump(struct agent_proc *s);

/* ---- io: our own descriptions of the caller's fds ---- */

static int io_open(struct io *io, struct agent_proc *s, int fd, bool write)
{
	char path[64];
	struct stat st;
	int type;
	socklen_t len = sizeof(type);

	memset(io, 0, sizeof(*io));
	io->s = s;
	io->fd = -1;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode)) {
		io->kind = IO_FILE;
	} else if (S_ISSOCK(st.st_mode) && !getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len)) {
		io->kind = IO_SOCKET;	/* MSG_DONTWAIT per call */
	} else {
		/* Pipes, fifos, ttys: a new description we may make non-blocking. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		io->fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (io->fd >= 0) {
			io->kind = IO_NONBLOCK;
			return 0;
		}
		io->kind = IO_FILE;	/* blocking, as a last resort */
	}
	io->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return io->fd < 0 ? -errno : 0;
}

static void io_unwatch(struct agent_client *c, struct io *io)
{
	if (io->events)
		loop_remove(c->loop, io->fd);
	io->events = 0;
}

static void io_close(struct agent_client *c, struct io *io)
{
	io_unwatch(c, io);
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
	free(io->q);
	io->q = NULL;
	io->qlen = 0;
}

static void io_watch(struct agent_client *c, struct io *io, uint32_t events, loop_fn fn)
{
	if (io->kind == IO_FILE || io->fd < 0 || io->events == events)
		return;
	if (!events) {
		io_unwatch(c, io);
	} else if (io->events) {
		if (!loop_modify(c->loop, io->fd, events))
			io->events = events;
	} else if (!loop_add(c->loop, io->fd, events, fn, io)) {
		io->events = events;
	}
}

static ssize_t io_read(struct io *io, void *buf, size_t n)
{
	ssize_t r;

	do {
		r = io->kind == IO_SOCKET ? recv(io->fd, buf, n, MSG_DONTWAIT) : read(io->fd, buf, n);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static ssize_t io_write(struct io *io, const void *buf, size_t n)
{
	ssize_t r;

	if (io->kind == IO_FILE)
		return write_full(io->fd, buf, n) ? -errno : (ssize_t)n;
	do {
		r = io->kind == IO_SOCKET ? send(io->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) :
					    write(io->fd, buf, n);
	} while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return r < 0 ? -errno : r;
}

/* ---- streams ---- */

static void send_window(struct agent_proc *s, bool force)
{
	if (s->consumed && (force || s->consumed >= PROTO_WINDOW_SIZE / 4)) {
		proto_u64_encode(&s->c->out, PROTO_WINDOW, s->id, TAG_INCREMENT, s->consumed);
		s->consumed = 0;
		flush(s->c);
	}
}

static void on_sink(void *opaque, uint32_t events);

/* Write what the sink holds; true when it is empty. */
static bool sink_flush(struct io *k)
{
	struct agent_proc *s = k->s;

	while (k->qlen && !k->broken) {
		ssize_t n = io_write(k, k->q, k->qlen);

		if (n == 0)
			break;
		if (n < 0) {
			dev_debug("agent", "stream %u: output: %s; discarding the rest", s->id, strerror(-n));
			k->broken = true;
			n = k->qlen;
		}
		memmove(k->q, k->q + n, k->qlen - n);
		k->qlen -= n;
		s->consumed += n;
	}
	if (k->broken) {
		s->consumed += k->qlen;
		k->qlen = 0;
	}
	io_watch(s->c, k, k->qlen ? EPOLLOUT : 0, on_sink);
	send_window(s, false);
	return !k->qlen;
}

static void sink_data(struct io *k, const uint8_t *p, size_t n)
{
	struct agent_proc *s = k->s;
	uint8_t *q;

	if (!n)
		return;	/* realloc(q, 0) would free the queue */
	if (k->fd < 0 || k->broken) {
		s->consumed += n;
		send_window(s, false);
		return;
	}
	if (k->qlen + n > QUEUE_MAX) {
		dev_warn("agent", "stream %u: the agent sent past its window; output dropped", s->id);
		return;
	}
	q = realloc(k->q, k->qlen + n);
	if (!q)
		return;
	k->q = q;
	memcpy(k->q + k->qlen, p, n);
	k->qlen += n;
	sink_flush(k);
}

static void on_sink(void *opaque, uint32_t events)
{
	struct io *k = opaque;

	if (sink_flush(k))
		maybe_finish(k->s);
}

static void on_source(void *opaque, uint32_t events)
{
	struct io *k = opaque;

	source_pump(k->s);
}

/* Send source data while the agent's window allows; EOF ends it. */
static void source_pump(struct agent_proc *s)
{
	uint8_t *buf = s->c->io_buf;
	uint16_t data = s->kind == S_PROC ? PROTO_STDIN : PROTO_TAR_DATA;
	uint16_t eof = s->kind == S_PROC ? PROTO_STDIN_EOF : PROTO_TAR_END;

	while (s->in.fd >= 0 && !s->in_eof && s->window && s->c->fd >= 0) {
		ssize_t n = io_read(&s->in, buf, MIN(s->window, sizeof(s->c->io_buf)));

		if (n == -EAGAIN || n == -EWOULDBLOCK) {
			io_watch(s->c, &s->in, EPOLLIN, on_source);
			break;
		}
		if (n <= 0) {
			if (n < 0)
				dev_debug("agent", "stream %u: input: %s", s->id, strerror(-n));
			io_close(s->c, &s->in);
			if (s->hold_in)
				break;	/* an attached client left: stdin waits for the next one */
			proto_put_frame(&s->c->out, eof, s->id, NULL, 0);
			s->in_eof = true;
			break;
		}
		proto_put_frame(&s->c->out, data, s->id, buf, n);
		s->window -= n;
	}
	if (s->in.fd >= 0 && !s->window)
		io_watch(s->c, &s->in, 0, on_source);	/* the agent is full: stop reading */
	flush(s->c);
}

static struct agent_proc *stream_new(struct agent_client *c, enum stream_kind kind)
{
	struct agent_proc *s;
	unsigned slot;

	for (slot = 0; slot < MAX_STREAMS && c->streams[slot]; slot++)
		;
	if (slot == MAX_STREAMS)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->c = c;
	s->kind = kind;
	s->window = PROTO_WINDOW_SIZE;
	s->in.fd = s->out.fd = s->err.fd = -1;
	/* An io never opened (top's output, cp's stderr) still takes the agent's frames. */
	s->in.s = s->out.s = s->err.s = s;
	/* Ids are never 0 (the control stream) and not reused while live. */
	for (;;) {
		bool used = false;

		if (++c->next_id == 0)
			c->next_id = 1;
		for (unsigned i = 0; i < MAX_STREAMS; i++)
			used |= c->streams[i] && c->streams[i]->id == c->next_id;
		if (!used)
			break;
	}
	s->id = c->next_id;
	c->streams[slot] = s;
	return s;
}

static void stream_free(struct agent_proc *s)
{
	struct agent_client *c = s->c;

	for (unsigned i = 0; i < MAX_STREAMS; i++)
		if (c->streams[i] == s)
			c->streams[i] = NULL;
	io_close(c, &s->in);
	io_close(c, &s->out);
	io_close(c, &s->err);
	free(s);
}

static struct agent_proc *stream_find(struct agent_client *c, uint16_t id)
{
	for (unsigned i = 0; i < MAX_STREAMS; i++)
		if (c->streams[i] && c->streams[i]->id == id)
			return c->streams[i];
	return NULL;
}

/* The last frame is in and every byte written out: tell the caller, free the stream. */
static void maybe_finish(struct agent_proc *s)
{
	if (!s->finished || s->out.qlen || s->err.qlen)
		return;
	switch (s->kind) {
	case S_PROC:
		if (s->ops->exited)
			s->ops->exited(s->opaque, &s->exit);
		break;
	case S_COPY_IN:
	case S_COPY_OUT:
	case S_REQUEST:
		if (s->done)
			s->done(s->opaque, s->result, s->message[0] ? s->message : NULL);
		break;
	case S_TOP:
		if (s->top)
			s->top(s->opaque, s->result ? s->result : EIO, NULL, 0);
		break;
	case S_STATS:
		if (s->stats)
			s->stats(s->opaque, s->result ? s->result : EIO, NULL);
		break;
	}
	stream_free(s);
}

/* ---- frames from the agent ---- */

static void got_top(struct agent_proc *s, const struct proto_frame *f)
{
	char strbuf[1024];
	struct proto_proc p, *procs;
	struct proto_reader r;
	unsigned n = 0, i = 0;
	int ret;

	/* Count, then decode again into owned strings. */
	proto_reader_init(&r, f->payload, f->len);
	while ((ret = proto_top_next(&r, &p, strbuf, sizeof(strbuf))) == 1 && n < PROTO_MAX_LIST)
		n++;
	procs = calloc(n ? n : 1, sizeof(*procs));
	if (!procs)
		ret = -ENOMEM;
	proto_reader_init(&r, f->payload, f->len);
	while (procs && i < n && proto_top_next(&r, &p, strbuf, sizeof(strbuf)) == 1) {
		procs[i] = p;
		procs[i].user = strdup(p.user ? p.user : "?");
		procs[i].cmd = strdup(p.cmd ? p.cmd : "");
		i++;
	}
	if (s->top)
		s->top(s->opaque, ret < 0 ? EPROTO : 0, procs, i);
	for (unsigned k = 0; k < i; k++) {
		free((char *)procs[k].user);
		free((char *)procs[k].cmd);
	}
	free(procs);
	s->top = NULL;
	s->finished = true;
	maybe_finish(s);
}

static void stream_frame(struct agent_proc *s, const struct proto_frame *f)
{
	char msg[512];
	struct proto_started st;
	struct proto_result res;
	uint64_t v;

	switch (f->type) {
	case PROTO_STARTED:
		if (s->kind != S_PROC || proto_started_decode(f->payload, f->len, &st, msg, sizeof(msg)))
			break;
		if (s->ops->started)
			s->ops->started(s->opaque, st.pid, st.code, st.message);
		break;
	case PROTO_STDOUT:
	case PROTO_TAR_DATA:
		sink_data(&s->out, f->payload, f->len);
		break;
	case PROTO_STDERR:
		sink_data(&s->err, f->payload, f->len);
		break;
	case PROTO_WINDOW:
		if (!proto_u64_decode(f->payload, f->len, TAG_INCREMENT, &v) && v <= WINDOW_CAP &&
		    s->window + v <= WINDOW_CAP)
			s->window += v;
		source_pump(s);
		break;
	case PROTO_EXIT:
		if (s->kind != S_PROC || proto_exit_decode(f->payload, f->len, &s->exit))
			break;
		s->finished = true;
		maybe_finish(s);
		break;
	case PROTO_TAR_END:
		if (s->kind == S_COPY_OUT) {
			s->finished = true;
			maybe_finish(s);
		}
		break;
	case PROTO_RESULT:
		if (s->kind == S_PROC || proto_result_decode(f->payload, f->len, &res, msg, sizeof(msg)))
			break;
		s->result = res.code;
		snprintf(s->message, sizeof(s->message), "%s", res.message ? res.message : "");
		s->finished = true;
		if (s->kind == S_COPY_OUT && res.code) {
			s->out.qlen = 0;	/* a failed archive is not worth writing out */
		}
		maybe_finish(s);
		break;
	case PROTO_TOP_RESULT:
		if (s->kind == S_TOP)
			got_top(s, f);
		break;
	case PROTO_STATS_RESULT:
		if (s->kind == S_STATS) {
			struct proto_stats ps;
			int ret = proto_stats_decode(f->payload, f->len, &ps);

			if (s->stats)
				s->stats(s->opaque, ret ? EPROTO : 0, ret ? NULL : &ps);
			s->stats = NULL;
			s->finished = true;
			maybe_finish(s);
		}
		break;
	}
}

/*
 * Seed the guest's RNG first thing: without RDRAND (hidden on PVM hosts) or a
 * virtio-rng device its crng is not ready for minutes, and the kernel burns
 * emulated cycles mixing interrupt entropy (and blocking getrandom() waits).
 */
static void reseed(struct agent_client *c)
{
	uint8_t seed[64];

	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		return;
	proto_put_frame(&c->out, PROTO_RESEED, 0, seed, sizeof(seed));
	memset(seed, 0, sizeof(seed));
}

static void dispatch(struct agent_client *c, const struct proto_frame *f)
{
	struct agent_proc *s;

	if (f->type == PROTO_HELLO) {
		struct proto_hello h;

		if (proto_hello_decode(f->payload, f->len, &h)) {
			dev_warn("agent", "malformed HELLO from the guest agent");
			return;
		}
		if (h.version != PROTO_VERSION)
			dev_warn("agent", "guest agent speaks protocol %u, vmm %u (rebuild the initramfs)",
				 h.version, PROTO_VERSION);
		c->hello = true;
		reseed(c);
		if (c->ops->ready)
			c->ops->ready(c->opaque, &h);
		return;
	}
	s = stream_find(c, f->stream);
	if (s)
		stream_frame(s, f);
	else
		dev_debug("agent", "%s frame for unknown stream %u", proto_type_name(f->type), f->stream);
}

static void drop_connection(struct agent_client *c, const char *why)
{
	if (c->fd < 0)
		return;
	dev_debug("agent", "connection closed: %s", why);
	loop_remove(c->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->events = 0;
	c->hello = false;
	proto_rx_reset(&c->rx);
	proto_buf_consume(&c->out, proto_buf_pending(&c->out));
	if (c->ops->disconnected)
		c->ops->disconnected(c->opaque);
}

static void flush(struct agent_client *c)
{
	uint32_t ev;

	while (c->fd >= 0 && proto_buf_pending(&c->out)) {
		ssize_t n = send(c->fd, proto_buf_head(&c->out), proto_buf_pending(&c->out),
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			drop_connection(c, strerror(errno));
			return;
		}
		proto_buf_consume(&c->out, n);
	}
	if (c->fd < 0)
		return;
	ev = EPOLLIN | (proto_buf_pending(&c->out) ? EPOLLOUT : 0);
	if (ev != c->events && !loop_modify(c->loop, c->fd, ev))
		c->events = ev;
}

static void on_conn(void *opaque, uint32_t events)
{
	struct agent_client *c = opaque;
	struct proto_frame f;

	if (events & EPOLLOUT)
		flush(c);
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (int i = 0; i < 16 && c->fd >= 0; i++) {
		long n = proto_rx_read(&c->rx, c->fd);
		int ret = 0;

		if (n == -EAGAIN || n == -EINTR)
			break;
		if (n <= 0) {
			drop_connection(c, n ? strerror(-n) : "end of stream");
			return;
		}
		while (c->fd >= 0 && (ret = proto_rx_next(&c->rx, &f)) == 1)
			dispatch(c, &f);
		if (c->fd >= 0 && ret < 0) {
			drop_connection(c, "oversized frame from the agent");
			return;
		}
	}
	flush(c);
}

/* ---- API ---- */

int agent_client_attach(struct agent_client *c, int fd)
{
	int ret;

	drop_connection(c, "replaced by a new connection");
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ret = loop_add(c->loop, fd, EPOLLIN, on_conn, c);
	if (ret) {
		close(fd);
		return ret;
	}
	c->fd = fd;
	c->events = EPOLLIN;
	return 0;
}

int agent_client_create(struct event_loop *loop, const struct agent_client_ops *ops, void *opaque,
			struct agent_client **out)
{
	struct agent_client *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->ops = ops;
	c->opaque = opaque;
	c->fd = -1;
	proto_rx_init(&c->rx);
	proto_buf_init(&c->out);
	signal(SIGPIPE, SIG_IGN);	/* a closed output pipe is an error, not our death */
	*out = c;
	return 0;
}

void agent_client_destroy(struct agent_client *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < MAX_STREAMS; i++)
		if (c->streams[i])
			stream_free(c->streams[i]);
	if (c->fd >= 0) {
		loop_remove(c->loop, c->fd);
		close(c->fd);
	}
	proto_rx_free(&c->rx);
	proto_buf_free(&c->out);
	free(c);
}

bool agent_client_connected(const struct agent_client *c)
{
	return c->fd >= 0 && c->hello;
}

static int start(struct agent_client *c, uint16_t type, const struct proto_spec *spec,
		 const struct agent_stdio *io, const struct agent_proc_ops *ops, void *opaque,
		 struct agent_proc **out)
{
	struct agent_proc *s;
	struct proto_spec copy = *spec;
	int ret;

	if (c->fd < 0)
		return -ENOTCONN;
	s = stream_new(c, S_PROC);
	if (!s)
		return -ENOSPC;
	s->ops = ops;
	s->opaque = opaque;
	copy.stdin = io->in >= 0 || io->hold_in;
	s->hold_in = io->hold_in && io->in < 0;
	ret = io_open(&s->in, s, io->in, false);
	if (!ret)
		ret = io_open(&s->out, s, io->out, true);
	if (!ret)
		ret = io_open(&s->err, s, io->err, true);
	if (!ret)
		ret = proto_spec_encode(&c->out, type, s->id, &copy);
	if (ret) {
		stream_free(s);
		return ret;
	}
	*out = s;
	source_pump(s);
	return 0;
}

int agent_run(struct agent_client *c, const struct proto_spec *spec, const struct agent_stdio *io,
	      const struct agent_proc_ops *ops, void *opaque, struct agent_proc **out)
{
	return start(c, PROTO_RUN, spec, io, ops, opaque, out);
}

int agent_exec(struct agent_client *c, const struct proto_spec *spec, const struct agent_stdio *io,
	       const struct agent_proc_ops *ops, void *opaque, struct agent_proc **out)
{
	return start(c, PROTO_EXEC, spec, io, ops, opaque, out);
}

void agent_forget(struct agent_client *c, void *opaque)
{
	static const struct agent_proc_ops none;

	for (unsigned i = 0; i < MAX_STREAMS; i++) {
		struct agent_proc *s = c->streams[i];

		if (s && s->opaque == opaque) {
			s->ops = &none;
			s->done = NULL;
			s->top = NULL;
			s->stats = NULL;
			s->opaque = NULL;
		}
	}
}

int agent_proc_signal(struct agent_proc *p, int sig)
{
	int ret = proto_u64_encode(&p->c->out, PROTO_SIGNAL, p->id, TAG_SIGNAL, sig);

	flush(p->c);
	return ret;
}

int agent_proc_resize(struct agent_proc *p, unsigned rows, unsigned cols)
{
	int ret = proto_resize_encode(&p->c->out, p->id, MIN(rows, 65535u), MIN(cols, 65535u));

	flush(p->c);
	return ret;
}

int agent_proc_set_stdin(struct agent_proc *p, int fd, bool eof_closes)
{
	int ret;

	if (!p->hold_in || p->in_eof || p->finished)
		return -EINVAL;
	io_close(p->c, &p->in);
	ret = io_open(&p->in, p, fd, false);
	if (!ret && eof_closes)
		p->hold_in = false;	/* its EOF is the process's */
	if (!ret)
		source_pump(p);
	return ret;
}

static int request(struct agent_client *c, enum stream_kind kind, uint16_t type, const char *path,
		   int fd, agent_done_fn done, agent_top_fn top, agent_stats_fn stats, void *opaque)
{
	struct agent_proc *s;
	int ret = 0;

	if (c->fd < 0)
		return -ENOTCONN;
	s = stream_new(c, kind);
	if (!s)
		return -ENOSPC;
	s->done = done;
	s->top = top;
	s->stats = stats;
	s->opaque = opaque;
	if (kind == S_COPY_IN)
		ret = io_open(&s->in, s, fd, false);
	else if (kind == S_COPY_OUT)
		ret = io_open(&s->out, s, fd, true);
	if (!ret)
		ret = path ? proto_path_encode(&c->out, type, s->id, path) :
			     proto_put_frame(&c->out, type, s->id, NULL, 0);
	if (ret) {
		stream_free(s);
		return ret;
	}
	if (kind == S_COPY_IN)
		source_pump(s);
	flush(c);
	return 0;
}

int agent_copy_in(struct agent_client *c, const char *path, int tar_fd, agent_done_fn done, void *opaque)
{
	return request(c, S_COPY_IN, PROTO_CP_IN, path, tar_fd, done, NULL, NULL, opaque);
}

int agent_copy_out(struct agent_client *c, const char *path, int tar_fd, agent_done_fn done, void *opaque)
{
	return request(c, S_COPY_OUT, PROTO_CP_OUT, path, tar_fd, done, NULL, NULL, opaque);
}

int agent_top(struct agent_client *c, agent_top_fn done, void *opaque)
{
	return request(c, S_TOP, PROTO_TOP, NULL, -1, NULL, done, NULL, opaque);
}

int agent_stats(struct agent_client *c, agent_stats_fn done, void *opaque)
{
	return request(c, S_STATS, PROTO_STATS, NULL, -1, NULL, NULL, done, opaque);
}

int agent_shutdown(struct agent_client *c, agent_done_fn done, void *opaque)
{
	return request(c, S_REQUEST, PROTO_SHUTDOWN, NULL, -1, done, NULL, NULL, opaque);
}

int agent_net_addrs(struct agent_client *c, const char *list, agent_done_fn done, void *opaque)
{
	return request(c, S_REQUEST, PROTO_NET_ADDRS, list, -1, done, NULL, NULL, opaque);
}

int agent_time_sync(struct agent_client *c)
{
	int ret;

	if (c->fd < 0)
		return -ENOTCONN;
	ret = proto_u64_encode(&c->out, PROTO_TIME_SYNC, 0, TAG_REALTIME_NS, (uint64_t)realtime_ns());
	flush(c);
	return ret;
}
