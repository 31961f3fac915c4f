/* /containers: list, create, inspect, start, stop, restart, kill, pause, unpause, wait, remove, rename. */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api/api.h"
#include "vmm/api/create-decode.h"
#include "vmm/api/spawn.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"
#include "vmm/base/util.h"
#include "vmm/engine/client.h"
#include "vmm/engine/container-filter.h"
#include "vmm/engine/filters.h"
#include "vmm/engine/config-scan.h"
#include "vmm/engine/container-json.h"
#include "vmm/engine/container.h"
#include "vmm/engine/create.h"
#include "vmm/engine/lifecycle.h"
#include "vmm/engine/update.h"
#include "vmm/vm.h"

/* docker ps's Ports: what is bound while it runs. */
static json_object *ports_json(const struct container_state *st)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; st->status == CONTAINER_RUNNING && i < st->nports; i++) {
		const struct port_binding *p = &st->ports[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "IP", json_object_new_string(p->host_ip[0] ? p->host_ip : "0.0.0.0"));
		json_object_object_add(o, "PrivatePort", json_object_new_int(p->container_port));
		json_object_object_add(o, "PublicPort", json_object_new_int(p->host_port));
		json_object_object_add(o, "Type", json_object_new_string(p->udp ? "udp" : "tcp"));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *summary_json(const struct container *ct, const struct container_state *st)
{
	const struct container_config *c = &ct->cfg;
	json_object *o = json_object_new_object(), *names = json_object_new_array();
	json_object *host = json_object_new_object(), *net = json_object_new_object();
	char name[160], status[96], mode[32], cmd[4096];
	size_t n = 0;

	snprintf(name, sizeof(name), "/%s", c->name);
	json_object_array_add(names, json_object_new_string(name));
	container_status_text(st, status, sizeof(status));
	netcfg_mode_string(&c->net, mode, sizeof(mode));
	cmd[0] = 0;
	for (size_t i = 0; c->argv && c->argv[i] && n < sizeof(cmd); i++)
		n += snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i ? " " : "", c->argv[i]);
	json_object_object_add(o, "Id", json_object_new_string(c->id));
	json_object_object_add(o, "Names", names);
	json_object_object_add(o, "Image", json_object_new_string(c->image_name ? c->image_name : c->image));
	json_object_object_add(o, "ImageID", json_object_new_string(c->image));
	json_object_object_add(o, "Command", json_object_new_string(cmd));
	json_object_object_add(o, "Created", json_object_new_int64(c->created));
	json_object_object_add(o, "Ports", ports_json(st));
	json_object_object_add(o, "Labels", c->labels ? labels_to_json((const char *const *)c->labels, NULL) :
				json_object_new_object());
	json_object_object_add(o, "State", json_object_new_string(container_state_name(st)));
	json_object_object_add(o, "Status", json_object_new_string(status));
	json_object_object_add(host, "NetworkMode", json_object_new_string(mode));
	json_object_object_add(o, "HostConfig", host);
	json_object_object_add(net, "Networks", container_networks_json(ct, st));
	json_object_object_add(o, "NetworkSettings", net);
	json_object_object_add(o, "Mounts", container_mounts_docker_json(c->mounts, c->nmounts));
	return o;
}

void api_containers_list(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	bool all = api_query_bool(r, "all", false);
	const char *limit_s = r->query(r, "limit");
	long limit = limit_s ? strtol(limit_s, NULL, 10) : -1;
	struct filters filter = { .keys = container_filter_keys };
	struct container **list;
	struct error e = { 0 };
	json_object *out;
	size_t n;

	if (api_filters(r, &filter, &e) || container_filter_check(ctx->paths.root, &filter, &e) ||
	    container_list(ctx->paths.root, &list, &n, &e)) {
		filters_free(&filter);
		api_reply_err(w, &e);
		return;
	}
	if (limit > 0)
		all = true;
	out = json_object_new_array();
	for (size_t i = 0; i < n && (limit <= 0 || (long)json_object_array_length(out) < limit); i++) {
		struct container_state st;

		container_effective_state(list[i], &st);
		if (container_wanted(&filter, list[i], &st, all))
			json_object_array_add(out, summary_json(list[i], &st));
	}
	container_list_free(list, n);
	filters_free(&filter);
	api_reply_json(w, 200, out);
}

