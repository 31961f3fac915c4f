/* vmm: global options, then one subcommand from the table. */
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/cli/cli.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

static const struct cli_command commands[] = {
	{ "create", cmd_create, "Create a container, ready to start (vmm run's options)" },
	{ "run", cmd_run, "Run a command in a new container (its own micro-VM)" },
	{ "ps", cmd_ps, "List containers" },
	{ "start", cmd_start, "Start stopped containers" },
	{ "stop", cmd_stop, "Stop running containers" },
	{ "restart", cmd_restart, "Restart containers" },
	{ "kill", cmd_kill, "Send a signal to running containers" },
	{ "pause", cmd_pause, "Pause containers: their VMs' vCPUs stop" },
	{ "unpause", cmd_unpause, "Let paused containers run again" },
	{ "rename", cmd_rename, "Rename a container" },
	{ "update", cmd_update, "Change containers' restart policy and limits" },
	{ "rm", cmd_rm, "Remove containers" },
	{ "exec", cmd_exec, "Run a command in a running container" },
	{ "attach", cmd_attach, "Follow a running container's output, pass it our signals" },
	{ "logs", cmd_logs, "Show a container's output" },
	{ "wait", cmd_wait, "Wait for containers to stop, print their exit codes" },
	{ "inspect", cmd_inspect, "Show containers (or images) as JSON" },
	{ "events", cmd_events, "Print container events as they happen" },
	{ "cp", cmd_cp, "Copy files between a container and the host" },
	{ "top", cmd_top, "Show a container's processes" },
	{ "stats", cmd_stats, "Show containers' CPU, memory, network and disk use" },
	{ "diff", cmd_diff, "List the changes to a container's filesystem" },
	{ "export", cmd_export, "Write a container's filesystem as a tar archive" },
	{ "snapshot", cmd_snapshot, "List or remove the saved VMs behind warm starts" },
	{ "port", cmd_port, "List a container's published ports" },
	{ "boot", cmd_boot, "Boot a kernel directly (low level: tests, guest debugging)" },

	{ "commit", cmd_commit, "Make an image of a container's changes" },
	{ "build", cmd_build, "Build an image from a Dockerfile (each RUN in a micro-VM)" },
	{ "check", cmd_check, "Check what this host offers for running vmm" },
	{ "history", cmd_history, "Show the history of an image" },
	{ "image", cmd_image, "Manage images (build, inspect, ls, rm, tag, load, save, pull, push, import, history, prune)" },
	{ "images", cmd_images, "List images" },
	{ "import", cmd_import, "Make an image from a root filesystem tarball" },
	{ "load", cmd_load, "Load images from a tar archive or an OCI layout" },
	{ "login", cmd_login, "Log in to a registry" },
	{ "logout", cmd_logout, "Log out from a registry" },
	{ "pull", cmd_pull, "Pull an image from a registry" },
	{ "push", cmd_push, "Push an image to a registry" },
	{ "rmi", cmd_rmi, "Remove images" },
	{ "save", cmd_save, "Save images to a tar archive" },
	{ "tag", cmd_tag, "Create a tag that refers to an image" },
	{ "rootfs", cmd_rootfs, "Build an ext4 root disk from layer tarballs (debugging)" },
	{ "disk", cmd_disk, "Create, inspect, check, convert and resize disk images" },
	{ "domain", cmd_domain, "libvirt domain XML: define, start, console, shutdown, destroy, list, dumpxml, export" },
	{ "volume", cmd_volume, "Manage volumes: create, ls, inspect, rm, prune" },
	{ "network", cmd_network, "Manage networks: create, ls, inspect, rm, prune, connect, disconnect" },
	{ "oci", cmd_oci, "The OCI runtime command line for podman, CRI-O, containerd (also: vmm-runtime)" },
	{ "system", cmd_system, "Disk usage, prune, info, and the Docker Engine API (system df|prune|info|service)" },
	{ "generate", cmd_generate, "Generate a systemd unit that starts a container at boot" },
	{ "info", cmd_info, "Show the containers by state, the images and the host" },
	{ "version", cmd_version, "Show vmm's version" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm [--root DIR] [--log-level LEVEL] COMMAND [ARGS...]\n\n"
		"A KVM micro-VM hypervisor: every container gets its own kernel.\n\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].summary)
			fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nOptions:\n"
		"  --root DIR          image and container store (default: $VMM_ROOT,\n"
		"                      /var/lib/vmm as root, else $XDG_DATA_HOME/vmm)\n"
		"  --log-level LEVEL   error, warn, info or debug (default: warn)\n"
		"  -D, --debug         same as --log-level debug\n"
		"\nRun 'vmm COMMAND --help' for more on a command.\n");
}

