/* vmm rm: remove containers (their directory, disk and logs). */
#include <getopt.h>
#include <stdio.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/lifecycle.h"

static void usage(void)
{
	printf("Usage: vmm rm [OPTIONS] CONTAINER...\n\n"
	       "Remove containers: their overlay disk, logs and state.\n\n"
	       "Options:\n"
	       "  -f, --force     kill a running container first\n"
	       "  -v, --volumes   remove its anonymous volumes too\n");
}

int cmd_rm(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "volumes", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false, volumes = false;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': force = true; break;
		case 'v': volumes = true; break;
		case 'h': usage(); return 0;
		default: return cli_bad_option("rm", argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("rm", "requires at least one CONTAINER");
	for (int i = optind; i < argc; i++) {
		struct error e = { 0 };

		if (engine_remove(&cli->paths, argv[i], force, volumes, &e))
			status = cli_fail(&e, 1);
		else
			printf("%s\n", argv[i]);
	}
	return status;
}
