/* vmm run: create a container from an image and run it in its own micro-VM. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/timestamp.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/run.h"
#include "images/oci/image.h"
#include "images/oci/ref.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/engine/run-mounts.h"
#include "vmm/engine/run-net.h"
#include "vmm/engine/container.h"
#include "vmm/engine/create.h"
#include "vmm/engine/lifecycle.h"
#include "vmm/vm.h"

enum { OPT_RM = 256, OPT_NAME, OPT_ENV_FILE, OPT_ENTRYPOINT, OPT_CPUS, OPT_PIDS, OPT_HOSTNAME,
       OPT_READ_ONLY, OPT_COLD, OPT_LABEL, OPT_PULL, OPT_RESTART, OPT_INIT, OPT_TIMEOUT, OPT_LOG_OPT,
       OPT_STORAGE_OPT };


static void usage(const char *cmd)
{
	printf("Usage: vmm %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n%s\n\n"
	       "Options:\n"
	       "      --rm                 remove the container when it exits\n"
	       "      --init               PID 1 is an init that forwards signals and reaps zombies\n"
	       "      --restart POLICY     no (default), on-failure[:MAX], always, unless-stopped:\n"
	       "                           its vmm process runs it again (not after vmm stop/kill)\n"
	       "  -d, --detach             run in the background and print the container ID\n"
	       "      --name NAME          name the container\n"
	       "  -e, --env KEY[=VALUE]    set an environment variable (KEY alone: from ours)\n"
	       "      --env-file FILE      read KEY=VALUE lines\n"
	       "  -l, --label KEY=VALUE    set a label (ps and the Engine API filter by it)\n"
	       "  -w, --workdir DIR        working directory inside the container\n"
	       "  -u, --user USER[:GROUP]  user name or uid (and group)\n"
	       "      --entrypoint CMD     override the image's entrypoint\n"
	       "  -i, --interactive        keep stdin open\n"
	       "  -t, --tty                allocate a terminal\n"
	       "  -m, --memory SIZE        memory limit (e.g. 64m, 1g); the VM gets it plus 96 MiB\n"
	       "      --cpus N             CPU limit (e.g. 1.5): ceil(N) vCPUs and a quota\n"
	       "      --pids-limit N       process limit\n"
	       "      --log-opt K=V        cap the log: max-size=SIZE (10m), max-file=N (kept with\n"
	       "                           max-size, 1 by default), as docker's json-file\n"
	       "      --timeout DURATION   stop the VM when the process has run this long (30s, 10m,\n"
	       "                           1h, or seconds) and exit 124, as timeout(1)\n"
	       "      --storage-opt size=SIZE  the root disk's size (default 4g); when full, the\n"
	       "                           container gets ENOSPC and the host disk is untouched\n"
	       "      --hostname NAME      the container's host name (default: its short ID)\n"
	       "      --read-only          mount the root filesystem read-only\n"
	       "      --cold               boot the VM from scratch (no snapshot)\n"
	       "      --pull POLICY        pull the image: missing (default), always, never\n"
	       RUN_MOUNT_USAGE
	       RUN_NET_USAGE, cmd,
	       strcmp(cmd, "create") ? "Run a command in a new container, inside its own micro-VM." :
	       "Create a container, ready to start: 'vmm start NAME' boots its micro-VM.");
}

static int parse_memory_limit(const char *s, uint64_t *out)
{
	/* docker: a bare number is bytes; 6 MiB minimum */
	if (parse_size(s, 1, out) || *out < CREATE_MEMORY_MIN)
		return -EINVAL;
	return 0;
}

int run_limit_option(const char *cmd, enum run_limit which, const char *arg, struct create_config *cc)
{
	struct error e = { 0 };
	char *end;
	uint64_t v;

	switch (which) {
	case RUN_LIMIT_RESTART:
		if (restart_policy_parse(arg, &cc->restart, &e))
			return cli_usage_error(cmd, "--restart: %s", e.msg);
		return 0;
	case RUN_LIMIT_MEMORY:
		if (parse_memory_limit(arg, &cc->memory))
			return cli_usage_error(cmd, "--memory %s: not a size of at least 6m (e.g. 64m, 1g)", arg);
		return 0;
	case RUN_LIMIT_CPUS:
		errno = 0;
		cc->cpus = strtod(arg, &end);
		if (errno || *end || !(cc->cpus > 0) || cc->cpus > VM_MAX_CPUS)
			return cli_usage_error(cmd, "--cpus %s: a number of CPUs from 0.01 to %d", arg, VM_MAX_CPUS);
		return 0;
	case RUN_LIMIT_PIDS:
		if (!strcmp(arg, "-1"))
			cc->pids_limit = 0;
		else if (parse_uint(arg, 1, 1u << 22, &v))
			return cli_usage_error(cmd, "--pids-limit %s: a positive number (or -1: unlimited)", arg);
		else
			cc->pids_limit = v;
		return 0;
	}
	return EXIT_VMM_ERROR;
}

