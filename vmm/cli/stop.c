/* vmm stop: SIGTERM to the container's process, SIGKILL after a grace time; wait for the VM to go. */
#include <getopt.h>
#include <stdio.h>

#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/client.h"

static int stop_args(const char *cmd, int argc, char **argv, uint64_t *timeout)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_uint(optarg, 0, 86400, timeout))
				return cli_usage_error(cmd, "-t %s: seconds from 0 to 86400", optarg);
			break;
		case 'h':
			printf("Usage: vmm %s [-t SECONDS] CONTAINER...\n\n"
			       "Send SIGTERM to the container's main process; after SECONDS (default 10)\n"
			       "kill it%s.\n", cmd, *cmd == 'r' ? ", then start the container again" : "");
			return 1;
		default:
			return cli_bad_option(cmd, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "requires at least one CONTAINER");
	return 0;
}

int cli_stop_each(struct cli *cli, const char *cmd, int argc, char **argv, bool restart)
{
	uint64_t timeout = 10;
	int ret = stop_args(cmd, argc, argv, &timeout), status = 0;

	if (ret)
		return ret == 1 ? 0 : ret;
	for (int i = optind; i < argc; i++) {
		struct error e = { 0 };

		if (engine_stop(&cli->paths, argv[i], timeout, &e))
			status = cli_fail(&e, 1);
		else if (restart && cli_start_container(cli, argv[i], false, false))
			status = 1;
		else if (!restart)
			printf("%s\n", argv[i]);
	}
	return status;
}

int cmd_stop(struct cli *cli, int argc, char **argv)
{
	return cli_stop_each(cli, "stop", argc, argv, false);
}
