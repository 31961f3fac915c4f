/* vmm logs: what a container wrote to stdout and stderr. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/container.h"
#include "vmm/engine/logread.h"
#include "vmm/base/timestamp.h"
#include "vmm/base/util.h"

static int print(void *arg, enum log_stream s, const char *time, const char *data, size_t len)
{
	const bool *timestamps = arg;
	FILE *out = s == LOG_STDERR ? stderr : stdout;

	if (!data)
		return 0;
	if (*timestamps)
		fprintf(out, "%s ", time);
	fwrite(data, 1, len, out);
	fflush(out);
	return 0;
}

int cmd_logs(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "tail", required_argument, NULL, 'n' },
		{ "timestamps", no_argument, NULL, 't' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	bool timestamps = false;
	struct log_read_opts o = { .tail = -1, .sink = print, .arg = &timestamps };
	struct container *ct;
	uint64_t v;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "fn:th", opts, NULL)) != -1) {
		switch (c) {
		case 'f': o.follow = true; break;
		case 't': timestamps = true; break;
		case 'S':
		case 'U':
			if (timestamp_parse(optarg, realtime_ns(), c == 'S' ? &o.since_ns : &o.until_ns))
				return cli_usage_error("logs", "--%s %s: a time (2026-12-03T07:00:00Z, unix seconds) "
						       "or a duration before now (10m, 1h30m)",
						       c == 'S' ? "since" : "until", optarg);
			break;
		case 'n':
			if (!strcmp(optarg, "all"))
				o.tail = -1;
			else if (parse_uint(optarg, 0, 1u << 30, &v))
				return cli_usage_error("logs", "--tail %s: not a number of lines", optarg);
			else
				o.tail = v;
			break;
		case 'h':
			printf("Usage: vmm logs [-f] [--tail N] [-t] [--since T] [--until T] CONTAINER\n\n"
			       "Print a container's stdout and stderr.\n\n"
			       "  -f, --follow       keep printing while it runs\n"
			       "  -n, --tail N       only the last N lines\n"
			       "  -t, --timestamps   prefix each line with its time\n"
			       "      --since T      only lines logged at or after T: a time (2026-12-03T07:00:00Z,\n"
			       "                     2026-12-03, unix seconds) or a duration before now (10m, 1h30m)\n"
			       "      --until T      only lines logged before T (the same forms); -f stops there\n");
			return 0;
		default:
			return cli_bad_option("logs", argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("logs", "requires exactly one CONTAINER");
	if (container_open(cli->paths.root, argv[optind], &ct, &e))
		return cli_fail(&e, 1);
	if (engine_logs(ct, &o, &e))
		status = cli_fail(&e, 1);
	container_free(ct);
	return status;
}
