/* vmm rm: remove containers (their directory, disk and logs). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/container.h"
#include "vmm/base/log.h"

static void usage(void)
{
	printf("Usage: vmm rm [OPTIONS] CONTAINER...\n\n"
	       "Remove containers: their overlay disk, logs and state.\n\n"
	       "Options:\n"
	       "  -f, --force     kill a running container first\n"
	       "  -v, --volumes   accepted for docker compatibility (no anonymous volumes)\n");
}

int cmd_rm(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "volumes", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': force = true; break;
		case 'v': break;
		case 'h': usage(); return 0;
		default: return cli_bad_option("rm", argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("rm", "requires at least one CONTAINER");
	for (int i = optind; i < argc; i++) {
		struct container *ct;
		int ret;

		if (container_open(cli->paths.root, argv[i], &ct)) {
			status = 1;
			continue;
		}
		if (container_is_running(ct)) {
			if (!force) {
				pr_err("container %s is running: stop it first ('vmm stop %s') or use 'vmm rm -f'",
				       argv[i], argv[i]);
				container_free(ct);
				status = 1;
				continue;
			}
			container_kill(ct);
		}
		ret = container_remove(ct);
		if (ret) {
			pr_err("container %s: cannot remove %s: %s", argv[i], ct->dir, strerror(-ret));
			status = 1;
		} else {
			printf("%s\n", argv[i]);
		}
		container_free(ct);
	}
	return status;
}
