/*
 * The Engine API over HTTP: libmicrohttpd, a thread per connection (wait
 * and stop block), on a unix socket we bind ourselves or on loopback TCP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/api/exec.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/engine/version.h"

struct api_server {
	struct MHD_Daemon *d;
	struct api_ctx ctx;
	struct api_execs execs;
	char tmp_dir[4096];	/* $VMM_ROOT/tmp: uploads and large replies */
	int fd;
	char unix_path[108];	/* removed at stop; "" for TCP */
	atomic_int active;	/* requests being served */
	atomic_long last;	/* when the last one ended (monotonic seconds) */
};

/* One request: its route (found when its headers arrived) and its body as it arrives. */
struct upload {
	const struct api_route *route;
	struct api_request r;
	char args[1024];
	char ver[16];
	struct error err;	/* a bad version or path: replied once the body is in */
	bool known;		/* the path exists with another method */
	char *body;		/* in memory, or */
	int fd;			/* spooled (API_ROUTE_UPLOAD) */
	uint64_t len;
	bool too_big;
	struct api_response up;	/* an upgraded reply's stream, run by on_upgraded */
};

/* A stream's thread (logs): it writes into a pipe MHD reads the reply from. */
struct stream_job {
	void (*fn)(void *arg, int fd);
	void (*free)(void *arg);
	void *arg;
	int fd;
};


static const char *query(const struct api_request *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

static const char *header(const struct api_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

struct query_all {
	const char *key;
	const char **out;
	size_t n, max;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query_all *q = cls;

	if (key && value && !strcmp(key, q->key) && q->n < q->max)
		q->out[q->n++] = value;
	return MHD_YES;
}

static size_t query_all(const struct api_request *r, const char *key, const char **out, size_t max)
{
	struct query_all q = { .key = key, .out = out, .max = max };

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect, &q);
	return q.n;
}

static void *stream_thread(void *p)
{
	struct stream_job *j = p;

	j->fn(j->arg, j->fd);
	close(j->fd);
	j->free(j->arg);
	free(j);
	return NULL;
}

/* A reply body from w's stream, through a pipe its own thread writes. */
static struct MHD_Response *stream_response(struct api_response *w)
{
	struct stream_job *j = malloc(sizeof(*j));
	struct MHD_Response *resp = NULL;
	pthread_attr_t attr;
	pthread_t t;
	int p[2] = { -1, -1 };

	if (!j || pipe2(p, O_CLOEXEC) || !(resp = MHD_create_response_from_pipe(p[0])))
		goto fail;
	*j = (struct stream_job){ w->stream, w->stream_free, w->stream_arg, p[1] };
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, stream_thread, j)) {
		pthread_attr_destroy(&attr);
		MHD_destroy_response(resp);	/* it closes p[0] */
		p[0] = -1;
		resp = NULL;
		goto fail;
	}
	pthread_attr_destroy(&attr);
	w->stream = NULL;	/* the thread has it now */
	return resp;
fail:
	free(j);
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	return NULL;
}