void api_container_inspect(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct container *ct;
	struct error e = { 0 };

	if (container_open(ctx->paths.root, r->args[0], &ct, &e)) {
		api_reply_err(w, &e);
		return;
	}
	api_reply_json(w, 200, container_to_json(ct));
	container_free(ct);
}

void api_container_create(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *body = api_body_object(r, w), *o;
	struct container *ct = NULL;
	struct error e = { 0 };
	struct api_create a;

	if (!body)
		return;
	if (api_decode_create(body, r->query(r, "name"), &a, &e) ||
	    engine_create(&ctx->paths, &a.c, &ct, &e)) {
		api_reply_err(w, &e);
	} else {
		o = json_object_new_object();
		json_object_object_add(o, "Id", json_object_new_string(ct->cfg.id));
		json_object_object_add(o, "Warnings", json_object_new_array());
		api_reply_json(w, 201, o);
	}
	container_free(ct);
	api_create_free(&a);
	json_object_put(body);
}

/* Is ref running? -errno with a reply when it does not exist. */
static int running(const struct api_ctx *ctx, const char *ref, struct api_response *w)
{
	struct container *ct;
	struct error e = { 0 };
	int ret;

	if (container_open(ctx->paths.root, ref, &ct, &e)) {
		api_reply_err(w, &e);
		return e.code;
	}
	ret = container_is_running(ct);
	container_free(ct);
	return ret;
}

/* Start ref in its own vmm process (`vmm start`), as the CLI would. */
static void start(const struct api_ctx *ctx, const char *ref, struct api_response *w)
{
	struct error e = { 0 };

	if (api_spawn_vmm(ctx, "start", ref, &e))
		api_reply_err(w, &e);
	else
		api_reply_empty(w, 204);
}

void api_container_start(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	int ret = running(ctx, r->args[0], w);

	if (ret < 0)
		return;
	if (ret)
		api_reply_empty(w, 304);	/* docker: already started */
	else
		start(ctx, r->args[0], w);
}

/* ?t=SECONDS (docker's stop timeout), default 10. */
static uint64_t stop_timeout(const struct api_request *r)
{
	const char *t = r->query(r, "t");
	uint64_t v;

	return t && !parse_uint(t, 1, 3600, &v) ? v : 10;
}

void api_container_stop(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct error e = { 0 };
	int ret = running(ctx, r->args[0], w);

	if (ret < 0)
		return;
	if (!ret)
		api_reply_empty(w, 304);	/* docker: already stopped */
	else if (engine_stop(&ctx->paths, r->args[0], stop_timeout(r), &e))
		api_reply_err(w, &e);
	else
		api_reply_empty(w, 204);
}

void api_container_restart(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct error e = { 0 };

	if (running(ctx, r->args[0], w) < 0)
		return;
	if (engine_stop(&ctx->paths, r->args[0], stop_timeout(r), &e))
		api_reply_err(w, &e);
	else
		start(ctx, r->args[0], w);
}

void api_container_kill(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	const char *s = r->query(r, "signal");
	struct error e = { 0 };
	int sig = s && *s ? parse_signal(s) : 9;

	if (!sig)
		api_reply_error(w, 400, "signal %s: not a signal (e.g. KILL, TERM, HUP, 9)", s);
	else if (engine_kill(&ctx->paths, r->args[0], sig, &e))
		api_reply_err(w, &e);
	else
		api_reply_empty(w, 204);
}

