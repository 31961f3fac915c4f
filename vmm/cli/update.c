/* vmm update: a container's restart policy and limits (docker update). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/cli/cli.h"
#include "vmm/cli/run.h"
#include "vmm/engine/update.h"

enum { OPT_RESTART = 256, OPT_CPUS, OPT_PIDS };

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm update [OPTIONS] CONTAINER...\n\n"
		"Change containers' restart policy and limits. The restart policy changes at once,\n"
		"running or not; memory, CPUs and the process limit size the micro-VM and change\n"
		"for stopped containers (from their next start).\n\n"
		"Options:\n"
		"      --restart POLICY   no, on-failure[:N], always, unless-stopped\n"
		"  -m, --memory SIZE      memory limit (e.g. 64m, 1g); the VM gets it plus 96 MiB\n"
		"      --cpus N           CPU limit (e.g. 1.5): ceil(N) vCPUs and a quota\n"
		"      --pids-limit N     process limit (-1: unlimited)\n"
		"  -h, --help             show this help\n");
}

int cmd_update(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "restart", required_argument, NULL, OPT_RESTART },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "pids-limit", required_argument, NULL, OPT_PIDS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct create_config cc = { 0 };
	struct update_opts o = { 0 };
	int c, status = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+m:h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_RESTART:
			status = run_limit_option("update", RUN_LIMIT_RESTART, optarg, &cc);
			o.restart_set = true;
			break;
		case 'm': status = run_limit_option("update", RUN_LIMIT_MEMORY, optarg, &cc); break;
		case OPT_CPUS: status = run_limit_option("update", RUN_LIMIT_CPUS, optarg, &cc); break;
		case OPT_PIDS:
			status = run_limit_option("update", RUN_LIMIT_PIDS, optarg, &cc);
			o.pids_set = true;
			break;
		case 'h': usage(stdout); return 0;
		default: return cli_bad_option("update", argv);
		}
		if (status)
			return status;
	}
	if (optind >= argc)
		return cli_usage_error("update", "requires at least one CONTAINER");
	if (!o.restart_set && !cc.memory && !(cc.cpus > 0) && !o.pids_set)
		return cli_usage_error("update", "nothing to change: give --restart, --memory, --cpus or --pids-limit");
	o.restart = cc.restart;
	o.memory = cc.memory;
	o.cpus = cc.cpus;
	o.pids_limit = cc.pids_limit;
	for (int i = optind; i < argc; i++) {
		struct error e = { 0 };

		if (engine_update(&cli->paths, argv[i], &o, &e))
			status = cli_fail(&e, EXIT_VMM_ERROR);
		else
			printf("%s\n", argv[i]);
	}
	return status;
}