static char *default_dir(const char *env, const char *root_default,
			 const char *xdg, const char *xdg_fallback)
{
	const char *v = getenv(env);
	char *out;

	if (v && *v)
		return strdup(v);
	if (geteuid() == 0)
		return strdup(root_default);
	v = getenv(xdg);
	if (v && *v) {
		if (asprintf(&out, "%s/vmm", v) < 0)
			return NULL;
		return out;
	}
	v = getenv("HOME");
	if (!v || !*v) {	/* never /tmp: another user could make the folder first */
		struct passwd *pw = getpwuid(geteuid());

		v = pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
	}
	if (!v || asprintf(&out, "%s/%s/vmm", v, xdg_fallback) < 0)
		return NULL;
	return out;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "debug", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .prog = argv[0] };
	char *root = NULL, *owned_root = NULL, *runtime;
	const char *base = strrchr(argv[0], '/');
	int c, ret;

	/* Engines call a runtime binary with runc's arguments: vmm-runtime is vmm oci. */
	if (!strcmp(base ? base + 1 : argv[0], "vmm-runtime")) {
		opterr = 0;
		return cmd_oci(&cli, argc, argv);
	}

	/* '+': stop at the first non-option, the subcommand. */
	while ((c = getopt_long(argc, argv, "+Dh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root = optarg;
			break;
		case 'l':
			if (!strcmp(optarg, "error"))
				log_set_level(LOG_ERROR);
			else if (!strcmp(optarg, "warn") || !strcmp(optarg, "warning"))
				log_set_level(LOG_WARN);
			else if (!strcmp(optarg, "info"))
				log_set_level(LOG_INFO);
			else if (!strcmp(optarg, "debug"))
				log_set_level(LOG_DEBUG);
			else {
				pr_err("--log-level: unknown level '%s' (use error, warn, info or debug)", optarg);
				return EXIT_VMM_ERROR;
			}
			break;
		case 'D':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			cli_print_version();
			return 0;
		default:
			usage(stderr);
			return EXIT_VMM_ERROR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_VMM_ERROR;
	}
	cli.root_explicit = root || (getenv("VMM_ROOT") && *getenv("VMM_ROOT"));
	if (!root)
		root = owned_root = default_dir("VMM_ROOT", "/var/lib/vmm", "XDG_DATA_HOME", ".local/share");
	runtime = default_dir("VMM_RUNTIME", "/run/vmm", "XDG_RUNTIME_DIR", ".cache/vmm-run");
	if (!root || !runtime) {
		pr_err("no home folder for the store: set HOME, or give --root and VMM_RUNTIME");
		return EXIT_VMM_ERROR;
	}
	cli.paths.root = root;
	cli.paths.runtime = runtime;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[optind], commands[i].name)) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;

			optind = 0;	/* reset getopt for the subcommand */
			opterr = 0;	/* subcommands report bad options in one line */
			ret = commands[i].fn(&cli, sub_argc, sub_argv);
			goto out;
		}
	}
	pr_err("unknown command '%s' (see 'vmm --help')", argv[optind]);
	ret = EXIT_VMM_ERROR;
out:
	free(owned_root);
	free(runtime);
	return ret;
}
