/* vmm restart: stop (as vmm stop does), then start detached. */
#include "vmm/cli/cli.h"

int cmd_restart(struct cli *cli, int argc, char **argv)
{
	return cli_stop_each(cli, "restart", argc, argv, true);
}
