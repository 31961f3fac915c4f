/*
 * GET /events: container create, start, die and destroy, as docker streams
 * them (one JSON object per line), seen by watching the store's containers
 * folder. A container's own vmm process writes its state, so what the CLI
 * does shows here too. There is no history: `since` replays nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"

#define EVENTS_WATCH_MAX 4096	/* containers followed at once */

struct watched {
	int wd;
	char id[CONTAINER_ID_LEN + 1];
	char *name, *image;
	char **labels;
	enum container_status status;
	bool announced;		/* its create went out (its config was there) */
};

struct events {
	const struct api_ctx *ctx;
	json_object *filters;
	int conn_fd, out, in, root_wd;
	int64_t until;		/* unix seconds, 0: none */
	struct watched *w;
	size_t n;
};

static void event_free(void *arg)
{
	struct events *ev = arg;

	for (size_t i = 0; i < ev->n; i++) {
		free(ev->w[i].name);
		free(ev->w[i].image);
		strv_free(ev->w[i].labels);
	}
	free(ev->w);
	json_object_put(ev->filters);
	free(ev);
}

/* Write one event if the filters let it through; -1 when the client is gone. */
static int emit(struct events *ev, const struct watched *c, const char *action, int exit_code)
{
	json_object *o, *actor, *attrs;
	struct timespec ts;
	const char *s;
	int ret;

	if ((api_filter_has(ev->filters, "type") && !api_filter_match(ev->filters, "type", "container", API_MATCH_EXACT)) ||
	    (api_filter_has(ev->filters, "event") && !api_filter_match(ev->filters, "event", action, API_MATCH_EXACT)) ||
	    (api_filter_has(ev->filters, "container") &&
	     !api_filter_match(ev->filters, "container", c->name ? c->name : "", API_MATCH_EXACT) &&
	     !api_filter_match(ev->filters, "container", c->id, API_MATCH_PREFIX)) ||
	    (api_filter_has(ev->filters, "image") &&
	     !api_filter_match(ev->filters, "image", c->image ? c->image : "", API_MATCH_EXACT)) ||
	    !api_filter_labels(ev->filters, c->labels))
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	o = json_object_new_object();
	actor = json_object_new_object();
	attrs = json_object_new_object();
	json_object_object_add(attrs, "name", json_object_new_string(c->name ? c->name : ""));
	json_object_object_add(attrs, "image", json_object_new_string(c->image ? c->image : ""));
	if (exit_code >= 0) {
		char code[16];

		snprintf(code, sizeof(code), "%d", exit_code);
		json_object_object_add(attrs, "exitCode", json_object_new_string(code));
	}
	json_object_object_add(actor, "ID", json_object_new_string(c->id));
	json_object_object_add(actor, "Attributes", attrs);
	json_object_object_add(o, "status", json_object_new_string(action));
	json_object_object_add(o, "id", json_object_new_string(c->id));
	json_object_object_add(o, "from", json_object_new_string(c->image ? c->image : ""));
	json_object_object_add(o, "Type", json_object_new_string("container"));
	json_object_object_add(o, "Action", json_object_new_string(action));
	json_object_object_add(o, "Actor", actor);
	json_object_object_add(o, "scope", json_object_new_string("local"));
	json_object_object_add(o, "time", json_object_new_int64(ts.tv_sec));
	json_object_object_add(o, "timeNano", json_object_new_int64((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ret = write_full(ev->out, s, strlen(s)) < 0 || write_full(ev->out, "\n", 1) < 0 ? -1 : 0;
	json_object_put(o);
	return ret;
}

static struct watched *by_wd(struct events *ev, int wd)
{
	for (size_t i = 0; i < ev->n; i++)
		if (ev->w[i].wd == wd)
			return &ev->w[i];
	return NULL;
}

/* Note what events name a container by (its config is read once). */
static void describe(struct watched *c, const struct container *ct)
{
	c->name = strdup(ct->cfg.name);
	c->image = strdup(ct->cfg.image_name ? ct->cfg.image_name : ct->cfg.image);
	c->labels = ct->cfg.labels ? strv_dup(ct->cfg.labels) : NULL;
}

/* Read a container's config and state; emit what changed since we last looked. */
static int refresh(struct events *ev, struct watched *c)
{
	struct container_state st;
	struct container *ct;
	int ret = 0;

	if (container_open(ev->ctx->paths.root, c->id, &ct, NULL))
		return 0;	/* half made, or going: its next event tells */
	if (!c->name)
		describe(c, ct);
	container_effective_state(ct, &st);
	if (!c->announced) {
		c->announced = true;
		ret = emit(ev, c, "create", -1);
	}
	if (!ret && st.status != c->status) {
		if (st.status == CONTAINER_RUNNING)
			ret = emit(ev, c, "start", -1);
		else if (st.status == CONTAINER_EXITED && c->status == CONTAINER_RUNNING)
			ret = emit(ev, c, "die", st.exit_code);
		c->status = st.status;
	}
	container_free(ct);
	return ret;
}

/* Start following container id (a name in the containers folder). */
static struct watched *follow(struct events *ev, const char *id, bool announced)
{
	char dir[4096];
	struct watched *w;

	if (strlen(id) != CONTAINER_ID_LEN || ev->n == EVENTS_WATCH_MAX ||
	    !(w = realloc(ev->w, (ev->n + 1) * sizeof(*w))))
		return NULL;
	ev->w = w;
	w = &ev->w[ev->n];
	memset(w, 0, sizeof(*w));
	snprintf(w->id, sizeof(w->id), "%s", id);
	snprintf(dir, sizeof(dir), "%s/containers/%s", ev->ctx->paths.root, id);
	w->wd = inotify_add_watch(ev->in, dir, IN_MOVED_TO | IN_CLOSE_WRITE);
	if (w->wd < 0)
		return NULL;
	w->announced = announced;
	ev->n++;
	return w;
}

static int on_event(struct events *ev, const struct inotify_event *ie)
{
	struct watched *c;

	if (ie->wd == ev->root_wd && ie->len) {
		if ((ie->mask & IN_CREATE) && (c = follow(ev, ie->name, false)))
			return refresh(ev, c);
		if (ie->mask & IN_DELETE) {
			for (size_t i = 0; i < ev->n; i++) {
				if (strcmp(ev->w[i].id, ie->name))
					continue;
				c = &ev->w[i];
				c->wd = -1;
				c->id[0] = 0;	/* a slot no event finds again */
				if (c->status == CONTAINER_RUNNING && emit(ev, c, "die", -1) < 0)
					return -1;
				return c->announced ? emit(ev, c, "destroy", -1) : 0;
			}
		}
		return 0;
	}
	if ((c = by_wd(ev, ie->wd)) && ie->len && (!strcmp(ie->name, "state.json") || !strcmp(ie->name, "config.json")))
		return refresh(ev, c);
	return 0;
}

static void events_stream(void *arg, int fd)
{
	struct events *ev = arg;
	struct container **list;
	char dir[4096], buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t n;

	ev->out = fd;
	snprintf(dir, sizeof(dir), "%s/containers", ev->ctx->paths.root);
	mkdir_p(AT_FDCWD, dir, 0700);
	if ((ev->in = inotify_init1(IN_CLOEXEC)) < 0 ||
	    (ev->root_wd = inotify_add_watch(ev->in, dir, IN_CREATE | IN_DELETE | IN_ONLYDIR)) < 0)
		goto out;
	/* what exists now is known; what changes from here on is news */
	if (container_list(ev->ctx->paths.root, &list, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct watched *c = follow(ev, list[i]->cfg.id, true);
			struct container_state st;

			if (!c)
				continue;
			container_effective_state(list[i], &st);
			c->status = st.status;
			describe(c, list[i]);
		}
		container_list_free(list, n);
	}
	for (;;) {
		struct pollfd p = { .fd = ev->in, .events = POLLIN };
		ssize_t len;

		if (api_client_gone(ev->conn_fd, true) || (ev->until && time(NULL) >= ev->until))
			break;
		if (poll(&p, 1, 1000) <= 0)
			continue;
		if ((len = read(ev->in, buf, sizeof(buf))) <= 0)
			break;
		for (char *ptr = buf; ptr < buf + len;) {
			const struct inotify_event *ie = (const struct inotify_event *)ptr;

			if (on_event(ev, ie) < 0)
				goto out;
			ptr += sizeof(*ie) + ie->len;
		}
	}
out:
	if (ev->in >= 0)
		close(ev->in);
}

void api_events(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	static const char *const allowed[] = { "type", "event", "container", "image", "label", NULL };
	const char *until = r->query(r, "until");
	struct error e = { 0 };
	struct events *ev;
	char secs[32];
	json_object *f;
	uint64_t u = 0;

	/* docker sends unix seconds, maybe with a fraction: the whole seconds do */
	if (until && *until && (strlen(until) >= sizeof(secs) ||
				(snprintf(secs, sizeof(secs), "%.*s", (int)strcspn(until, "."), until),
				 parse_uint(secs, 0, INT64_MAX, &u)))) {
		api_reply_error(w, 400, "until %s: unix seconds", until);
		return;
	}
	if (api_filters(r, allowed, &f, &e)) {
		api_reply_err(w, &e);
		return;
	}
	if (!(ev = calloc(1, sizeof(*ev)))) {
		json_object_put(f);
		api_reply_error(w, 500, "out of memory");
		return;
	}
	ev->ctx = ctx;
	ev->filters = f;
	ev->conn_fd = r->conn_fd;
	ev->in = -1;
	ev->until = (int64_t)u;
	w->status = 200;
	w->content_type = "application/json";
	w->stream = events_stream;
	w->stream_free = event_free;
	w->stream_arg = ev;
}
