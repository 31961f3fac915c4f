/* vmm run: create a container from an image and run it in its own micro-VM. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "images/disk/qcow2.h"
#include "images/oci/image.h"
#include "vmm/base/json.h"
#include "images/rootfs/rootfs.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/image_fmt.h"
#include "vmm/cli/options.h"
#include "vmm/cli/run.h"
#include "vmm/cli/run-net.h"
#include "vmm/engine/container.h"
#include "vmm/base/log.h"
#include "vmm/engine/runner.h"
#include "vmm/base/util.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define VM_MEMORY_DEFAULT (128 * MiB)
#define VM_MEMORY_OVERHEAD (96 * MiB)	/* guest kernel and agent besides the container's limit */

struct run_opts {
	bool rm, detach, interactive, tty, read_only, cold;
	const char *name, *workdir, *user, *entrypoint, *hostname;
	char **env;		/* -e, in order */
	size_t nenv;
	char **env_files;
	size_t nenv_files;
	uint64_t memory;
	double cpus;
	int64_t pids_limit;
	struct run_net_opts net;
};

static void usage(void)
{
	printf("Usage: vmm run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
	       "Run a command in a new container, inside its own micro-VM.\n\n"
	       "Options:\n"
	       "      --rm                 remove the container when it exits\n"
	       "  -d, --detach             run in the background and print the container ID\n"
	       "      --name NAME          name the container\n"
	       "  -e, --env KEY[=VALUE]    set an environment variable (KEY alone: from ours)\n"
	       "      --env-file FILE      read KEY=VALUE lines\n"
	       "  -w, --workdir DIR        working directory inside the container\n"
	       "  -u, --user USER[:GROUP]  user name or uid (and group)\n"
	       "      --entrypoint CMD     override the image's entrypoint\n"
	       "  -i, --interactive        keep stdin open\n"
	       "  -t, --tty                allocate a terminal\n"
	       "  -m, --memory SIZE        memory limit (e.g. 64m, 1g); the VM gets it plus 96 MiB\n"
	       "      --cpus N             CPU limit (e.g. 1.5): ceil(N) vCPUs and a quota\n"
	       "      --pids-limit N       process limit\n"
	       "      --hostname NAME      the container's host name (default: its short ID)\n"
	       "      --read-only          mount the root filesystem read-only\n"
	       "      --cold               boot the VM from scratch (no snapshot)\n"
	       RUN_NET_USAGE);
}

