/* vmm events: container events as they happen, in docker's words. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmm/base/template.h"
#include "vmm/base/timestamp.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/events.h"
#include "vmm/engine/filters.h"

struct view {
	const struct filters *filter;
	struct template *t;	/* --format, or NULL: docker's line */
	bool json;		/* --format json */
	bool failed;		/* a row could not be rendered (printed): exit 125 */
};

/*
 * What a template sees: docker's JSON keys (status, id, from, time...) and the
 * Go field names docker's templates use (Status, ID, From, Time, TimeNano...).
 */
static json_object *event_row(const struct engine_event *ev)
{
	json_object *o = engine_event_json(ev);

	json_object_object_add(o, "Status", json_object_new_string(ev->action));
	json_object_object_add(o, "ID", json_object_new_string(ev->id));
	json_object_object_add(o, "From", json_object_new_string(ev->image));
	json_object_object_add(o, "Scope", json_object_new_string("local"));
	json_object_object_add(o, "Time", json_object_new_int64(ev->time_ns / 1000000000));
	json_object_object_add(o, "TimeNano", json_object_new_int64(ev->time_ns));
	return o;
}

static int print(void *arg, const struct engine_event *ev)
{
	struct view *v = arg;
	char when[64], extra[32] = "";
	time_t s = ev->time_ns / 1000000000;
	struct error e = { 0 };
	struct tm tm;

	if (!engine_event_wanted(v->filter, ev))
		return 0;
	if (v->json) {	/* docker's {{json .}}: the JSON form alone */
		json_object *o = engine_event_json(ev);

		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return fflush(stdout) ? -1 : 0;
	}
	if (v->t) {
		json_object *o = event_row(ev);
		int ret = template_render(v->t, o, stdout, &e);

		json_object_put(o);
		if (ret) {
			v->failed = true;
			return cli_fail(&e, -1);
		}
		putchar('\n');
		return fflush(stdout) ? -1 : 0;
	}
	gmtime_r(&s, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (ev->exit_code >= 0)
		snprintf(extra, sizeof(extra), "exitCode=%d, ", ev->exit_code);
	printf("%s.%09lldZ container %s %s (%simage=%s, name=%s)\n", when, (long long)(ev->time_ns % 1000000000),
	       ev->action, ev->id, extra, ev->image, ev->name);
	return fflush(stdout) ? -1 : 0;
}

int cmd_events(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "filter", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 'F' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct filters filter = { .keys = engine_event_filter_keys };
	struct view v = { .filter = &filter };
	struct engine_events_opts o = { .emit = print, .arg = &v };
	struct error e = { 0 };
	int64_t t;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (filters_add(&filter, optarg, &e))
				status = cli_fail(&e, EXIT_VMM_ERROR);
			break;
		case 'F':
			template_free(v.t);
			v.t = NULL;
			v.json = !strcmp(optarg, "json");
			if (!v.json && template_parse_rows(optarg, &v.t, &e))
				status = cli_fail(&e, EXIT_VMM_ERROR);
			break;
		case 's':
		case 'u':
			if (timestamp_parse(optarg, realtime_ns(), &t) || t <= 0)
				status = cli_usage_error("events", "--%s %s: a time (2026-12-03T07:00:00Z, unix "
							 "seconds) or a duration before now (10m)",
							 c == 's' ? "since" : "until", optarg);
			else if (c == 's')
				o.since_ns = t;
			else
				o.until = (t + 999999999) / 1000000000;	/* whole seconds, rounded up */
			break;
		case 'h':
			printf("Usage: vmm events [--filter KEY=VALUE]... [--format json|TEMPLATE] [--since T] [--until T]\n\n"
			       "Print container events (create, start, die, pause, unpause, destroy) as they happen,\n"
			       "whoever acts. --since first replays from T on what the store holds (each container's\n"
			       "create, last start and last die) and, for removed containers, the events journal\n"
			       "in the store. --until stops at T. T is a time (2026-12-03T07:00:00Z, unix seconds)\n"
			       "or a duration before now (10m, 1h).\n"
			       "Filters: type=container, event=E, container=NAME|ID, image=I, label=K[=V].\n"
			       "--format json: docker's JSON, an object a line. Template fields: .Type .Action .Status\n"
			       ".ID .From .Scope .Time .TimeNano .Actor.ID .Actor.Attributes.name (.image, labels,\n"
			       ".exitCode), and the JSON keys .status .id .from .time .timeNano; an unknown\n"
			       "field is an error.\n");
			goto out;
		default:
			status = cli_bad_option("events", argv);
		}
		if (status)
			goto out;
	}
	if (optind < argc) {
		status = cli_usage_error("events", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (engine_events(cli->paths.root, &o, &e))
		status = cli_fail(&e, EXIT_VMM_ERROR);
	else if (v.failed)
		status = EXIT_VMM_ERROR;
out:
	template_free(v.t);
	filters_free(&filter);
	return status;
}
