/* vmm restart: stop, then start detached. */
#include <getopt.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/client.h"

int cmd_restart(struct cli *cli, int argc, char **argv)
{
	uint64_t timeout = 10;
	int ret = cli_stop_args("restart", argc, argv, &timeout), status = 0;

	if (ret)
		return ret == 1 ? 0 : ret;
	for (int i = optind; i < argc; i++) {
		struct error e = { 0 };

		if (engine_stop(&cli->paths, argv[i], timeout, &e))
			status = cli_fail(&e, 1);
		else if (cli_start_container(cli, argv[i], false, false))
			status = 1;
	}
	return status;
}
