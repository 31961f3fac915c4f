/* vmm start: boot stopped containers again, with the filesystem changes they made. */
#include <getopt.h>
#include <stdio.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/container.h"
#include "vmm/engine/lifecycle.h"

int cli_start_container(struct cli *cli, const char *ref, bool attach, bool interactive)
{
	struct start_opts o = { .attach = attach, .interactive = interactive };
	struct error e = { 0 };
	struct container *ct;
	int status;

	if (container_open(cli->paths.root, ref, &ct, &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	if (container_is_running(ct)) {
		container_free(ct);
		return 0;
	}
	if (engine_start(&cli->paths, ct, &o, &status, &e))
		status = cli_fail(&e, EXIT_VMM_ERROR);
	else if (!attach)
		printf("%s\n", ct->cfg.id);	/* docker prints the name given; we the ID, as run -d */
	container_free(ct);
	return status;
}

int cmd_start(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "attach", no_argument, NULL, 'a' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool attach = false, interactive = false;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "aih", opts, NULL)) != -1) {
		switch (c) {
		case 'a': attach = true; break;
		case 'i': interactive = true; break;
		case 'h':
			printf("Usage: vmm start [-a] [-i] CONTAINER...\n\n"
			       "Boot stopped containers again, with the filesystem changes they made.\n\n"
			       "  -a, --attach       stay attached: stream output, exit with its status\n"
			       "  -i, --interactive  forward stdin\n");
			return 0;
		default:
			return cli_bad_option("start", argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("start", "requires at least one CONTAINER");
	if (attach && argc - optind > 1)
		return cli_usage_error("start", "-a takes one CONTAINER");
	for (int i = optind; i < argc; i++) {
		status = cli_start_container(cli, argv[i], attach, interactive);
		if (attach)
			return status;
	}
	return status;
}
