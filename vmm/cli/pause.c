/* vmm pause and vmm unpause: freeze a container's whole VM (its vCPUs stop) and thaw it. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/client.h"

static int pause_or_unpause(struct cli *cli, int argc, char **argv, bool pause)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = pause ? "pause" : "unpause";
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			if (pause)
				printf("Usage: vmm pause CONTAINER...\n\n"
				       "Pause every process of the containers: their VMs' vCPUs stop, the guest\n"
				       "kernel included (docker's cgroup freezer stops only the processes).\n"
				       "exec, cp and top are refused until vmm unpause; stop and kill unpause first.\n");
			else
				printf("Usage: vmm unpause CONTAINER...\n\n"
				       "Let the vCPUs of paused containers run again.\n");
			return 0;
		}
		return cli_bad_option(cmd, argv);
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "requires at least one CONTAINER");
	for (int i = optind; i < argc; i++) {
		struct error e = { 0 };

		if (engine_pause(&cli->paths, argv[i], pause, &e))
			status = cli_fail(&e, 1);
		else
			printf("%s\n", argv[i]);
	}
	return status;
}

int cmd_pause(struct cli *cli, int argc, char **argv)
{
	return pause_or_unpause(cli, argc, argv, true);
}

int cmd_unpause(struct cli *cli, int argc, char **argv)
{
	return pause_or_unpause(cli, argc, argv, false);
}
