/* Container events from the store's containers folder (events.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/filters.h"
#include "vmm/engine/container.h"
#include "vmm/engine/events.h"
#include "vmm/engine/events-journal.h"

#define EVENTS_WATCH_MAX 4096	/* containers followed at once */

struct watched {
	int wd;
	char id[CONTAINER_ID_LEN + 1];
	char *name, *image;
	char **labels;
	enum container_status status;
	bool paused;
	bool announced;		/* its create went out (its config was there) */
};

struct watch {
	const char *root;
	const struct engine_events_opts *o;
	int in, root_wd;
	struct watched *w;
	size_t n;
};

const char *const engine_event_filter_keys[] = { "type", "event", "container", "image", "label", NULL };

bool engine_event_wanted(const struct filters *f, const struct engine_event *ev)
{
	return filters_allow(f, "type", "container", FILTER_EXACT) && filters_allow(f, "event", ev->action, FILTER_EXACT) &&
	       (filters_allow(f, "container", ev->name, FILTER_EXACT) ||
		filters_allow(f, "container", ev->id, FILTER_PREFIX)) &&
	       filters_allow(f, "image", ev->image, FILTER_EXACT) && filters_allow_labels(f, ev->labels);
}

json_object *engine_event_json(const struct engine_event *ev)
{
	json_object *o = json_object_new_object(), *actor = json_object_new_object(),
		    *attrs = json_object_new_object();

	for (char *const *l = ev->labels; l && *l; l++) {
		const char *eq = strchr(*l, '=');
		char *key = strndup(*l, eq ? (size_t)(eq - *l) : strlen(*l));

		if (key)
			json_object_object_add(attrs, key, json_object_new_string(eq ? eq + 1 : ""));
		free(key);
	}
	json_object_object_add(attrs, "name", json_object_new_string(ev->name));
	json_object_object_add(attrs, "image", json_object_new_string(ev->image));
	if (ev->exit_code >= 0) {
		char code[16];

		snprintf(code, sizeof(code), "%d", ev->exit_code);
		json_object_object_add(attrs, "exitCode", json_object_new_string(code));
	}
	json_object_object_add(actor, "ID", json_object_new_string(ev->id));
	json_object_object_add(actor, "Attributes", attrs);
	json_object_object_add(o, "status", json_object_new_string(ev->action));
	json_object_object_add(o, "id", json_object_new_string(ev->id));
	json_object_object_add(o, "from", json_object_new_string(ev->image));
	json_object_object_add(o, "Type", json_object_new_string("container"));
	json_object_object_add(o, "Action", json_object_new_string(ev->action));
	json_object_object_add(o, "Actor", actor);
	json_object_object_add(o, "scope", json_object_new_string("local"));
	json_object_object_add(o, "time", json_object_new_int64(ev->time_ns / 1000000000));
	json_object_object_add(o, "timeNano", json_object_new_int64(ev->time_ns));
	return o;
}

static int emit(struct watch *wt, const struct watched *c, const char *action, int exit_code)
{
	struct engine_event ev = {
		.action = action, .id = c->id, .name = c->name ? c->name : "", .image = c->image ? c->image : "",
		.labels = c->labels, .exit_code = exit_code,
	};

	ev.time_ns = realtime_ns();
	return wt->o->emit(wt->o->arg, &ev);
}

/* Note what events name a container by (its config is read once). */
static void describe(struct watched *c, const struct container *ct)
{
	c->name = strdup(ct->cfg.name);
	c->image = strdup(ct->cfg.image_name ? ct->cfg.image_name : ct->cfg.image);
	c->labels = ct->cfg.labels ? strv_dup(ct->cfg.labels) : NULL;
}

/* Read a container's config and state; emit what changed since we last looked. */
static int refresh(struct watch *wt, struct watched *c)
{
	struct container_state st;
	struct container *ct;
	int ret = 0;

	if (container_open(wt->root, c->id, &ct, NULL))
		return 0;	/* half made, or going: its next event tells */
	if (!c->name)
		describe(c, ct);
	container_effective_state(ct, &st);
	if (!c->announced) {
		c->announced = true;
		ret = emit(wt, c, "create", -1);
	}
	if (!ret && st.status != c->status) {
		if (st.status == CONTAINER_RUNNING)
			ret = emit(wt, c, "start", -1);
		else if (c->status == CONTAINER_RUNNING)
			ret = emit(wt, c, "die", st.status == CONTAINER_EXITED ? st.exit_code : -1);
		c->status = st.status;
	}
	if (!ret && st.paused != c->paused && (st.paused || st.status == CONTAINER_RUNNING))
		ret = emit(wt, c, st.paused ? "pause" : "unpause", -1);
	c->paused = st.paused;
	container_free(ct);
	return ret;
}

