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
};

static json_object *event_json(const struct engine_event *ev)
{
	json_object *o = json_object_new_object(), *actor = json_object_new_object(),
		    *attrs = json_object_new_object();

	json_object_object_add(attrs, "name", json_object_new_string(ev->name));
	json_object_object_add(attrs, "image", json_object_new_string(ev->image));
	json_object_object_add(actor, "ID", json_object_new_string(ev->id));
	json_object_object_add(actor, "Attributes", attrs);
	json_object_object_add(o, "Type", json_object_new_string("container"));
	json_object_object_add(o, "Action", json_object_new_string(ev->action));
	json_object_object_add(o, "Actor", actor);
	json_object_object_add(o, "ID", json_object_new_string(ev->id));
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
	if (v->t) {
		json_object *o = event_json(ev);
		int ret = template_render(v->t, o, stdout, &e);

		json_object_put(o);
		if (ret)
			return cli_fail(&e, -1);
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
			if (template_parse_rows(optarg, &v.t, &e))
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
			printf("Usage: vmm events [--filter KEY=VALUE]... [--format TEMPLATE] [--since T] [--until T]\n\n"
			       "Print container events (create, start, die, destroy) as they happen, whoever acts.\n"
			       "--since first replays what the store still holds from T on: each container's create,\n"
			       "last start and last die (no journal is kept). --until stops at T. T is a time\n"
			       "(2026-12-03T07:00:00Z, unix seconds) or a duration before now (10m, 1h).\n"
			       "Filters: type=container, event=E, container=NAME|ID, image=I, label=K[=V].\n"
			       "Template fields: .Type .Action .ID .TimeNano .Actor.Attributes.name (and .image).\n");
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
out:
	template_free(v.t);
	filters_free(&filter);
	return status;
}
