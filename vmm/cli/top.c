/* vmm top: the processes of a running container. */
#include <getopt.h>
#include <stdio.h>

#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/client.h"

static void print_proc(void *arg, const struct engine_proc *p)
{
	struct engine_proc_text t;

	if (!*(bool *)arg) {
		printf("%-8s %-10s %-10s %s\n", "PID", "USER", "TIME", "COMMAND");
		*(bool *)arg = true;
	}
	engine_proc_text(p, &t);
	printf("%-8d %-10s %s   %s\n", p->pid, t.user, t.time, t.cmd);
}

int cmd_top(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	bool header = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: vmm top CONTAINER\n\nList the processes running in a container.\n");
			return 0;
		}
		return cli_bad_option("top", argv);
	}
	if (argc - optind != 1)
		return cli_usage_error("top", "requires exactly one CONTAINER");
	if (engine_top(&cli->paths, argv[optind], print_proc, &header, &e))
		return cli_fail(&e, 1);
	if (!header)
		printf("%-8s %-10s %-10s %s\n", "PID", "USER", "TIME", "COMMAND");
	return 0;
}
