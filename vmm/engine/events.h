/*
 * Container events as docker names them (create, start, die, destroy), seen
 * as they happen by watching the store's containers folder: a container's
 * own vmm process writes its state, so whoever acts (the CLI, the Engine API)
 * shows. --since replays what the store still holds (each existing
 * container's create, its last start and its last die) and, for removed
 * containers, the same and their destroy from events-journal.c.
 */
#ifndef VMM_ENGINE_EVENTS_H
#define VMM_ENGINE_EVENTS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct error;

struct engine_event {
	const char *action;	/* "create", "start", "die", "destroy" */
	const char *id, *name, *image;
	char *const *labels;	/* "KEY=VALUE", NULL-terminated or NULL */
	int exit_code;		/* die: the exit status when known, else -1 */
	int64_t time_ns;	/* realtime */
};

struct filters;
struct container;

/* An event of ct (its strings point into ct). */
struct engine_event engine_container_event(const struct container *ct, const char *action, int64_t time_ns,
					   int exit_code);
/*
 * What the store holds of ct's history as events: its create, last start and
 * last die, those that happened, in time order. How many (at most 3); the
 * strings point into ct.
 */
unsigned engine_container_history(const struct container *ct, struct engine_event ev[3]);

/*
 * The event as docker's JSON has it (GET /events, docker events --format json):
 * status, id, from, Type, Action, Actor {ID, Attributes: the labels, name,
 * image, exitCode}, scope, time, timeNano. A new object.
 */
json_object *engine_event_json(const struct engine_event *ev);

/* The filter keys events take: type, event, container (a name or an ID prefix), image, label. */
extern const char *const engine_event_filter_keys[];
/* Does the event pass filters f (made with engine_event_filter_keys)? */
bool engine_event_wanted(const struct filters *f, const struct engine_event *ev);

struct engine_events_opts {
	int (*emit)(void *arg, const struct engine_event *ev);	/* < 0: stop watching */
	bool (*stop)(void *arg);	/* asked at least every second; NULL: never */
	void *arg;
	int64_t since_ns;	/* replay from this time (ns since the epoch) first; 0: no replay */
	int64_t until;		/* unix seconds; 0: no end */
};

/* Watch until until, stop or emit says so. 0, or -errno with e when the folder cannot be watched. */
int engine_events(const char *root, const struct engine_events_opts *o, struct error *e);

#endif