/* One option of ours (not a network one): 0 taken, 1 --help, else the usage error's exit status. */
static int option(struct run_opts *o, int c, const char *arg, char **argv)
{
	struct create_config *cc = &o->c;

	switch (c) {
	case OPT_RM: cc->auto_remove = true; return 0;
	case OPT_INIT: cc->init = true; return 0;
	case OPT_RESTART: return run_limit_option(o->cmd, RUN_LIMIT_RESTART, arg, cc);
	case 'd': o->detach = true; return 0;
	case OPT_NAME:
		if (!container_name_valid(arg))
			return cli_usage_error(o->cmd, "--name %s: invalid name (use [a-zA-Z0-9][a-zA-Z0-9_.-]+)", arg);
		cc->name = arg;
		return 0;
	case 'e':
		if (!*arg || *arg == '=')
			return cli_usage_error(o->cmd, "-e '%s': expected KEY=VALUE or KEY", arg);
		return strv_push(&o->env, arg) ? EXIT_VMM_ERROR : 0;
	case OPT_ENV_FILE: return strv_push(&o->env_files, arg) ? EXIT_VMM_ERROR : 0;
	case 'l':
	case OPT_LABEL: return strv_push(&o->labels, arg) ? EXIT_VMM_ERROR : 0;
	case 'w':
		if (arg[0] != '/')
			return cli_usage_error(o->cmd, "-w %s: the working directory must be an absolute path", arg);
		cc->workdir = arg;
		return 0;
	case 'u': cc->user = arg; return 0;
	case OPT_ENTRYPOINT: cc->entrypoint = arg; return 0;
	case 'i': cc->interactive = true; return 0;
	case 't': cc->tty = true; return 0;
	case 'm': return run_limit_option(o->cmd, RUN_LIMIT_MEMORY, arg, cc);
	case OPT_CPUS: return run_limit_option(o->cmd, RUN_LIMIT_CPUS, arg, cc);
	case OPT_PIDS: return run_limit_option(o->cmd, RUN_LIMIT_PIDS, arg, cc);
	case OPT_LOG_OPT: {
		struct error e = { 0 };

		if (log_opt_parse(arg, &cc->log, &e))
			return cli_usage_error(o->cmd, "%s", e.msg);
		return 0;
	}
	case OPT_STORAGE_OPT: {
		struct error e = { 0 };
		const char *eq = strchr(arg, '=');
		char *key = strndup(arg, eq ? (size_t)(eq - arg) : strlen(arg));
		int ret = key ? storage_opt_set(key, eq ? eq + 1 : "", &cc->storage_size, &e) : -ENOMEM;

		free(key);
		if (ret)
			return cli_usage_error(o->cmd, "%s", e.msg[0] ? e.msg : "out of memory");
		return 0;
	}
	case OPT_TIMEOUT:
		if (duration_parse(arg, &cc->timeout_ns) || cc->timeout_ns <= 0)
			return cli_usage_error(o->cmd, "--timeout %s: a duration like 30s, 10m or 1h, or seconds", arg);
		return 0;
	case OPT_HOSTNAME:
		if (!*arg || strlen(arg) > 64)
			return cli_usage_error(o->cmd, "--hostname: 1 to 64 characters");
		cc->hostname = arg;
		return 0;
	case OPT_READ_ONLY: cc->read_only = true; return 0;
	case OPT_COLD: o->start.cold = true; return 0;
	case OPT_PULL:
		if (strcmp(arg, "missing") && strcmp(arg, "always") && strcmp(arg, "never"))
			return cli_usage_error(o->cmd, "--pull %s: want missing, always or never", arg);
		o->pull = arg;
		return 0;
	case 'h': usage(o->cmd); return 1;
	default: return cli_bad_option(o->cmd, argv);
	}
}