static int push(char ***v, size_t *n, char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

static int parse_memory_limit(const char *s, uint64_t *out)
{
	/* docker: a bare number is bytes; 6 MiB minimum */
	if (parse_size(s, 1, out) || *out < 6 * MiB)
		return -EINVAL;
	return 0;
}

static int parse_args(int argc, char **argv, struct run_opts *o)
{
	enum { OPT_RM = 256, OPT_NAME, OPT_ENV_FILE, OPT_ENTRYPOINT, OPT_CPUS, OPT_PIDS,
	       OPT_HOSTNAME, OPT_READ_ONLY, OPT_COLD };
	static const struct option opts[] = {
		{ "rm", no_argument, NULL, OPT_RM },
		{ "detach", no_argument, NULL, 'd' },
		{ "name", required_argument, NULL, OPT_NAME },
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
		{ "hostname", required_argument, NULL, OPT_HOSTNAME },
		{ "read-only", no_argument, NULL, OPT_READ_ONLY },
		{ "cold", no_argument, NULL, OPT_COLD },
		{ "help", no_argument, NULL, 'h' },
		RUN_NET_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	uint64_t v;
	int c;

	/* '+': options stop at IMAGE; what follows is the container's command. */
	while ((c = getopt_long(argc, argv, "+de:w:u:itm:h" RUN_NET_SHORT_OPTIONS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_RM: o->rm = true; break;
		case 'd': o->detach = true; break;
		case OPT_NAME:
			if (!container_name_valid(optarg))
				return cli_usage_error("run", "--name %s: invalid name (use [a-zA-Z0-9][a-zA-Z0-9_.-]+)", optarg);
			o->name = optarg;
			break;
		case 'e':
			if (!*optarg || *optarg == '=')
				return cli_usage_error("run", "-e '%s': expected KEY=VALUE or KEY", optarg);
			push(&o->env, &o->nenv, optarg);
			break;
		case OPT_ENV_FILE: push(&o->env_files, &o->nenv_files, optarg); break;
		case 'w':
			if (optarg[0] != '/')
				return cli_usage_error("run", "-w %s: the working directory must be an absolute path", optarg);
			o->workdir = optarg;
			break;
		case 'u': o->user = optarg; break;
		case OPT_ENTRYPOINT: o->entrypoint = optarg; break;
		case 'i': o->interactive = true; break;
		case 't': o->tty = true; break;
		case 'm':
			if (parse_memory_limit(optarg, &o->memory))
				return cli_usage_error("run", "--memory %s: not a size of at least 6m (e.g. 64m, 1g)", optarg);
			break;
		case OPT_CPUS:
			errno = 0;
			o->cpus = strtod(optarg, &end);
			if (errno || *end || !(o->cpus > 0) || o->cpus > VM_MAX_CPUS)
				return cli_usage_error("run", "--cpus %s: a number of CPUs from 0.01 to %d", optarg, VM_MAX_CPUS);
			break;
		case OPT_PIDS:
			if (!strcmp(optarg, "-1"))
				o->pids_limit = 0;
			else if (parse_uint(optarg, 1, 1u << 22, &v))
				return cli_usage_error("run", "--pids-limit %s: a positive number (or -1: unlimited)", optarg);
			else
				o->pids_limit = v;
			break;
		case OPT_HOSTNAME:
			if (!*optarg || strlen(optarg) > 64)
				return cli_usage_error("run", "--hostname: 1 to 64 characters");
			o->hostname = optarg;
			break;
		case OPT_READ_ONLY: o->read_only = true; break;
		case OPT_COLD: o->cold = true; break;
		case 'h': usage(); return 1;
		default: {
			int ret = run_net_option(&o->net, c, optarg);

			if (ret == 1)
				return cli_bad_option("run", argv);
			if (ret)
				return ret;
			break;
		}
		}
	}
	if (o->rm && o->detach)
		pr_debug("--rm with -d: removed when it exits");
	return 0;
}

static bool has_key(char *const *env, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], key, n) && env[i][n] == '=')
			return true;
	return false;
}

/* KEY=VALUE wins over an earlier KEY; "KEY" alone takes our value (or is dropped). */
static int env_set(char ***env, size_t *n, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	char *entry;

	if (!eq) {
		const char *host = getenv(kv);

		if (!host)
			return 0;
		if (asprintf(&entry, "%s=%s", kv, host) < 0)
			return -ENOMEM;
	} else if (!(entry = strdup(kv))) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < *n; i++) {
		if (!strncmp((*env)[i], entry, klen) && (*env)[i][klen] == '=') {
			free((*env)[i]);
			(*env)[i] = entry;
			return 0;
		}
	}
	return push(env, n, entry);
}

static int env_file(char ***env, size_t *n, const char *path)
{
	char *data, *save = NULL;
	int ret = read_file(AT_FDCWD, path, 1 << 20, &data, NULL);

	if (ret) {
		pr_err("--env-file %s: %s", path, strerror(-ret));
		return ret;
	}
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, "\r")] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line || *line == '#')
			continue;
		if (*line == '=') {
			pr_err("--env-file %s: bad line '%s' (expected KEY=VALUE)", path, line);
			free(data);
			return -EINVAL;
		}
		env_set(env, n, line);
	}
	free(data);
	return 0;
}

/* docker's rules: --entrypoint resets the image's Cmd; arguments after IMAGE replace Cmd. */
static char **resolve_argv(const struct run_opts *o, const struct image_config *ic,
			   char **cmd, int ncmd)
{
	char **argv = NULL;
	size_t n = 0;

	if (o->entrypoint) {
		if (*o->entrypoint)
			push(&argv, &n, strdup(o->entrypoint));
	} else {
		for (size_t i = 0; ic->entrypoint && ic->entrypoint[i]; i++)
			push(&argv, &n, strdup(ic->entrypoint[i]));
	}
	if (ncmd > 0) {
		for (int i = 0; i < ncmd; i++)
			push(&argv, &n, strdup(cmd[i]));
	} else if (!o->entrypoint) {
		for (size_t i = 0; ic->cmd && ic->cmd[i]; i++)
			push(&argv, &n, strdup(ic->cmd[i]));
	}
	return argv;
}

