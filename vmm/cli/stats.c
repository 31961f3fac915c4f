/*
 * vmm stats: what running containers use. The host's side comes from each
 * container's vmm process (its CPU time, covering the vCPUs and devices, and
 * the bytes its network and disk devices moved); the guest's side from the
 * agent (memory in use and its limit, PIDs in the container's cgroup).
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/template.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/client.h"
#include "vmm/engine/container.h"

#define MAX_SHOWN	4096

/* The last sample of a container, for the CPU share since then. */
struct sample {
	char id[CONTAINER_ID_LEN + 1];
	uint64_t cpu_ns, uptime_ns;
};

struct stats_run {
	struct cli *cli;
	char **refs;		/* the containers asked for; NULL: every running one (-a: all) */
	int nrefs;
	bool all, no_trunc;
	struct sample *prev;
	size_t nprev;
};

static void usage(void)
{
	printf("Usage: vmm stats [OPTIONS] [CONTAINER...]\n\n"
	       "Show what containers use: CPU, memory, network and disk I/O, and PIDs\n"
	       "(running ones, or those named), refreshed every second until interrupted.\n\n"
	       "  -a, --all          all containers (stopped ones show zeros)\n"
	       "      --no-stream    print once and exit\n"
	       "      --no-trunc     full container IDs\n"
	       "      --format FMT   json (one JSON object per line) or a Go template:\n"
	       "                     'table {{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}'. Fields: Container,\n"
	       "                     ID, Name, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO, PIDs\n\n"
	       "CPU %% is the share of one host CPU that the container's VM took (its vCPUs\n"
	       "and devices, guest kernel included): since the previous refresh, or, for the\n"
	       "first line, since the VM started. MEM USAGE / LIMIT is the memory in use in\n"
	       "the guest and its limit (--memory) or the VM's RAM. NET I/O is what the\n"
	       "guest received / sent; BLOCK I/O what it read / wrote on its disks (not\n"
	       "shared folders). A paused container shows -- for what only its guest knows.\n");
}

/* docker's sizes: 1.5GiB (memory, 4 digits) and 12.3kB (I/O, 3 digits). */
static void size_text(uint64_t v, bool binary, char *buf, size_t len)
{
	static const char *const si[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	static const char *const iec[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double base = binary ? 1024 : 1000, x = v;
	unsigned i = 0;

	while (x >= base && i < 5) {
		x /= base;
		i++;
	}
	snprintf(buf, len, binary ? "%.4g%s" : "%.3g%s", x, binary ? iec[i] : si[i]);
}

static void add(json_object *row, const char *key, const char *text)
{
	json_object_object_add(row, key, json_object_new_string(text));
}

/* Pair two sizes as "a / b". */
static void pair(json_object *row, const char *key, uint64_t a, uint64_t b, bool binary)
{
	char x[32], y[32], buf[80];

	size_text(a, binary, x, sizeof(x));
	size_text(b, binary, y, sizeof(y));
	snprintf(buf, sizeof(buf), "%s / %s", x, y);
	add(row, key, buf);
}

static struct sample *previous(struct stats_run *r, const char *id)
{
	struct sample *s;

	for (size_t i = 0; i < r->nprev; i++)
		if (!strcmp(r->prev[i].id, id))
			return &r->prev[i];
	s = realloc(r->prev, (r->nprev + 1) * sizeof(*s));
	if (!s)
		return NULL;
	r->prev = s;
	s = &r->prev[r->nprev++];
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	return s;
}

/* One container's row; st NULL: not running (zeros). */
static json_object *row(struct stats_run *r, const char *ref, const struct container *ct,
			const struct engine_stats *st)
{
	static const struct engine_stats none;
	json_object *o = json_object_new_object();
	const struct engine_stats *s = st ? st : &none;
	struct sample *prev = st ? previous(r, ct->cfg.id) : NULL;
	double cpu_pct = 0;
	char buf[64];

	if (prev && s->uptime_ns > prev->uptime_ns && s->cpu_ns >= prev->cpu_ns)
		cpu_pct = 100.0 * (s->cpu_ns - prev->cpu_ns) / (s->uptime_ns - prev->uptime_ns);
	if (prev) {
		prev->cpu_ns = s->cpu_ns;
		prev->uptime_ns = s->uptime_ns;
	}
	add(o, "Container", ref ? ref : ct->cfg.name);
	snprintf(buf, sizeof(buf), "%.*s", r->no_trunc ? CONTAINER_ID_LEN : 12, ct->cfg.id);
	add(o, "ID", buf);
	add(o, "Name", ct->cfg.name);
	snprintf(buf, sizeof(buf), "%.2f%%", cpu_pct);
	add(o, "CPUPerc", st ? buf : "0.00%");
	if (s->guest) {
		pair(o, "MemUsage", s->mem, s->mem_max, true);
		snprintf(buf, sizeof(buf), "%.2f%%", s->mem_max ? 100.0 * s->mem / s->mem_max : 0.0);
		add(o, "MemPerc", buf);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)s->pids);
		add(o, "PIDs", buf);
	} else {
		add(o, "MemUsage", st ? "-- / --" : "0B / 0B");
		add(o, "MemPerc", st ? "--" : "0.00%");
		add(o, "PIDs", st ? "--" : "0");
	}
	pair(o, "NetIO", s->net_rx, s->net_tx, false);
	pair(o, "BlockIO", s->blk_read, s->blk_write, false);
	return o;
}