int run_parse_args(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "rm", no_argument, NULL, OPT_RM },
		{ "detach", no_argument, NULL, 'd' },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "env", required_argument, NULL, 'e' },
		{ "env-file", required_argument, NULL, OPT_ENV_FILE },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "pids-limit", required_argument, NULL, OPT_PIDS },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "log-opt", required_argument, NULL, OPT_LOG_OPT },
		{ "storage-opt", required_argument, NULL, OPT_STORAGE_OPT },
		{ "hostname", required_argument, NULL, OPT_HOSTNAME },
		{ "read-only", no_argument, NULL, OPT_READ_ONLY },
		{ "cold", no_argument, NULL, OPT_COLD },
		{ "pull", required_argument, NULL, OPT_PULL },
		{ "restart", required_argument, NULL, OPT_RESTART },
		{ "init", no_argument, NULL, OPT_INIT },
		{ "help", no_argument, NULL, 'h' },
		RUN_NET_LONG_OPTIONS,
		RUN_MOUNT_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	/* '+': options stop at IMAGE; what follows is the container's command. */
	while ((c = getopt_long(argc, argv, "+de:w:u:itm:l:h" RUN_NET_SHORT_OPTIONS RUN_MOUNT_SHORT_OPTIONS, opts, NULL)) != -1) {
		struct error e = { 0 };

		ret = run_net_option(&o->net, c, optarg, &e);
		if (ret == 1)
			ret = run_mount_option(&o->mounts, c, optarg, &e);
		if (ret < 0) {
			pr_err("%s (see 'vmm %s --help')", e.msg, o->cmd);
			return EXIT_VMM_ERROR;
		}
		if (ret == 1 && (ret = option(o, c, optarg, argv)))
			return ret;
	}
	if (o->c.auto_remove && o->detach)
		pr_debug("--rm with -d: removed when it exits");
	return 0;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	struct run_opts o = { .cmd = "run", .start = { .fresh = true } };
	struct container *ct = NULL;
	struct error e = { 0 };
	int ret, status = EXIT_VMM_ERROR;

	ret = run_parse_args(argc, argv, &o);
	if (ret) {
		status = ret == 1 ? 0 : ret;
		goto out;
	}
	if (optind >= argc) {
		status = cli_usage_error("run", "requires an IMAGE (e.g. vmm run busybox echo hello)");
		goto out;
	}
	run_fill_config(&o, argc, argv);
	if ((status = run_pull(cli, &o))) {
		status = EXIT_VMM_ERROR;
		goto out;
	}
	status = EXIT_VMM_ERROR;
	if (engine_create(&cli->paths, &o.c, &ct, &e) ||
	    engine_start(&cli->paths, ct, &o.start, &status, &e)) {
		status = cli_fail(&e, EXIT_VMM_ERROR);
		goto out;
	}
	if (o.detach)
		printf("%s\n", ct->cfg.id);
out:
	container_free(ct);
	run_opts_free(&o);
	return status;
}

/* docker's --pull: a missing image is pulled first (its progress on stderr), or always, or never. */
int run_pull(struct cli *cli, const struct run_opts *o)
{
	struct cli_pull_opts po = { .out = stderr };
	const char *policy = o->pull ? o->pull : "missing";
	char digest[DIGEST_BUF], full[REF_STR_MAX], shortref[REF_STR_MAX];
	struct image_ref ref;
	struct store *s;
	const char *why;
	int ret;

	if (!strcmp(policy, "never"))
		return 0;
	/* an image ID or a digest names what is here, never something to pull */
	if (str_has_prefix(o->c.image, DIGEST_PREFIX) || ref_parse(o->c.image, REF_DEFAULT_TAG, &ref, &why))
		return 0;
	if (!strcmp(policy, "missing")) {
		if (!(s = cli_store_open(cli->paths.root)))
			return 1;
		ret = image_resolve(s, o->c.image, digest, NULL, 0, NULL);
		store_close(s);
		if (ret != -ENOENT)
			return 0;
		ref_format(&ref, full, sizeof(full));
		fmt_short_ref(full, shortref, sizeof(shortref));
		fprintf(stderr, "Unable to find image '%s' locally\n", shortref);
	}
	return cli_pull(cli, o->c.image, &po);
}

void run_fill_config(struct run_opts *o, int argc, char **argv)
{
	o->c.image = argv[optind];
	o->c.cmd = argv + optind + 1;
	o->c.env = o->env;
	o->c.env_files = o->env_files;
	o->c.labels = o->labels;
	create_config_options(&o->c, &o->net, &o->mounts);
	o->start.attach = !o->detach;
	o->start.interactive = o->c.interactive;
	o->c.stdin_once = o->c.interactive && !o->detach;	/* docker run -i: attached once */
}

void run_opts_free(struct run_opts *o)
{
	strv_free(o->env);
	strv_free(o->env_files);
	strv_free(o->labels);
	run_net_opts_free(&o->net);
	run_mount_opts_free(&o->mounts);
}
