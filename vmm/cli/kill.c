/* vmm kill: send a signal to the container's main process. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "vmm/cli/cli.h"
#include "vmm/base/util.h"
#include "vmm/engine/client.h"

int cmd_kill(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "signal", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, sig = SIGKILL, status = 0;

	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sig = parse_signal(optarg);
			if (!sig)
				return cli_usage_error("kill", "-s %s: unknown signal (e.g. KILL, TERM, HUP, 9)", optarg);
			break;
		case 'h':
			printf("Usage: vmm kill [-s SIGNAL] CONTAINER...\n\n"
			       "Send a signal (default KILL) to the container's main process.\n");
			return 0;
		default:
			return cli_bad_option("kill", argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("kill", "requires at least one CONTAINER");
	for (int i = optind; i < argc; i++) {
		struct error e = { 0 };

		if (engine_kill(&cli->paths, argv[i], sig, &e))
			status = cli_fail(&e, 1);
		else
			printf("%s\n", argv[i]);
	}
	return status;
}