/* The image's base disk, built once per image into $VMM_ROOT/disks/. */
static int ensure_base_disk(const struct image *img, char *path, size_t len)
{
	struct rootfs_layer *layers;
	struct rootfs_opts ro = { 0 };
	int ret = image_disk_path(img, path, len);

	if (ret || access(path, F_OK) == 0)
		return ret;
	ret = mkdir_parent(path, 0700);
	if (ret)
		return ret;
	layers = calloc(img->n_layers ? img->n_layers : 1, sizeof(*layers));
	if (!layers)
		return -ENOMEM;
	for (size_t i = 0; i < img->n_layers; i++) {
		ret = image_layer_verify(img, i);
		if (ret)
			goto out;
		layers[i].path = img->layers[i].path;
		layers[i].media_type = img->layers[i].media_type;
	}
	pr_info("building the root disk of %.19s", img->config_digest);
	ret = rootfs_build(layers, img->n_layers, path, &ro, NULL);
out:
	free(layers);
	return ret;
}

static int create_overlay(struct container *ct, const char *base)
{
	struct qcow2_create_opts q = { .backing_file = base, .backing_fmt = "raw" };
	struct stat st;
	char path[4096];

	if (stat(base, &st) < 0)
		return -errno;
	q.size = st.st_size;
	container_path(ct, "disk.qcow2", path, sizeof(path));
	return qcow2_create(path, &q, NULL);
}

static int build_config(struct cli *cli, struct run_opts *o, struct image *img,
			const char *image_name, char **cmd, int ncmd, struct container_config *c)
{
	size_t nenv = 0;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = container_new_id(c->id);
	if (ret)
		return ret;
	c->name = o->name ? strdup(o->name) : NULL;
	if (!c->name) {
		char buf[64];

		container_new_name(buf, sizeof(buf));
		c->name = strdup(buf);
	}
	c->image = strdup(img->config_digest);
	c->image_name = strdup(image_name);
	c->created = time(NULL);
	c->argv = resolve_argv(o, &img->config, cmd, ncmd);
	if (!c->argv || !c->argv[0]) {
		pr_err("%s: no command specified (the image has no Entrypoint or Cmd: give one after the image name)",
		       image_name);
		return -EINVAL;
	}
	for (size_t i = 0; img->config.env && img->config.env[i]; i++)
		env_set(&c->env, &nenv, img->config.env[i]);
	for (size_t i = 0; i < o->nenv_files; i++)
		if ((ret = env_file(&c->env, &nenv, o->env_files[i])))
			return ret;
	for (size_t i = 0; i < o->nenv; i++)
		env_set(&c->env, &nenv, o->env[i]);
	if (!has_key(c->env, "PATH"))
		env_set(&c->env, &nenv, DEFAULT_PATH);
	c->workdir = strdup(o->workdir ? o->workdir : img->config.working_dir && *img->config.working_dir
			    ? img->config.working_dir : "/");
	c->user = o->user ? strdup(o->user) : img->config.user && *img->config.user ? strdup(img->config.user) : NULL;
	c->hostname = strndup(o->hostname ? o->hostname : c->id, o->hostname ? 64 : 12);
	c->tty = o->tty;
	c->interactive = o->interactive;
	c->read_only = o->read_only;
	c->auto_remove = o->rm;
	c->memory = o->memory;
	c->vm_memory = o->memory ? MAX(VM_MEMORY_DEFAULT, ALIGN_UP(o->memory, MiB) + VM_MEMORY_OVERHEAD)
				 : VM_MEMORY_DEFAULT;
	c->vcpus = o->cpus > 0 ? (unsigned)(o->cpus + 0.999) : 1;
	c->cpu_quota = o->cpus > 0 ? (uint64_t)(o->cpus * 100000) : 0;
	c->pids_limit = o->pids_limit;
	(void)cli;
	return run_net_config(&o->net, &img->config, &c->net) ? -EINVAL : 0;
}

