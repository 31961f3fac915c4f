/* vmm exec: run another process in a running container (same namespaces, cgroup, disk). */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/client.h"

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "detach", no_argument, NULL, 'd' },
		{ "size-fd", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct exec_config ec = { 0 };
	struct error e = { 0 };
	char **env = NULL;
	int c, status;

	while ((c = getopt_long(argc, argv, "+dite:w:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': ec.detach = true; break;
		case 'i': ec.interactive = true; break;
		case 't': ec.tty = true; break;
		case 'e':
			if (strv_push(&env, optarg)) {
				strv_free(env);
				return EXIT_VMM_ERROR;
			}
			break;
		case 'w': ec.workdir = optarg; break;
		case 'u': ec.user = optarg; break;
		case 's': {
			uint64_t v;

			if (parse_uint(optarg, STDERR_FILENO + 1, 1024, &v)) {
				strv_free(env);
				return cli_usage_error("exec", "--size-fd %s: a descriptor above 2", optarg);
			}
			ec.size_fd = (int)v;
			break;
		}
		case 'h':
			printf("Usage: vmm exec [-d] [-i] [-t] [-e K[=V]] [-w DIR] [-u USER] CONTAINER COMMAND [ARG...]\n\n"
			       "Run a command in a running container (its namespaces, cgroup and disk).\n"
			       "-d: in the background, its output dropped; vmm returns once it started.\n"
			       "--size-fd N: with -t, window sizes come as 'ROWS COLS' lines on descriptor N\n"
			       "(the Engine API's exec resize) instead of from this terminal.\n");
			strv_free(env);
			return 0;
		default:
			strv_free(env);
			return cli_bad_option("exec", argv);
		}
	}
	if (argc - optind < 2) {
		strv_free(env);
		return cli_usage_error("exec", "requires a CONTAINER and a COMMAND");
	}
	ec.argv = argv + optind + 1;
	ec.env = env;
	if (engine_exec(&cli->paths, argv[optind], &ec, &status, &e))
		err_print(&e);
	strv_free(env);
	return status;
}
