/*
 * GET /containers/{id}/stats: engine_stats (vmm/engine/client.h) in docker's
 * shape, once (stream=false) or a line a second. The docker CLI takes the CPU
 * share from cpu_stats - precpu_stats over the host's CPU time: the first
 * sample's precpu is the VM's start (so `docker stats --no-stream` answers at
 * once, with the share since then), later ones the previous sample.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"
#include "vmm/base/util.h"
#include "vmm/engine/client.h"
#include "vmm/engine/container-json.h"
#include "vmm/engine/container.h"

struct stats_job {
	const struct api_ctx *ctx;
	char ref[256];
	int conn_fd;
	uint64_t pre_cpu, pre_system;	/* the previous sample's; 0: none yet */
	int64_t pre_read;
};

/* The host's CPU time, all CPUs (/proc/stat's first line), in ns. */
static uint64_t system_ns(void)
{
	unsigned long long v[8] = { 0 };
	char *buf = NULL;
	size_t len;
	uint64_t sum = 0;

	if (!read_file(AT_FDCWD, "/proc/stat", 1 << 20, &buf, &len))
		sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		       &v[4], &v[5], &v[6], &v[7]);
	free(buf);
	for (int i = 0; i < 8; i++)
		sum += v[i];
	return sum * (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
}

static json_object *cpu_json(uint64_t total, uint64_t system, unsigned cpus)
{
	json_object *o = json_object_new_object(), *u = json_object_new_object(), *t = json_object_new_object();

	json_add_u64(u, "total_usage", total);
	json_add_u64(u, "usage_in_kernelmode", 0);
	json_add_u64(u, "usage_in_usermode", 0);
	json_object_object_add(o, "cpu_usage", u);
	json_add_u64(o, "system_cpu_usage", system);
	json_add_u64(o, "online_cpus", cpus);
	json_add_u64(t, "periods", 0);
	json_add_u64(t, "throttled_periods", 0);
	json_add_u64(t, "throttled_time", 0);
	json_object_object_add(o, "throttling_data", t);
	return o;
}

static json_object *blkio_entry(const char *op, uint64_t v)
{
	json_object *o = json_object_new_object();

	json_add_u64(o, "major", 254);	/* virtio-blk */
	json_add_u64(o, "minor", 0);
	json_object_object_add(o, "op", json_object_new_string(op));
	json_add_u64(o, "value", v);
	return o;
}

/* One sample in docker's shape; st NULL: the container is not running (zeros). */
static json_object *docker_stats(struct stats_job *j, const struct container *ct,
				 const struct engine_stats *st)
{
	static const struct engine_stats none;
	json_object *o = json_object_new_object(), *x, *net, *blk;
	const struct engine_stats *s = st ? st : &none;
	unsigned cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int64_t now = realtime_ns();
	uint64_t system = system_ns();
	char name[300];

	if (st && !j->pre_system) {	/* the first: since the VM started */
		uint64_t since = s->uptime_ns * cpus;

		j->pre_system = system > since ? system - since : 0;
		j->pre_read = now - (int64_t)s->uptime_ns;
	}
	json_object_object_add(o, "read", json_time_ns(now));
	json_object_object_add(o, "preread", json_time_ns(st ? j->pre_read : 0));
	snprintf(name, sizeof(name), "/%s", ct->cfg.name);
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "id", json_object_new_string(ct->cfg.id));
	x = json_object_new_object();
	json_add_u64(x, "current", s->pids);
	json_object_object_add(o, "pids_stats", x);
	json_add_u64(o, "num_procs", 0);
	json_object_object_add(o, "cpu_stats", cpu_json(s->cpu_ns, st ? system : 0, st ? cpus : 0));
	json_object_object_add(o, "precpu_stats", cpu_json(j->pre_cpu, j->pre_system, st ? cpus : 0));
	x = json_object_new_object();
	if (s->guest) {
		json_add_u64(x, "usage", s->mem);
		json_add_u64(x, "limit", s->mem_max);
		json_object_object_add(x, "stats", json_object_new_object());
	}
	json_object_object_add(o, "memory_stats", x);
	x = json_object_new_object();
	blk = json_object_new_array();
	if (st) {
		json_object_array_add(blk, blkio_entry("read", s->blk_read));
		json_object_array_add(blk, blkio_entry("write", s->blk_write));
	}
	json_object_object_add(x, "io_service_bytes_recursive", blk);
	json_object_object_add(o, "blkio_stats", x);
	if (st) {
		x = json_object_new_object();
		net = json_object_new_object();
		json_add_u64(net, "rx_bytes", s->net_rx);
		json_add_u64(net, "tx_bytes", s->net_tx);
		json_object_object_add(x, "eth0", net);
		json_object_object_add(o, "networks", x);
	}
	json_object_object_add(o, "storage_stats", json_object_new_object());
	if (st) {
		j->pre_cpu = s->cpu_ns;
		j->pre_system = system;
		j->pre_read = now;
	}
	return o;
}

/* A sample: 0 with *out, or -errno with e (-ENOENT: no such container). */
static int sample(struct stats_job *j, json_object **out, struct error *e)
{
	struct engine_stats st;
	struct container *ct;
	bool got = false;
	int ret = container_open(j->ctx->paths.root, j->ref, &ct, e);

	if (ret)
		return ret;
	if (container_is_running(ct)) {
		ret = engine_stats(&j->ctx->paths, j->ref, &st, e);
		got = !ret;
		if (ret == -ESRCH || ret == -EAGAIN)	/* it stopped meanwhile, or restarts */
			ret = 0;
	}
	if (!ret)
		*out = docker_stats(j, ct, got ? &st : NULL);
	container_free(ct);
	return ret;
}

static void stats_stream(void *arg, int fd)
{
	struct stats_job *j = arg;

	while (!api_client_gone(j->conn_fd, false)) {
		struct error e = { 0 };
		json_object *o = NULL;
		const char *s;
		int bad;

		if (sample(j, &o, &e))
			break;
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		bad = write_full(fd, s, strlen(s)) < 0 || write_full(fd, "\n", 1) < 0;
		json_object_put(o);
		if (bad)
			break;
		poll(NULL, 0, 1000);	/* docker's period */
	}
}

void api_container_stats(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct stats_job *j = calloc(1, sizeof(*j));
	struct error e = { 0 };
	json_object *o = NULL;

	if (!j) {
		api_reply_error(w, 500, "out of memory");
		return;
	}
	j->ctx = ctx;
	j->conn_fd = r->conn_fd;
	snprintf(j->ref, sizeof(j->ref), "%s", r->args[0]);
	/* The first sample now: an unknown container is a 404, not an empty stream. */
	if (sample(j, &o, &e)) {
		free(j);
		api_reply_err(w, &e);
		return;
	}
	if (!api_query_bool(r, "stream", true) || api_query_bool(r, "one-shot", false)) {
		free(j);
		api_reply_json(w, 200, o);
		return;
	}
	json_object_put(o);
	j->pre_cpu = j->pre_system = 0;	/* the stream's first line is since the start too */
	w->status = 200;
	w->content_type = "application/json";
	w->stream = stats_stream;
	w->stream_free = free;
	w->stream_arg = j;
}