/*
 * docker update: {"RestartPolicy", "Memory", "NanoCpus", "PidsLimit", ...}. The docker CLI sends
 * every resource with 0 for "unchanged"; the others (CpuShares, Blkio...) have no meaning in a
 * micro-VM and are ignored when 0, refused otherwise.
 */
void api_container_update(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	static const char *const unsupported[] = {
		"CpuShares", "CpuPeriod", "CpuRealtimePeriod", "CpuRealtimeRuntime", "BlkioWeight",
		"MemoryReservation", "MemorySwap", "KernelMemory", "CpusetCpus", "CpusetMems",
	};
	json_object *body = api_body_object(r, w), *v, *out;
	struct update_opts o = { 0 };
	struct error e = { 0 };
	uint64_t n;
	bool present;

	if (!body)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
		if (json_object_object_get_ex(body, unsupported[i], &v) && v &&
		    !(json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0) &&
		    !(json_object_is_type(v, json_type_string) && !*json_object_get_string(v))) {
			err_set(&e, -EINVAL, "%s: not served: a micro-VM's limits are Memory, NanoCpus and PidsLimit",
				unsupported[i]);
			goto fail;
		}
	if (api_restart_policy(body, &o.restart, &o.restart_set, &e) ||
	    jget_u64(body, "Memory", false, INT64_MAX, "", &o.memory, &present, &e) ||
	    jget_u64(body, "NanoCpus", false, (uint64_t)VM_MAX_CPUS * 1000000000ULL, "", &n, &present, &e))
		goto fail;
	if (o.memory && o.memory < CREATE_MEMORY_MIN) {
		err_set(&e, -EINVAL, "Memory: the least is 6 MiB");
		goto fail;
	}
	o.cpus = present ? (double)n / 1e9 : 0;
	if (api_pids_limit(body, "", &o.pids_limit, &o.pids_set, &e) ||
	    engine_update(&ctx->paths, r->args[0], &o, &e))
		goto fail;
	out = json_object_new_object();
	json_object_object_add(out, "Warnings", json_object_new_array());
	api_reply_json(w, 200, out);
	json_object_put(body);
	return;
fail:
	api_reply_err(w, &e);
	json_object_put(body);
}

/* ?h=ROWS&w=COLS: the terminal of the container's process (a tty container's). */
void api_container_resize(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	const char *hs = r->query(r, "h"), *ws = r->query(r, "w");
	struct error e = { 0 };
	unsigned long h, wd;
	char *end1 = NULL, *end2 = NULL;

	h = hs ? strtoul(hs, &end1, 10) : 0;
	wd = ws ? strtoul(ws, &end2, 10) : 0;
	if (!hs || !ws || !*hs || !*ws || *end1 || *end2 || h > 65535 || wd > 65535)
		api_reply_error(w, 400, "resize: want h and w, the rows and columns (0 to 65535)");
	else if (engine_resize(&ctx->paths, r->args[0], (unsigned)h, (unsigned)wd, &e))
		api_reply_err(w, &e);
	else
		api_reply_empty(w, 200);
}

static void pause_reply(const struct api_ctx *ctx, const struct api_request *r,
			struct api_response *w, bool pause)
{
	struct error e = { 0 };

	if (engine_pause(&ctx->paths, r->args[0], pause, &e))
		api_reply_err(w, &e);
	else
		api_reply_empty(w, 204);
}

void api_container_pause(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	pause_reply(ctx, r, w, true);
}

void api_container_unpause(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	pause_reply(ctx, r, w, false);
}

struct wait_job {
	const struct api_ctx *ctx;
	char *ref;
	bool next;
	int conn_fd;
};

static bool client_gone(void *arg)
{
	const struct wait_job *j = arg;

	return api_client_gone(j->conn_fd, true);
}

/* The wait itself, once the 200 went out (docker run asks before it starts the container); a client
 * that leaves ends it. */