/* Start following container id (a name in the containers folder). */
static struct watched *follow(struct watch *wt, const char *id, bool announced)
{
	char dir[4096];
	struct watched *w;

	if (strlen(id) != CONTAINER_ID_LEN || wt->n == EVENTS_WATCH_MAX ||
	    !(w = realloc(wt->w, (wt->n + 1) * sizeof(*w))))
		return NULL;
	wt->w = w;
	w = &wt->w[wt->n];
	memset(w, 0, sizeof(*w));
	snprintf(w->id, sizeof(w->id), "%s", id);
	snprintf(dir, sizeof(dir), "%s/containers/%s", wt->root, id);
	w->wd = inotify_add_watch(wt->in, dir, IN_MOVED_TO | IN_CLOSE_WRITE);
	if (w->wd < 0)
		return NULL;
	w->announced = announced;
	wt->n++;
	return w;
}

static int gone(struct watch *wt, const char *id)
{
	for (size_t i = 0; i < wt->n; i++) {
		struct watched *c = &wt->w[i];

		if (strcmp(c->id, id))
			continue;
		int ret = 0;

		if (c->status == CONTAINER_RUNNING)
			ret = emit(wt, c, "die", -1);
		if (ret >= 0 && c->announced)
			ret = emit(wt, c, "destroy", -1);
		c->wd = -1;
		c->id[0] = 0;	/* a slot no event finds again */
		return ret;
	}
	return 0;
}

static int on_event(struct watch *wt, const struct inotify_event *ie)
{
	struct watched *c;

	if (!ie->len)
		return 0;
	if (ie->wd == wt->root_wd) {
		if ((ie->mask & IN_CREATE) && (c = follow(wt, ie->name, false)))
			return refresh(wt, c);
		return ie->mask & IN_DELETE ? gone(wt, ie->name) : 0;
	}
	if (strcmp(ie->name, "state.json") && strcmp(ie->name, "config.json"))
		return 0;
	for (size_t i = 0; i < wt->n; i++)
		if (wt->w[i].wd == ie->wd)
			return refresh(wt, &wt->w[i]);
	return 0;
}

/* What exists now is known; what changes from here on is news. */
static void known(struct watch *wt)
{
	struct container **list;
	size_t n;

	if (container_list(wt->root, &list, &n, NULL))
		return;
	for (size_t i = 0; i < n; i++) {
		struct watched *c = follow(wt, list[i]->cfg.id, true);
		struct container_state st;

		if (!c)
			continue;
		container_effective_state(list[i], &st);
		c->status = st.status;
		describe(c, list[i]);
	}
	container_list_free(list, n);
}

struct engine_event engine_container_event(const struct container *ct, const char *action, int64_t time_ns,
					   int exit_code)
{
	const struct container_config *c = &ct->cfg;

	return (struct engine_event){
		.action = action, .id = c->id, .name = c->name ? c->name : "",
		.image = c->image_name ? c->image_name : c->image, .labels = c->labels,
		.exit_code = exit_code, .time_ns = time_ns,
	};
}

unsigned engine_container_history(const struct container *ct, struct engine_event ev[3])
{
	const struct container_config *c = &ct->cfg;
	struct container_state st;
	unsigned n = 0;

	container_effective_state(ct, &st);
	const struct { const char *action; int64_t t; int code; } what[] = {
		{ "create", c->created * 1000000000LL, -1 },
		{ "start", st.started_ns, -1 },
		{ "die", st.status == CONTAINER_EXITED && st.finished_ns >= st.started_ns ? st.finished_ns : 0,
			 st.exit_code },
	};

	for (unsigned w = 0; w < 3; w++)
		if (what[w].t)
			ev[n++] = engine_container_event(ct, what[w].action, what[w].t, what[w].code);
	return n;
}

