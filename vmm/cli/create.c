/* vmm create: a container from an image, ready to start (docker create); run's options. */
#include <getopt.h>
#include <stdio.h>

#include "vmm/cli/cli.h"
#include "vmm/cli/run.h"
#include "vmm/engine/container.h"

int cmd_create(struct cli *cli, int argc, char **argv)
{
	struct run_opts o = { .cmd = "create" };
	struct container *ct = NULL;
	struct error e = { 0 };
	int ret = run_parse_args(argc, argv, &o), status = 0;

	if (ret) {
		status = ret == 1 ? 0 : ret;
		goto out;
	}
	if (optind >= argc) {
		status = cli_usage_error("create", "requires an IMAGE (then: vmm start NAME)");
		goto out;
	}
	run_fill_config(&o, argc, argv);
	if (run_pull(cli, &o))
		status = EXIT_VMM_ERROR;
	else if (engine_create(&cli->paths, &o.c, &ct, &e))
		status = cli_fail(&e, EXIT_VMM_ERROR);
	else
		printf("%s\n", ct->cfg.id);
out:
	container_free(ct);
	run_opts_free(&o);
	return status;
}
