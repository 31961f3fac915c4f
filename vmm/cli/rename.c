/* vmm rename: give a container another name (docker rename). */
#include <stdio.h>
#include <string.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/container.h"

int cmd_rename(struct cli *cli, int argc, char **argv)
{
	struct error e = { 0 };

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: vmm rename CONTAINER NEW_NAME\n\nRename a container.\n");
		return 0;
	}
	if (argc != 3)
		return cli_usage_error("rename", "requires exactly 2 arguments: CONTAINER NEW_NAME");
	if (container_rename(cli->paths.root, argv[1], argv[2], &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	return 0;
}