static int by_time(const void *a, const void *b)
{
	const struct engine_event *x = a, *y = b;

	return x->time_ns < y->time_ns ? -1 : x->time_ns > y->time_ns;
}

/* The journal's events of removed containers, copied, for replay to sort with the store's. */
struct journal_copy {
	struct engine_event *ev;
	size_t n;
};

static int keep(void *arg, const struct engine_event *e)
{
	struct journal_copy *j = arg;
	struct engine_event *grown = realloc(j->ev, (j->n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	j->ev = grown;
	grown[j->n] = *e;
	grown[j->n].action = strdup(e->action);
	grown[j->n].id = strdup(e->id);
	grown[j->n].name = strdup(e->name);
	grown[j->n].image = strdup(e->image);
	grown[j->n].labels = e->labels ? strv_dup((char **)e->labels) : NULL;
	j->n++;
	return 0;
}

static void journal_copy_free(struct journal_copy *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free((char *)j->ev[i].action);
		free((char *)j->ev[i].id);
		free((char *)j->ev[i].name);
		free((char *)j->ev[i].image);
		strv_free((char **)j->ev[i].labels);
	}
	free(j->ev);
}

/*
 * --since: what the store still holds (each container's create, last start
 * and last die) and the journal of removed ones, in time order; < 0 when
 * emit said stop.
 */
static int replay(const char *root, const struct engine_events_opts *o)
{
	int64_t until_ns = o->until ? o->until * 1000000000LL : INT64_MAX;
	struct journal_copy j = { 0 };
	struct engine_event *ev;
	struct container **list;
	size_t n, k = 0;
	int ret = 0;

	if (container_list(root, &list, &n, NULL))
		return 0;
	events_journal_read(root, o->since_ns, until_ns, keep, &j);
	ev = calloc(3 * n + j.n + 1, sizeof(*ev));
	for (size_t i = 0; ev && i < j.n; i++)
		ev[k++] = j.ev[i];
	for (size_t i = 0; ev && i < n; i++) {
		struct engine_event h[3];
		unsigned nh = engine_container_history(list[i], h);

		for (unsigned w = 0; w < nh; w++)
			if (h[w].time_ns >= o->since_ns && h[w].time_ns <= until_ns)	/* until: inclusive, as docker's */
				ev[k++] = h[w];
	}
	if (ev)
		qsort(ev, k, sizeof(*ev), by_time);
	for (size_t i = 0; i < k && ret >= 0; i++)
		ret = o->emit(o->arg, &ev[i]);
	free(ev);
	journal_copy_free(&j);
	container_list_free(list, n);
	return ret;
}

int engine_events(const char *root, const struct engine_events_opts *o, struct error *e)
{
	struct watch wt = { .root = root, .o = o, .in = -1 };
	char dir[4096], buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s/containers", root);
	mkdir_p(AT_FDCWD, dir, 0700);
	if ((wt.in = inotify_init1(IN_CLOEXEC)) < 0 ||
	    (wt.root_wd = inotify_add_watch(wt.in, dir, IN_CREATE | IN_DELETE | IN_ONLYDIR)) < 0)
		ret = err_sys(e, -errno, "%s: watching it", dir);
	if (!ret)
		known(&wt);
	if (!ret && o->since_ns && replay(root, o) < 0)
		ret = 1;	/* emit said stop */
	while (!ret) {
		struct pollfd p = { .fd = wt.in, .events = POLLIN };
		ssize_t len;

		if ((o->stop && o->stop(o->arg)) || (o->until && time(NULL) >= o->until))
			break;
		if (poll(&p, 1, 1000) <= 0)
			continue;
		if ((len = read(wt.in, buf, sizeof(buf))) <= 0)
			break;
		for (char *ptr = buf; ptr < buf + len;) {
			const struct inotify_event *ie = (const struct inotify_event *)ptr;

			if (on_event(&wt, ie) < 0) {
				len = 0;
				ret = 1;	/* emit said stop */
				break;
			}
			ptr += sizeof(*ie) + ie->len;
		}
	}
	for (size_t i = 0; i < wt.n; i++) {
		free(wt.w[i].name);
		free(wt.w[i].image);
		strv_free(wt.w[i].labels);
	}
	free(wt.w);
	if (wt.in >= 0)
		close(wt.in);
	return ret > 0 ? 0 : ret;
}