int cli_container_start(struct cli *cli, struct container *ct, const struct runner_opts *base,
			bool detach, bool fresh)
{
	struct runner_opts ro = *base;
	int p[2], status;
	pid_t pid;
	char line[600];
	ssize_t n;

	if (container_lock(ct)) {
		pr_err("container %s is already running", ct->cfg.name);
		return EXIT_VMM_ERROR;
	}
	if (!detach) {
		ro.ready_fd = -1;
		status = runner_run(&cli->paths, ct, &ro);
		goto done;
	}
	/* -d: a child runs the VM; we return once the container's process started. */
	if (pipe2(p, O_CLOEXEC) < 0)
		return EXIT_VMM_ERROR;
	pid = fork();
	if (pid < 0) {
		pr_err("fork: %s", strerror(errno));
		return EXIT_VMM_ERROR;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		close(p[0]);
		setsid();
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		ro.attach = false;
		ro.interactive = false;
		ro.ready_fd = p[1];
		status = runner_run(&cli->paths, ct, &ro);
		if (ct->cfg.auto_remove || (fresh && ct->state.status == CONTAINER_CREATED))
			container_remove(ct);
		_exit(status);
	}
	close(p[1]);
	close(ct->lock_fd);	/* the child holds the run lock now */
	ct->lock_fd = -1;
	n = read(p[0], line, sizeof(line) - 1);
	close(p[0]);
	line[n > 0 ? n : 0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (strcmp(line, "ok")) {
		/* The child removes a container that never started: return once that is done. */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		pr_err("container %s did not start: %s", ct->cfg.name, *line ? line : "the vmm process died");
		return EXIT_VMM_ERROR;
	}
	printf("%s\n", ct->cfg.id);
	return 0;
done:
	/* --rm, or a process that never started: leave nothing behind */
	if (ct->cfg.auto_remove || (fresh && ct->state.status == CONTAINER_CREATED))
		container_remove(ct);
	return status;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	struct run_opts o = { 0 };
	struct runner_opts ro = { .attach = true, .ready_fd = -1 };
	struct container_config cfg = { 0 };
	struct container *ct = NULL;
	struct store *store = NULL;
	struct image *img = NULL;
	char base[4096];
	const char *image_name;
	int ret, status = EXIT_VMM_ERROR;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret == 1 ? 0 : ret;
	if (optind >= argc) {
		status = cli_usage_error("run", "requires an IMAGE (e.g. vmm run busybox echo hello)");
		goto out;
	}
	image_name = argv[optind];
	store = cli_store_open(cli->paths.root);
	if (!store)
		goto out;
	if (image_open(store, image_name, &img))
		goto out;	/* logged: no such image */
	ret = build_config(cli, &o, img, image_name, argv + optind + 1, argc - optind - 1, &cfg);
	if (ret)
		goto out;
	{
		struct error e = { 0 };

		/* Before anything exists: a taken port or a missing tap leaves nothing behind. */
		if (runner_net_check(cli->paths.root, &cfg.net, &e)) {
			err_print(&e);
			goto out;
		}
	}
	ret = ensure_base_disk(img, base, sizeof(base));
	if (ret) {
		pr_err("%s: cannot build its root disk: %s", image_name, strerror(-ret));
		goto out;
	}
	image_close(img);
	img = NULL;
	store_close(store);	/* an open store would block blob deletion */
	store = NULL;

	ret = container_create(cli->paths.root, &cfg, &ct);
	if (ret)
		goto out;
	ret = create_overlay(ct, base);
	if (ret) {
		pr_err("container %s: cannot create its disk: %s", ct->cfg.name, strerror(-ret));
		container_remove(ct);
		goto out;
	}
	ro.interactive = o.interactive;
	ro.cold = o.cold;
	status = cli_container_start(cli, ct, &ro, o.detach, true);
out:
	container_free(ct);
	container_config_free(&cfg);
	image_close(img);
	if (store)
		store_close(store);
	free(o.env);
	free(o.env_files);
	run_net_opts_free(&o.net);
	return status;
}
