/*
 * The Docker Engine API (docs/docker-api.md): `vmm system service` serves it
 * over HTTP on a unix socket (or loopback TCP) so the docker CLI,
 * docker-compose and docker-py drive vmm unchanged.
 *
 * A front door like the CLI: the handlers call the engine, never a second
 * implementation of it. The HTTP side (libmicrohttpd) is server.c; routing
 * and the decoding of hostile request bodies are plain functions (route.c,
 * create-decode.c) that the unit tests and the fuzz target call directly.
 */
#ifndef VMM_API_API_H
#define VMM_API_API_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "vmm/engine/paths.h"

struct error;
struct api_execs;
struct filters;

#define API_VERSION	"1.41"	/* what we serve: Docker 20.10's */
#define API_MIN_VERSION	"1.24"	/* the oldest a client may ask for */
#define API_BODY_MAX	(1u << 20)	/* a JSON request body */
#define API_UPLOAD_MAX	(64ULL << 30)	/* a tar body (images/load), spooled to a file */
#define API_ARGS_MAX	4

/* The service's immutable settings, shared by every connection's thread. */
struct api_ctx {
	struct paths paths;
	const char *self_exe;	/* this vmm binary: containers start in their own vmm process */
	struct api_execs *execs;	/* exec instances (exec.c), the server's */
};

struct api_request {
	const char *method;		/* "GET", "POST", "DELETE", "HEAD", "PUT" */
	const char *path;		/* without the /vX.Y prefix */
	const char *args[API_ARGS_MAX];	/* the path's variable parts, in order */
	const char *(*query)(const struct api_request *r, const char *key);	/* NULL when absent */
	/* Every value of a repeated key (?names=a&names=b): how many, at most max into out. */
	size_t (*query_all)(const struct api_request *r, const char *key, const char **out, size_t max);
	/* A request header (the name in any case), NULL when absent. */
	const char *(*header)(const struct api_request *r, const char *name);
	void *conn;			/* for query() and header() */
	int conn_fd;			/* the client's connection, to notice it leave */
	const char *body;
	size_t body_len;
	int body_fd;			/* API_ROUTE_UPLOAD routes: the body in an unlinked file at offset 0 */
	const char *tmp_dir;		/* where bodies and large replies are spooled ($VMM_ROOT/tmp) */
};

struct api_response {
	int status;
	json_object *json;	/* owned; the body as application/json */
	char *raw;		/* owned; a body of raw_len bytes of content_type */
	size_t raw_len;
	const char *content_type;
	int fd;			/* owned: a body read from this file from offset 0 to its end, -1: none */
	/*
	 * Or a stream (logs, attach): stream(stream_arg, fd) writes the body to
	 * fd until it is done or a write fails, then stream_free(stream_arg).
	 * It runs in a thread of its own; with upgrade, fd is the connection
	 * itself after a 101 Switching Protocols (docker's hijacked attach).
	 */
	void (*stream)(void *arg, int fd);
	void (*stream_free)(void *arg);
	void *stream_arg;
	bool upgrade;
	const char *header_name;	/* one more header (docker's X-Docker-Container-Path-Stat), or NULL */
	char header_value[1024];
};

typedef void api_handler(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w);

#define API_ROUTE_UPLOAD	1	/* the body may be large: spooled to body_fd, not kept in memory */

struct api_route {
	const char *method;
	/*
	 * Segments: a literal, "{}" (one segment: an ID or name) or "{*}" (one or
	 * more segments: an image reference with slashes, followed only by literals).
	 */
	const char *pattern;
	api_handler *fn;
	unsigned flags;
};

/*
 * Strip "/vX.Y" from url. 0 with *path after it and ver "X.Y" (or "" when the
 * client named none); -EINVAL when the version is not a version, -ERANGE when
 * it is outside what we serve. e says which.
 */
int api_split_version(const char *url, const char **path, char ver[16], struct error *e);
/*
 * Match path against pattern; the variable parts are copied into buf (NUL
 * separated, len bytes) and pointed to by args. true on a match.
 */
bool api_route_match(const char *pattern, const char *path, char *buf, size_t len,
		     const char *args[API_ARGS_MAX]);
/* The route for method and path (args filled as above); NULL if none. *path_known: another method would match. */
const struct api_route *api_route_find(const char *method, const char *path, char *buf, size_t len,
				       const char *args[API_ARGS_MAX], bool *path_known);

/* Responses. The error forms carry docker's {"message": ...}. */
void api_reply_json(struct api_response *w, int status, json_object *o);
void api_reply_error(struct api_response *w, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An engine error: its code picks the status (404, 409, 400 or 500). */
void api_reply_err(struct api_response *w, const struct error *e);
void api_reply_empty(struct api_response *w, int status);
/* An unlinked file in dir to spool a body into: an fd, or -errno with e. */
int api_tmpfile(const char *dir, struct error *e);

/* The request body as one JSON object (strict, bounded); NULL with a 400 reply. */
json_object *api_body_object(const struct api_request *r, struct api_response *w);
/* Has the client of fd (a connection) hung up? With eof_too, a client done sending counts too. */
bool api_client_gone(int fd, bool eof_too);
/* ?repo=R&tag=T as "R:T" in buf (commit, import); NULL without a repo. */
const char *api_repo_tag(const struct api_request *r, char *buf, size_t len);
/* Every ?changes= (commit, import) into out (max entries, NULL-terminated: max + 1 slots); NULL: none. */
char *const *api_changes(const struct api_request *r, const char **out, size_t max);
/* A boolean query parameter ("1", "true", "True"); absent: dflt. */
bool api_query_bool(const struct api_request *r, const char *key, bool dflt);
/*
 * The "filters" query parameter ({"key":["v",...]} or the older {"key":{"v":true}}) added
 * to out, whose keys are the ones allowed: docker's "invalid filter 'k'" for another.
 */
int api_filters(const struct api_request *r, struct filters *out, struct error *e);

/* The handlers, by area. */
api_handler api_ping, api_version, api_info, api_events, api_auth;
api_handler api_containers_list, api_container_create, api_container_inspect, api_container_start,
	api_container_stop, api_container_restart, api_container_kill, api_container_wait,
	api_container_pause, api_container_unpause,
	api_container_delete, api_container_rename, api_container_logs, api_container_attach,
	api_container_archive_get, api_container_archive_put,
	api_container_top, api_container_stats;
api_handler api_images_list, api_image_inspect, api_image_history, api_image_tag, api_image_delete, api_image_pull,
	api_image_push, api_image_save, api_images_save, api_images_load, api_image_import, api_build,
	api_container_changes, api_container_export, api_commit;
api_handler api_volumes_list, api_volume_create, api_volume_inspect, api_volume_delete;
api_handler api_networks_list, api_network_create, api_network_inspect, api_network_delete;
api_handler api_network_connect, api_network_disconnect, api_container_resize, api_container_update;
api_handler api_exec_create, api_exec_start, api_exec_inspect, api_exec_resize;
api_handler api_containers_prune, api_images_prune, api_volumes_prune, api_networks_prune;

/* The server: listen on spec (unix:///PATH or tcp://127.0.0.1:PORT) and serve. */
struct api_server;
int api_server_start(const struct api_ctx *ctx, const char *spec, bool tcp_any,
		     struct api_server **out, struct error *e);
/* Seconds since the last request ended, 0 while one is being served. */
long api_server_idle(struct api_server *s);
void api_server_stop(struct api_server *s);

#endif
