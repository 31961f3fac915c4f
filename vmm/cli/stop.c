/* vmm stop / kill / restart / start: a running container's lifecycle. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "vmm/cli/cli.h"
#include "vmm/cli/ctl-client.h"
#include "vmm/cli/run.h"
#include "vmm/engine/container.h"
#include "vmm/base/log.h"
#include "vmm/engine/runner.h"
#include "vmm/base/util.h"

/* SIGTERM, then SIGKILL after timeout seconds; returns once the VM is gone. */
static int stop_one(struct cli *cli, const char *ref, uint64_t timeout)
{
	struct container *ct;
	json_object *req = json_object_new_object(), *rep = NULL;
	int fd, ret;

	ret = cli_ctl_connect(cli, ref, &ct, &fd);
	if (ret) {
		json_object_put(req);
		return ret == -ESRCH ? 0 : ret;	/* docker: stopping a stopped container is fine */
	}
	json_object_object_add(req, "op", json_object_new_string("stop"));
	json_object_object_add(req, "timeout", json_object_new_int64(timeout));
	ret = cli_ctl_call(fd, req, NULL, 0, &rep);
	json_object_put(rep);
	close(fd);
	if (!ret)
		ret = container_wait(ct);
	container_free(ct);
	return ret;
}

static int parse_timeout(const char *cmd, int argc, char **argv, uint64_t *timeout)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_uint(optarg, 0, 86400, timeout))
				return cli_usage_error(cmd, "-t %s: seconds from 0 to 86400", optarg);
			break;
		case 'h':
			printf("Usage: vmm %s [-t SECONDS] CONTAINER...\n\n"
			       "Send SIGTERM to the container's main process; after SECONDS (default 10)\n"
			       "kill it%s.\n", cmd, *cmd == 'r' ? ", then start the container again" : "");
			return 1;
		default:
			return cli_bad_option(cmd, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "requires at least one CONTAINER");
	return 0;
}

int cmd_stop(struct cli *cli, int argc, char **argv)
{
	uint64_t timeout = 10;
	int ret = parse_timeout("stop", argc, argv, &timeout), status = 0;

	if (ret)
		return ret == 1 ? 0 : ret;
	for (int i = optind; i < argc; i++) {
		if (stop_one(cli, argv[i], timeout))
			status = 1;
		else
			printf("%s\n", argv[i]);
	}
	return status;
}

static int start_one(struct cli *cli, const char *ref, bool attach, bool interactive)
{
	struct runner_opts ro = { .attach = attach, .interactive = interactive, .ready_fd = -1 };
	struct container *ct;
	int status;

	if (container_open(cli->paths.root, ref, &ct))
		return EXIT_VMM_ERROR;
	if (container_is_running(ct)) {
		container_free(ct);
		return 0;
	}
	status = cli_container_start(cli, ct, &ro, !attach, false);
	container_free(ct);
	return status;
}

int cmd_restart(struct cli *cli, int argc, char **argv)
{
	uint64_t timeout = 10;
	int ret = parse_timeout("restart", argc, argv, &timeout), status = 0;

	if (ret)
		return ret == 1 ? 0 : ret;
	for (int i = optind; i < argc; i++)
		if (stop_one(cli, argv[i], timeout) || start_one(cli, argv[i], false, false))
			status = 1;
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
		status = start_one(cli, argv[i], attach, interactive);
		if (attach)
			return status;
		/* detached: cli_container_start printed the ID; docker prints the name given */
	}
	return status;
}

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
			sig = cli_parse_signal(optarg);
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
		json_object *req = json_object_new_object(), *rep = NULL;
		struct container *ct;
		int fd;

		if (cli_ctl_connect(cli, argv[i], &ct, &fd)) {
			json_object_put(req);
			status = 1;
			continue;
		}
		json_object_object_add(req, "op", json_object_new_string("kill"));
		json_object_object_add(req, "signal", json_object_new_int(sig));
		if (cli_ctl_call(fd, req, NULL, 0, &rep))
			status = 1;
		else
			printf("%s\n", argv[i]);
		json_object_put(rep);
		close(fd);
		container_free(ct);
	}
	return status;
}
