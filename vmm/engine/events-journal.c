/*
 * The events of removed containers (events-journal.h). A container's own
 * folder holds what `events --since` replays for it while it exists; when
 * it goes, its create, start, die and destroy are written here, one JSON
 * object a line, so the replay still has them. Two files of at most
 * JOURNAL_MAX bytes each: docker's daemon keeps its recent events too, in
 * memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/json.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"
#include "vmm/engine/events-journal.h"

#define JOURNAL_MAX	(1 << 20)
#define JOURNAL_LINE	16384	/* longer lines are not ours: skipped */

static void journal_path(const char *root, bool old, char *buf, size_t len)
{
	snprintf(buf, len, "%s/events.journal%s", root, old ? ".1" : "");
}

static json_object *line(const struct engine_event *ev)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "time_ns", json_object_new_int64(ev->time_ns));
	json_object_object_add(o, "action", json_object_new_string(ev->action));
	json_object_object_add(o, "id", json_object_new_string(ev->id));
	json_object_object_add(o, "name", json_object_new_string(ev->name));
	json_object_object_add(o, "image", json_object_new_string(ev->image ? ev->image : ""));
	json_object_object_add(o, "exit", json_object_new_int(ev->exit_code));
	json_object_object_add(o, "labels", strv_to_json(ev->labels));
	return o;
}

void events_journal_removed(const char *root, const struct container *c)
{
	struct engine_event ev[4];
	unsigned n = engine_container_history(c, ev);
	char path[4096], old[4096];
	struct stat sb;
	int fd;

	ev[n++] = engine_container_event(c, "destroy", realtime_ns(), -1);
	journal_path(root, false, path, sizeof(path));
	journal_path(root, true, old, sizeof(old));
	if (stat(path, &sb) == 0 && sb.st_size > JOURNAL_MAX)
		rename(path, old);	/* the older half goes; a race loses at most that half */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;		/* events are history, not state: a store that refuses loses them */
	for (unsigned i = 0; i < n; i++) {
		json_object *o = line(&ev[i]);
		const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		char buf[JOURNAL_LINE];
		size_t len = snprintf(buf, sizeof(buf), "%s\n", s);

		if (len < sizeof(buf))
			write_full(fd, buf, len);	/* one write a line: O_APPEND keeps lines whole */
		json_object_put(o);
	}
	close(fd);
}

/* One line into ev (strings owned by it); false when it is not a journal line. */
static bool parse(const char *text, struct engine_event *ev, json_object **keep)
{
	json_object *o = json_tokener_parse(text), *v;
	const char *action = NULL, *id = NULL, *name = NULL, *image = NULL;
	char **labels = NULL;
	uint64_t t = 0;
	bool present;
	struct error e = { 0 };

	if (!o || !json_object_is_type(o, json_type_object) ||
	    jget_string(o, "action", true, "", &action, &e) || jget_string(o, "id", true, "", &id, &e) ||
	    jget_string(o, "name", true, "", &name, &e) || jget_string(o, "image", true, "", &image, &e) ||
	    jget_u64(o, "time_ns", true, INT64_MAX, "", &t, &present, &e) ||
	    jget_strv(o, "labels", 1024, "", &labels, &e) ||
	    !json_object_object_get_ex(o, "exit", &v) || !json_object_is_type(v, json_type_int)) {
		strv_free(labels);
		json_object_put(o);
		return false;
	}
	*ev = (struct engine_event){ .action = action, .id = id, .name = name, .image = image,
				     .labels = labels, .exit_code = json_object_get_int(v), .time_ns = (int64_t)t };
	*keep = o;
	return true;
}

int events_journal_read(const char *root, int64_t since_ns, int64_t until_ns,
			int (*fn)(void *arg, const struct engine_event *ev), void *arg)
{
	int ret = 0;

	for (int old = 1; old >= 0 && ret >= 0; old--) {
		char path[4096], text[JOURNAL_LINE];
		FILE *f;

		journal_path(root, old, path, sizeof(path));
		f = fopen(path, "re");
		while (f && ret >= 0 && fgets(text, sizeof(text), f)) {
			struct engine_event ev;
			json_object *o;

			if (!strchr(text, '\n') || !parse(text, &ev, &o))
				continue;
			if (ev.time_ns >= since_ns && ev.time_ns <= until_ns)
				ret = fn(arg, &ev);
			strv_free((char **)ev.labels);
			json_object_put(o);
		}
		if (f)
			fclose(f);
	}
	return ret;
}
