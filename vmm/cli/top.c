/* vmm top: the processes of a running container. */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "vmm/cli/cli.h"
#include "vmm/cli/ctl-client.h"
#include "vmm/engine/container.h"

int cmd_top(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_object *req, *rep = NULL, *procs;
	struct container *ct;
	int c, fd;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: vmm top CONTAINER\n\nList the processes running in a container.\n");
			return 0;
		}
		return cli_bad_option("top", argv);
	}
	if (argc - optind != 1)
		return cli_usage_error("top", "requires exactly one CONTAINER");
	if (cli_ctl_connect(cli, argv[optind], &ct, &fd))
		return 1;
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("top"));
	if (cli_ctl_call(fd, req, NULL, 0, &rep)) {
		close(fd);
		container_free(ct);
		return 1;
	}
	printf("%-8s %-10s %-10s %s\n", "PID", "USER", "TIME", "COMMAND");
	if (json_object_object_get_ex(rep, "procs", &procs)) {
		for (size_t i = 0; i < json_object_array_length(procs); i++) {
			json_object *p = json_object_array_get_idx(procs, i), *v;
			long long ms = json_object_object_get_ex(p, "time_ms", &v) ? json_object_get_int64(v) : 0;
			long long s = ms / 1000;

			printf("%-8d ", json_object_object_get_ex(p, "pid", &v) ? json_object_get_int(v) : 0);
			printf("%-10s ", json_object_object_get_ex(p, "user", &v) ? json_object_get_string(v) : "?");
			printf("%02lld:%02lld:%02lld   ", s / 3600, s / 60 % 60, s % 60);
			printf("%s\n", json_object_object_get_ex(p, "cmd", &v) ? json_object_get_string(v) : "");
		}
	}
	json_object_put(rep);
	close(fd);
	container_free(ct);
	return 0;
}
