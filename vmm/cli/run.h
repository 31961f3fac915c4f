/*
 * vmm run's options, shared with vmm create (the same flags, docker's):
 * parsed into a create config for the engine and start options.
 */
#ifndef VMM_CLI_RUN_H
#define VMM_CLI_RUN_H

#include <stdbool.h>

#include "vmm/engine/run-mounts.h"
#include "vmm/engine/run-net.h"
#include "vmm/engine/create.h"
#include "vmm/engine/lifecycle.h"

struct run_opts {
	const char *cmd;		/* "run" or "create": for help and usage errors */
	struct create_config c;
	struct start_opts start;
	bool detach;
	const char *pull;		/* --pull: missing (NULL), always, never */
	char **env, **env_files, **labels;
	struct run_net_opts net;
	struct run_mount_opts mounts;
};

/* --restart, --memory, --cpus, --pids-limit, shared with vmm update: into cc. 0, else the usage error's status. */
enum run_limit { RUN_LIMIT_RESTART, RUN_LIMIT_MEMORY, RUN_LIMIT_CPUS, RUN_LIMIT_PIDS };
int run_limit_option(const char *cmd, enum run_limit which, const char *arg, struct create_config *cc);

/* Parse the options before IMAGE: 0, 1 after --help, else the usage error's exit status. */
int run_parse_args(int argc, char **argv, struct run_opts *o);
/* With IMAGE at argv[optind]: the engine's config and the start options. */
void run_fill_config(struct run_opts *o, int argc, char **argv);
void run_opts_free(struct run_opts *o);
struct cli;
/* --pull's policy for o's image: 0, or the failure's exit status (reported). */
int run_pull(struct cli *cli, const struct run_opts *o);

#endif