/* docker's hijacked attach: after the 101, the connection is the stream's (this is its thread). */
static void on_upgraded(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra_in,
			size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct upload *u = con_cls;

	if (u && u->up.stream) {
		u->up.stream(u->up.stream_arg, sock);
		u->up.stream_free(u->up.stream_arg);
		u->up.stream = NULL;
	}
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct upload *u, struct api_response *w)
{
	struct MHD_Response *resp;
	const char *type = w->content_type;
	enum MHD_Result ret;
	struct stat st;

	if (w->json) {
		const char *s = json_object_to_json_string_ext(w->json, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
		size_t n = strlen(s);

		free(w->raw);
		w->raw = malloc(n + 1);
		if (w->raw) {
			memcpy(w->raw, s, n);
			w->raw[n] = '\n';
		}
		w->raw_len = w->raw ? n + 1 : 0;
		type = "application/json";
	}
	if (w->stream && w->upgrade) {
		resp = MHD_create_response_for_upgrade(on_upgraded, NULL);
		if (resp) {
			/* libmicrohttpd adds "Connection: Upgrade" itself */
			MHD_add_response_header(resp, "Upgrade", "tcp");
			u->up = *w;	/* on_upgraded runs it, on_completed frees it if it never ran */
			w->stream = NULL;
		}
	} else if (w->stream) {
		resp = stream_response(w);
	} else if (w->raw) {
		resp = MHD_create_response_from_buffer(w->raw_len, w->raw, MHD_RESPMEM_MUST_FREE);
		w->raw = NULL;
	} else if (w->fd >= 0 && fstat(w->fd, &st) == 0) {
		resp = MHD_create_response_from_fd(st.st_size, w->fd);	/* it closes the fd */
		if (resp)
			w->fd = -1;
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	if (type)
		MHD_add_response_header(resp, "Content-Type", type);
	if (w->header_name)
		MHD_add_response_header(resp, w->header_name, w->header_value);
	MHD_add_response_header(resp, "Api-Version", API_VERSION);
	MHD_add_response_header(resp, "Docker-Experimental", "false");
	MHD_add_response_header(resp, "Ostype", "linux");
	MHD_add_response_header(resp, "Server", "vmm");
	ret = MHD_queue_response(c, w->status ? w->status : 500, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The route for a request whose headers just arrived: found now, so an upload goes where it should. */
static void route_request(struct upload *u, const char *url)
{
	if (api_split_version(url, &u->r.path, u->ver, &u->err))
		return;
	u->route = api_route_find(u->r.method, u->r.path, u->args, sizeof(u->args), u->r.args, &u->known);
}

static void serve(const struct api_ctx *ctx, struct upload *u, struct api_response *w)
{
	if (err_is_set(&u->err))
		api_reply_error(w, 400, "%s", u->err.msg);
	else if (u->too_big)
		api_reply_error(w, 413, "%s: request body over %llu bytes", u->r.path,
				(unsigned long long)(u->route && (u->route->flags & API_ROUTE_UPLOAD) ?
						     API_UPLOAD_MAX : API_BODY_MAX));
	else if (!u->route && u->known)
		api_reply_error(w, 405, "%s %s: method not allowed", u->r.method, u->r.path);
	else if (!u->route)
		api_reply_error(w, 404, "page not found: %s %s is not served by vmm (docs/docker-api.md)",
				u->r.method, u->r.path);
	else
		u->route->fn(ctx, &u->r, w);
}

/* Take a piece of the body: into memory, or into the spool file of an upload route. */
static int take_body(struct api_server *s, struct upload *u, const char *data, size_t n)
{
	bool spool = u->route && (u->route->flags & API_ROUTE_UPLOAD);

	if (u->too_big || u->len + n > (spool ? API_UPLOAD_MAX : API_BODY_MAX)) {
		u->too_big = true;
		return 0;
	}
	if (spool) {
		if (u->fd < 0 && (u->fd = api_tmpfile(s->tmp_dir, &u->err)) < 0)
			return 0;	/* replied as a 400 with the reason */
		if (write_full(u->fd, data, n) < 0) {
			err_sys(&u->err, -errno, "%s: spooling the request body", s->tmp_dir);
			return 0;
		}
	} else {
		char *b = realloc(u->body, u->len + n + 1);

		if (!b)
			return -ENOMEM;
		memcpy(b + u->len, data, n);
		u->body = b;
		b[u->len + n] = 0;
	}
	u->len += n;
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct api_server *s = cls;
	struct upload *u = *con_cls;
	struct api_response w = { .fd = -1 };
	enum MHD_Result ret;

	if (!u) {
		if (!(u = calloc(1, sizeof(*u))))
			return MHD_NO;
		u->fd = -1;
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		u->r = (struct api_request){ .method = method, .query = query, .query_all = query_all,
					     .header = header,
					     .conn = c, .conn_fd = ci ? ci->connect_fd : -1, .body_fd = -1,
					     .tmp_dir = s->tmp_dir };
		route_request(u, url);
		*con_cls = u;
		atomic_fetch_add(&s->active, 1);
		return MHD_YES;
	}
	if (*upload_size) {
		if (take_body(s, u, upload_data, *upload_size))
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	u->r.body = u->body;
	u->r.body_len = u->len;
	u->r.body_fd = u->fd;
	if (u->fd >= 0 && lseek(u->fd, 0, SEEK_SET) < 0)
		err_sys(&u->err, -errno, "%s: the spooled request body", s->tmp_dir);
	serve(&s->ctx, u, &w);
	ret = send_response(c, u, &w);
	if (w.stream)	/* it never started */
		w.stream_free(w.stream_arg);
	json_object_put(w.json);
	free(w.raw);
	if (w.fd >= 0)
		close(w.fd);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_server *s = cls;
	struct upload *u = *con_cls;

	if (!u)
		return;
	free(u->body);
	if (u->fd >= 0)
		close(u->fd);
	if (u->up.stream)
		u->up.stream_free(u->up.stream_arg);
	free(u);
	*con_cls = NULL;
	atomic_store(&s->last, (long)(monotonic_ns() / 1000000000));
	atomic_fetch_sub(&s->active, 1);
}

/* unix:///PATH: a stale socket file is replaced; a live one (another service) is not. */
static int listen_unix(struct api_server *s, const char *path, struct error *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, probe, ret;
	mode_t old;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, -ENAMETOOLONG, "%s: socket path too long (at most %zu bytes)", path,
			       sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return err_set(e, -EEXIST, "%s: exists and is not a socket; give another --listen path", path);
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			return err_set(e, -EADDRINUSE, "%s: another service listens there; stop it or give another "
				       "--listen path", path);
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, -errno, "socket");
	/* user-only from the start (umask: the service is one thread yet); root's then opens to its group */
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret || chmod(path, geteuid() ? 0600 : 0660) ||
	    listen(fd, 128)) {
		int err = -errno;

		close(fd);
		unlink(path);
		return err_sys(e, err, "%s", path);
	}
	s->fd = fd;
	snprintf(s->unix_path, sizeof(s->unix_path), "%s", path);
	return 0;
}

/* tcp://HOST:PORT: loopback only unless any (an explicit flag). */
static int listen_tcp(struct api_server *s, const char *hostport, bool any, struct error *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(hostport, ':');
	unsigned long port;
	char *end;
	int fd, one = 1;

	if (!colon || (size_t)(colon - hostport) >= sizeof(host))
		return err_set(e, -EINVAL, "tcp://%s: want tcp://127.0.0.1:PORT", hostport);
	memcpy(host, hostport, colon - hostport);
	host[colon - hostport] = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || !colon[1] || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return err_set(e, -EINVAL, "tcp://%s: want tcp://IPv4:PORT (like tcp://127.0.0.1:2375)", hostport);
	if (!any && (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
		return err_set(e, -EPERM, "tcp://%s: not a loopback address: the API has no authentication, so "
			       "anyone who reaches it controls vmm; add --allow-remote to mean it", hostport);
	sa.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, -errno, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 128)) {
		int err = -errno;

		close(fd);
		return err_sys(e, err, "tcp://%s", hostport);
	}
	s->fd = fd;
	return 0;
}

int api_server_start(const struct api_ctx *ctx, const char *spec, bool tcp_any,
		     struct api_server **out, struct error *e)
{
	struct api_server *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return err_set(e, -ENOMEM, "out of memory");
	s->ctx = *ctx;
	api_execs_init(&s->execs);
	s->ctx.execs = &s->execs;
	s->fd = -1;
	snprintf(s->tmp_dir, sizeof(s->tmp_dir), "%s/tmp", ctx->paths.root);
	atomic_store(&s->last, (long)(monotonic_ns() / 1000000000));
	if (!strncmp(spec, "unix://", 7))
		ret = listen_unix(s, spec + 7, e);
	else if (!strncmp(spec, "tcp://", 6))
		ret = listen_tcp(s, spec + 6, tcp_any, e);
	else
		ret = err_set(e, -EINVAL, "--listen %s: want unix:///PATH or tcp://127.0.0.1:PORT", spec);
	if (ret) {
		api_execs_destroy(&s->execs);
		free(s);
		return ret;
	}
	s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_UPGRADE,
				0, NULL, NULL,
				on_request, s, MHD_OPTION_LISTEN_SOCKET, s->fd,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_CONNECTION_LIMIT, 256U, MHD_OPTION_CONNECTION_TIMEOUT, 0U,
				MHD_OPTION_END);
	if (!s->d) {
		api_server_stop(s);
		return err_set(e, -EIO, "%s: the HTTP server (libmicrohttpd) did not start", spec);
	}
	*out = s;
	return 0;
}

long api_server_idle(struct api_server *s)
{
	return atomic_load(&s->active) ? 0 : (long)(monotonic_ns() / 1000000000) - atomic_load(&s->last);
}

void api_server_stop(struct api_server *s)
{
	if (!s)
		return;
	if (s->d)
		MHD_stop_daemon(s->d);
	if (s->fd >= 0)
		close(s->fd);
	if (s->unix_path[0])
		unlink(s->unix_path);
	api_execs_destroy(&s->execs);
	free(s);
}
