/*
 * /containers/{id}/logs and /containers/{id}/attach: the container's
 * output from its log (engine/logread.c), as docker streams it: raw with a
 * TTY, else in frames of an 8-byte header (stream 1 or 2, three zero bytes,
 * the length big-endian) and the bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api/api.h"
#include "vmm/base/error.h"
#include "vmm/base/timestamp.h"
#include "vmm/base/util.h"
#include "vmm/engine/client.h"
#include "vmm/engine/container.h"
#include "vmm/engine/logread.h"

struct log_stream_ctx {
	struct container *ct;
	struct log_read_opts o;
	bool tty, out, err, timestamps;
	bool eof_is_gone;	/* a client that stops sending has left (logs; not attach) */
	int conn_fd;		/* the client's connection */
	int fd;
	const struct paths *paths;
	bool stdin_wanted;	/* attach?stdin=1 to a container made with OpenStdin */
};

/*
 * attach's stdin: once the container runs, its vmm process reads the
 * client's side of the connection into the process's stdin. The connection's
 * EOF (the docker CLI's shutdown for writing) closes that stdin with
 * StdinOnce (docker run -i), or leaves it open for the next attach.
 */
static void attach_stdin(struct log_stream_ctx *c)
{
	struct error e = { 0 };

	if (c->stdin_wanted && c->fd >= 0 && container_is_running(c->ct) &&
	    !engine_attach_stdin(c->paths, c->ct->cfg.id, c->fd, c->ct->cfg.stdin_once, &e))
		c->stdin_wanted = false;
}

static int sink(void *arg, enum log_stream s, const char *time, const char *data, size_t len)
{
	struct log_stream_ctx *c = arg;
	unsigned char hdr[8] = { s == LOG_STDERR ? 2 : 1 };
	size_t tlen = c->timestamps ? strlen(time) + 1 : 0, total = tlen + len;

	attach_stdin(c);
	if (!data)
		return api_client_gone(c->conn_fd, c->eof_is_gone) ? -1 : 0;
	if ((s == LOG_STDOUT && !c->out) || (s == LOG_STDERR && !c->err))
		return 0;
	hdr[4] = total >> 24;
	hdr[5] = total >> 16;
	hdr[6] = total >> 8;
	hdr[7] = total;
	if ((!c->tty && write_full(c->fd, hdr, sizeof(hdr)) < 0) ||
	    (tlen && (write_full(c->fd, time, tlen - 1) < 0 || write_full(c->fd, " ", 1) < 0)) ||
	    write_full(c->fd, data, len) < 0)
		return -1;	/* the client went away */
	return 0;
}

static void stream(void *arg, int fd)
{
	struct log_stream_ctx *c = arg;
	struct error e = { 0 };

	c->fd = fd;
	engine_logs(c->ct, &c->o, &e);	/* a log that cannot be read ends the stream early */
}

static void stream_free(void *arg)
{
	struct log_stream_ctx *c = arg;

	container_free(c->ct);
	free(c);
}

/* A stream of ref's log with the stdout/stderr query parameters; NULL with a reply on error. */
static struct log_stream_ctx *open_stream(const struct api_ctx *ctx, const struct api_request *r,
					  struct api_response *w)
{
	struct log_stream_ctx *c = calloc(1, sizeof(*c));
	struct error e = { 0 };

	if (!c) {
		api_reply_error(w, 500, "out of memory");
		return NULL;
	}
	if (container_open(ctx->paths.root, r->args[0], &c->ct, &e)) {
		free(c);
		api_reply_err(w, &e);
		return NULL;
	}
	c->out = api_query_bool(r, "stdout", false);
	c->err = api_query_bool(r, "stderr", false);
	c->tty = c->ct->cfg.tty;
	c->conn_fd = r->conn_fd;
	c->eof_is_gone = true;
	c->o.sink = sink;
	c->o.arg = c;
	w->status = 200;
	w->stream = stream;
	w->stream_free = stream_free;
	w->stream_arg = c;
	w->content_type = c->tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream";
	return c;
}

void api_container_logs(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	const char *tail = r->query(r, "tail"), *since = r->query(r, "since"), *until = r->query(r, "until");
	struct log_stream_ctx *c;
	int64_t since_ns = 0, until_ns = 0;
	uint64_t n;

	if (!api_query_bool(r, "stdout", false) && !api_query_bool(r, "stderr", false)) {
		api_reply_error(w, 400, "Bad parameters: you must choose at least one stream");
		return;
	}
	if (tail && *tail && strcmp(tail, "all") && parse_uint(tail, 0, 1u << 30, &n)) {
		api_reply_error(w, 400, "tail %s: a number of lines, or all", tail);
		return;
	}
	/* docker sends unix seconds with a fraction; 0 is no bound */
	if ((since && *since && timestamp_parse(since, realtime_ns(), &since_ns)) ||
	    (until && *until && timestamp_parse(until, realtime_ns(), &until_ns))) {
		api_reply_error(w, 400, "since/until: unix seconds, like 1764745200.5");
		return;
	}
	if (!(c = open_stream(ctx, r, w)))
		return;
	c->o.since_ns = since_ns;
	c->o.until_ns = until_ns;
	c->o.tail = tail && *tail && strcmp(tail, "all") ? (long)n : -1;
	c->o.follow = api_query_bool(r, "follow", false);
	c->timestamps = api_query_bool(r, "timestamps", false);
}

void api_container_attach(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct log_stream_ctx *c;

	if (api_query_bool(r, "stdin", false) && !api_query_bool(r, "stdout", false) &&
	    !api_query_bool(r, "stderr", false)) {
		api_reply_error(w, 400, "attach: stdin alone is not served (docs/docker-api.md)");
		return;
	}
	if (!(c = open_stream(ctx, r, w)))
		return;
	c->paths = &ctx->paths;
	c->stdin_wanted = api_query_bool(r, "stdin", false) && c->ct->cfg.interactive;
	/* what it wrote before (?logs=1), then all it writes until it stops; docker run attaches
	 * before it starts the container, so a run still to come is waited for */
	c->o.tail = api_query_bool(r, "logs", false) ? -1 : 0;
	c->o.follow = api_query_bool(r, "stream", false);
	c->o.await_start = true;
	/* The docker CLI shuts its side for writing once it has nothing to send (no stdin, or
	 * stdin at its end) and reads on: an attached client has left only when its connection
	 * is closed both ways or broken. */
	c->eof_is_gone = false;
	w->upgrade = true;
	w->status = 101;
}
