/* vmm wait: block until containers stop, print their exit codes. */
#include <getopt.h>
#include <stdio.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/lifecycle.h"

int cmd_wait(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: vmm wait CONTAINER...\n\n"
			       "Block until each container stops, then print its exit code.\n");
			return 0;
		}
		return cli_bad_option("wait", argv);
	}
	if (optind >= argc)
		return cli_usage_error("wait", "requires at least one CONTAINER");
	for (int i = optind; i < argc; i++) {
		struct error e = { 0 };
		int code;

		if (engine_wait(&cli->paths, argv[i], &code, &e))
			status = cli_fail(&e, 1);
		else
			printf("%d\n", code);
	}
	return status;
}
