/* GET /events: the engine's container events (engine/events.h) as docker streams them, a JSON object a line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api/api.h"
#include "vmm/base/error.h"
#include "vmm/base/timestamp.h"
#include "vmm/base/util.h"
#include "vmm/engine/events.h"
#include "vmm/engine/filters.h"

struct events_job {
	const struct api_ctx *ctx;
	struct filters filter;
	int conn_fd, out;
	int64_t since_ns, until;
};

static int emit(void *arg, const struct engine_event *ev)
{
	struct events_job *j = arg;
	json_object *o;
	const char *s;
	int ret;

	if (!engine_event_wanted(&j->filter, ev))
		return 0;
	o = engine_event_json(ev);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ret = write_full(j->out, s, strlen(s)) < 0 || write_full(j->out, "\n", 1) < 0 ? -1 : 0;
	json_object_put(o);
	return ret;
}

static bool client_gone(void *arg)
{
	const struct events_job *j = arg;

	return api_client_gone(j->conn_fd, true);
}

static void events_stream(void *arg, int fd)
{
	struct events_job *j = arg;
	struct engine_events_opts o = { .emit = emit, .stop = client_gone, .arg = j, .since_ns = j->since_ns,
					.until = j->until };
	struct error e = { 0 };

	j->out = fd;
	engine_events(j->ctx->paths.root, &o, &e);	/* a folder that cannot be watched ends the stream */
}

static void events_free(void *arg)
{
	struct events_job *j = arg;

	filters_free(&j->filter);
	free(j);
}

void api_events(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	const char *until = r->query(r, "until"), *since = r->query(r, "since");
	struct events_job *j;
	struct error e = { 0 };
	int64_t since_ns = 0, until_ns = 0;

	/* docker sends unix seconds, maybe with a fraction */
	if ((until && *until && timestamp_parse(until, realtime_ns(), &until_ns)) ||
	    (since && *since && timestamp_parse(since, realtime_ns(), &since_ns))) {
		api_reply_error(w, 400, "since/until: unix seconds, like 1764745200.5");
		return;
	}
	if (!(j = calloc(1, sizeof(*j)))) {
		api_reply_error(w, 500, "out of memory");
		return;
	}
	j->ctx = ctx;
	j->filter.keys = engine_event_filter_keys;
	if (api_filters(r, &j->filter, &e)) {
		events_free(j);
		api_reply_err(w, &e);
		return;
	}
	j->conn_fd = r->conn_fd;
	j->since_ns = since_ns;
	j->until = until_ns > 0 ? (until_ns + 999999999) / 1000000000 : 0;
	w->status = 200;
	w->content_type = "application/json";
	w->stream = events_stream;
	w->stream_free = events_free;
	w->stream_arg = j;
}