/* One container of a refresh: its sample is asked of every one first, then read. */
struct entry {
	struct container *ct;
	const char *ref;	/* as named on the command line; NULL: listed */
	int fd;			/* the asked sample's reply, -1: not running */
};

static void ask(struct stats_run *r, struct entry *en, int *status)
{
	struct container_state cs;
	struct error e = { 0 };
	int ret;

	en->fd = -1;
	container_effective_state(en->ct, &cs);
	if (cs.status != CONTAINER_RUNNING)
		return;
	ret = engine_stats_ask(&r->cli->paths, en->ref ? en->ref : en->ct->cfg.id, &en->fd, &e);
	if (ret && ret != -ESRCH && ret != -EAGAIN)	/* it stopped meanwhile, or restarts */
		*status = cli_fail(&e, 1);
}

/* Every row of one refresh into rows. 0, or 1 when a named container is not there. */
static int collect(struct stats_run *r, json_object *rows)
{
	struct container **list = NULL;
	struct entry *v;
	struct error e = { 0 };
	size_t n = 0, k = 0;
	int status = 0;

	if (!r->refs && container_list(r->cli->paths.root, &list, &n, &e))
		return cli_fail(&e, 1);
	if (r->refs)
		n = r->nrefs;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		container_list_free(list, list ? n : 0);
		err_set(&e, -ENOMEM, "out of memory");
		return cli_fail(&e, 1);
	}
	for (size_t i = 0; i < n && k < MAX_SHOWN; i++) {
		if (r->refs && container_open(r->cli->paths.root, r->refs[i], &v[k].ct, &e)) {
			status = cli_fail(&e, 1);
			e = (struct error){ 0 };
			continue;
		}
		if (!r->refs)
			v[k].ct = list[i];
		v[k].ref = r->refs ? r->refs[i] : NULL;
		ask(r, &v[k++], &status);
	}
	for (size_t i = 0; i < k; i++) {
		struct engine_stats st;
		bool got = false;

		if (v[i].fd >= 0 && !(got = !engine_stats_reply(v[i].fd, &st, &e))) {
			status = cli_fail(&e, 1);
			e = (struct error){ 0 };
		}
		if (got || r->all || r->refs)
			json_object_array_add(rows, row(r, v[i].ref, v[i].ct, got ? &st : NULL));
		if (r->refs)
			container_free(v[i].ct);
	}
	free(v);
	container_list_free(list, list ? n : 0);
	return status;
}

static const char header_json[] =
	"{\"Container\":\"CONTAINER\",\"ID\":\"CONTAINER ID\",\"Name\":\"NAME\",\"CPUPerc\":\"CPU %\","
	"\"MemUsage\":\"MEM USAGE / LIMIT\",\"MemPerc\":\"MEM %\",\"NetIO\":\"NET I/O\","
	"\"BlockIO\":\"BLOCK I/O\",\"PIDs\":\"PIDS\"}";

int cmd_stats(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "no-stream", no_argument, NULL, 'S' },
		{ "no-trunc", no_argument, NULL, 'N' },
		{ "format", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct stats_run r = { .cli = cli };
	const char *format = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t"
			     "{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";
	bool stream = true, tty = isatty(STDOUT_FILENO);
	json_object *header;
	struct template *t;
	struct error e = { 0 };
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		switch (c) {
		case 'a': r.all = true; break;
		case 'S': stream = false; break;
		case 'N': r.no_trunc = true; break;
		case 'T': format = optarg; break;
		case 'h': usage(); return 0;
		default: return cli_bad_option("stats", argv);
		}
	}
	if (optind < argc) {
		r.refs = argv + optind;
		r.nrefs = argc - optind;
	}
	if (template_parse_rows(format, &t, &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	header = json_tokener_parse(header_json);
	for (;;) {
		json_object *rows = json_object_new_array();

		status = collect(&r, rows);
		if (stream && tty)
			fputs("\033[2J\033[H", stdout);	/* docker redraws the screen */
		if ((!status || json_object_array_length(rows)) &&
		    template_print(t, header, rows, stdout, &e))
			status = cli_fail(&e, EXIT_VMM_ERROR);
		json_object_put(rows);
		fflush(stdout);
		if (!stream || status == EXIT_VMM_ERROR || (r.refs && status))
			break;
		poll(NULL, 0, 1000);	/* the refresh period */
	}
	json_object_put(header);
	template_free(t);
	free(r.prev);
	return status;
}