static void wait_stream(void *arg, int fd)
{
	struct wait_job *j = arg;
	json_object *o = json_object_new_object(), *err = NULL;
	struct error e = { 0 };
	const char *s;
	int code = 0;

	if (engine_wait_exit(&j->ctx->paths, j->ref, j->next, client_gone, j, &code, &e)) {
		err = json_object_new_object();
		json_object_object_add(err, "Message", json_object_new_string(e.msg));
		code = -1;
	}
	json_object_object_add(o, "StatusCode", json_object_new_int(code));
	json_object_object_add(o, "Error", err);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (write_full(fd, s, strlen(s)) == 0)
		write_full(fd, "\n", 1);
	json_object_put(o);
}

static void wait_free(void *arg)
{
	struct wait_job *j = arg;

	free(j->ref);
	free(j);
}

void api_container_wait(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	const char *cond = r->query(r, "condition");
	bool next = cond && (!strcmp(cond, "next-exit") || !strcmp(cond, "removed"));
	struct wait_job *j;
	struct container *ct;
	struct error e = { 0 };

	if (cond && *cond && !next && strcmp(cond, "not-running")) {
		api_reply_error(w, 400, "condition %s: want not-running, next-exit or removed", cond);
		return;
	}
	if (container_open(ctx->paths.root, r->args[0], &ct, &e)) {
		api_reply_err(w, &e);
		return;
	}
	container_free(ct);
	/* The headers go out now and the status when it stops: docker run waits for the headers
	 * before it starts the container. */
	if (!(j = calloc(1, sizeof(*j))) || !(j->ref = strdup(r->args[0]))) {
		free(j);
		api_reply_error(w, 500, "out of memory");
		return;
	}
	j->ctx = ctx;
	j->next = next;
	j->conn_fd = r->conn_fd;
	w->status = 200;
	w->content_type = "application/json";
	w->stream = wait_stream;
	w->stream_free = wait_free;
	w->stream_arg = j;
}

static void add_proc(void *arg, const struct engine_proc *p)
{
	json_object *row = json_object_new_array();
	struct engine_proc_text t;
	char pid[16];

	engine_proc_text(p, &t);
	snprintf(pid, sizeof(pid), "%d", p->pid);
	json_object_array_add(row, json_object_new_string(pid));
	json_object_array_add(row, json_object_new_string(t.user));
	json_object_array_add(row, json_object_new_string(t.time));
	json_object_array_add(row, json_object_new_string(t.cmd));
	json_object_array_add(arg, row);
}

/* docker top: vmm's columns (the guest has no ps to take ps_args). */
void api_container_top(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *o, *procs = json_object_new_array(), *titles = json_object_new_array();
	static const char *const cols[] = { "PID", "USER", "TIME", "COMMAND" };
	struct error e = { 0 };

	if (engine_top(&ctx->paths, r->args[0], add_proc, procs, &e)) {
		json_object_put(procs);
		json_object_put(titles);
		api_reply_err(w, &e);
		return;
	}
	for (size_t i = 0; i < 4; i++)
		json_object_array_add(titles, json_object_new_string(cols[i]));
	o = json_object_new_object();
	json_object_object_add(o, "Titles", titles);
	json_object_object_add(o, "Processes", procs);
	api_reply_json(w, 200, o);
}

void api_container_delete(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct error e = { 0 };

	if (engine_remove(&ctx->paths, r->args[0], api_query_bool(r, "force", false),
			  api_query_bool(r, "v", false), &e))
		api_reply_err(w, &e);
	else
		api_reply_empty(w, 204);
}

void api_container_rename(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	const char *name = r->query(r, "name");
	struct error e = { 0 };

	if (!name || !*name)
		api_reply_error(w, 400, "rename needs ?name=NEW_NAME");
	else if (container_rename(ctx->paths.root, r->args[0], name, &e))
		api_reply_err(w, &e);
	else
		api_reply_empty(w, 204);
}
