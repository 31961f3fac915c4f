/* Starting a container's vmm process, shared by run, start and restart. */
#ifndef VMM_CLI_RUN_H
#define VMM_CLI_RUN_H

#include <stdbool.h>

struct cli;
struct container;
struct runner_opts;

/*
 * Run ct in this process (attached) or in a detached child (detach: returns
 * once its process started, after printing the ID). A fresh container (run)
 * whose process never started is removed (no leftovers), as is one with --rm
 * once it ends.
 */
int cli_container_start(struct cli *cli, struct container *ct, const struct runner_opts *opts,
			bool detach, bool fresh);

#endif
