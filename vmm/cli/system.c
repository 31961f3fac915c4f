/* vmm system service: serve the Docker Engine API (docs/docker-api.md); df and prune are their own files. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm system COMMAND\n\n"
		"Commands:\n"
		"  df        what images, containers, volumes and the build cache take on disk\n"
		"  prune     remove stopped containers, unused networks, dangling images, the build cache\n"
		"  info      the containers by state, the images and the host (vmm info)\n"
		"  service   serve the Docker Engine API\n\n"
		"Run 'vmm system COMMAND --help' for more on a command.\n");
}

static void service_usage(FILE *f)
{
	fprintf(f, "Usage: vmm system service [OPTIONS]\n\n"
		"Serve the Docker Engine API (%s), so the docker CLI, docker-compose and docker-py\n"
		"drive vmm: DOCKER_HOST=unix://... docker run --rm busybox echo hi\n\n"
		"Options:\n"
		"      --listen URL       unix:///PATH (default: unix://$VMM_RUNTIME/docker.sock,\n"
		"                         /run/vmm/docker.sock as root) or tcp://127.0.0.1:PORT\n"
		"      --allow-remote     let tcp:// listen on a non-loopback address (no authentication!)\n"
		"  -t, --time SECONDS     exit after this long without a request (default 0: never)\n"
		"  -h, --help             show this help\n\n"
		"Stopping the service leaves containers running: each is its own vmm process.\n",
		API_VERSION);
}

static int service(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "allow-remote", no_argument, NULL, 'r' },
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char exe[PATH_MAX], def[PATH_MAX + 8];
	const char *listen = NULL;
	struct api_ctx ctx = { .paths = cli->paths, .self_exe = exe };
	struct api_server *s;
	struct error e = { 0 };
	bool any = false;
	uint64_t idle = 0;
	sigset_t set;
	ssize_t n;
	int c, sig = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'r': any = true; break;
		case 't':
			if (parse_uint(optarg, 1, UINT32_MAX, &idle))
				return cli_usage_error("system service", "--time %s: a number of seconds", optarg);
			break;
		case 'h': service_usage(stdout); return 0;
		default: return cli_bad_option("system service", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("system service", "unexpected argument '%s'", argv[optind]);
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0) {
		err_sys(&e, -errno, "/proc/self/exe");
		return cli_fail(&e, 1);
	}
	exe[n] = 0;
	if (!listen) {
		int ret = mkdir_p(AT_FDCWD, cli->paths.runtime, 0700);

		if (ret) {
			err_sys(&e, ret, "%s: cannot create the runtime folder", cli->paths.runtime);
			return cli_fail(&e, 1);
		}
		snprintf(def, sizeof(def), "unix://%s/docker.sock", cli->paths.runtime);
		listen = def;
	}
	/* The server's threads inherit this mask: the signals come to sigtimedwait below. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (api_server_start(&ctx, listen, any, &s, &e))
		return cli_fail(&e, 1);
	printf("DOCKER_HOST=%s\n", listen);
	fflush(stdout);
	while (sig <= 0) {
		struct timespec tick = { .tv_sec = 1 };

		sig = sigtimedwait(&set, NULL, &tick);
		if (sig < 0 && idle && api_server_idle(s) >= (long)idle)
			break;
	}
	api_server_stop(s);
	return 0;
}

int cmd_system(struct cli *cli, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "service", service },
		{ "df", system_df },
		{ "prune", system_prune },
		{ "info", cmd_info },
	};

	return cli_dispatch(cli, "system", argc, argv, verbs, sizeof(verbs) / sizeof(verbs[0]), usage);
}
