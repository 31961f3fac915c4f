/* The vmm command line: one file per subcommand, one table of them. */
#ifndef VMM_CLI_CLI_H
#define VMM_CLI_CLI_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "images/rootfs/diff.h"
#include "vmm/base/error.h"	/* EXIT_VMM_ERROR */
#include "vmm/engine/paths.h"

/* Global state every subcommand receives: where things live. */
struct cli {
	const char *prog;	/* argv[0] as invoked */
	/*
	 * root: --root, $VMM_ROOT, /var/lib/vmm (root) or $XDG_DATA_HOME/vmm;
	 * runtime: $VMM_RUNTIME, /run/vmm (root) or $XDG_RUNTIME_DIR/vmm.
	 */
	struct paths paths;
	bool root_explicit;	/* root came from --root or $VMM_ROOT (credentials then live there) */
};

struct cli_command {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);	/* returns the exit status */
	const char *summary;	/* NULL: a hidden command (tests, debugging) */
};

/* Print "vmm: error: ..." plus a hint to see --help; returns docker's exit status for it (125). */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For getopt's '?': names the offending option; returns 2. */
int cli_bad_option(const char *cmd, char **argv);

/* The one line of a failure ("vmm: error: ..."); returns status, for "return cli_fail(&e, 1)". */
int cli_fail(const struct error *e, int status);

/* vmm stop and vmm restart (restart: start each again after it stopped); the exit status. */
int cli_stop_each(struct cli *cli, const char *cmd, int argc, char **argv, bool restart);
/* start and restart: start one container (detached: prints its ID); vmm's exit status. */
int cli_start_container(struct cli *cli, const char *ref, bool attach, bool interactive);

/* Commands with verbs (vmm volume create ...): a table, and one dispatcher. */
struct cli_verb {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
};
/* inspect's output: all (a JSON array) pretty-printed, or format once per object. */
int cli_print_objects(json_object *all, const char *format);
/*
 * `vmm X inspect [-f TEMPLATE] NAME...`: get() makes each one's JSON (NULL with
 * e when there is none); a JSON array, or the template once per object.
 */
int cli_inspect(struct cli *cli, const char *cmd, int argc, char **argv,
		json_object *(*get)(struct cli *cli, const char *name, struct error *e), void (*usage)(FILE *));
/* prune's question on stderr, as docker asks it: true when the answer on stdin starts with y. */
bool cli_confirm_removal(const char *what);
/* Run argv[1]'s verb; none, -h or --help prints usage (to stderr and 125 when none). */
int cli_dispatch(struct cli *cli, const char *cmd, int argc, char **argv, const struct cli_verb *verbs,
		 size_t n, void (*usage)(FILE *));

/* Subcommands (vmm/cli/<name>.c). */

int cmd_boot(struct cli *cli, int argc, char **argv);
int cmd_cp(struct cli *cli, int argc, char **argv);
int cmd_diff(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
/* One change as docker diff prints it ("C /etc"), control characters escaped; arg: a FILE (NULL: stdout). */
int cli_print_change(void *arg, enum rootfs_change kind, const char *path);
int cmd_events(struct cli *cli, int argc, char **argv);
int cmd_exec(struct cli *cli, int argc, char **argv);
int cmd_inspect(struct cli *cli, int argc, char **argv);
int cmd_kill(struct cli *cli, int argc, char **argv);
int cmd_pause(struct cli *cli, int argc, char **argv);
int cmd_unpause(struct cli *cli, int argc, char **argv);
int cmd_logs(struct cli *cli, int argc, char **argv);
int cmd_port(struct cli *cli, int argc, char **argv);
int cmd_ps(struct cli *cli, int argc, char **argv);
int cmd_restart(struct cli *cli, int argc, char **argv);
int cmd_rm(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_snapshot(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_stop(struct cli *cli, int argc, char **argv);
int cmd_system(struct cli *cli, int argc, char **argv);
/* vmm system df, vmm system prune */
int system_df(struct cli *cli, int argc, char **argv);
int system_prune(struct cli *cli, int argc, char **argv);
int cmd_top(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_attach(struct cli *cli, int argc, char **argv);
int cmd_info(struct cli *cli, int argc, char **argv);
int cmd_generate(struct cli *cli, int argc, char **argv);
int cmd_wait(struct cli *cli, int argc, char **argv);
/* commit's and import's -c help */
#define CLI_CHANGE_HELP \
	"  -c, --change INSTR   apply a Dockerfile instruction to the config (CMD, ENTRYPOINT,\n" \
	"                       ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL)\n" \
	"  -m, --message MSG    the history comment\n"
int cmd_commit(struct cli *cli, int argc, char **argv);
int cmd_build(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_image(struct cli *cli, int argc, char **argv);
int cmd_image_inspect(struct cli *cli, int argc, char **argv);
/* vmm image inspect of names[0..n), as JSON or through format. */
int image_inspect_names(struct cli *cli, char **names, int n, const char *format);
int cmd_image_prune(struct cli *cli, int argc, char **argv);
int cmd_images(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_load(struct cli *cli, int argc, char **argv);
int cmd_login(struct cli *cli, int argc, char **argv);
int cmd_logout(struct cli *cli, int argc, char **argv);
int cmd_pull(struct cli *cli, int argc, char **argv);
/* vmm pull's work, for run and create too: docker's lines to out. 0 or the exit status. */
struct cli_pull_opts {
	bool quiet, insecure;
	const char *authfile;
	FILE *out;
};
int cli_pull(struct cli *cli, const char *name, const struct cli_pull_opts *o);
int cmd_push(struct cli *cli, int argc, char **argv);
int cmd_rmi(struct cli *cli, int argc, char **argv);
int cmd_save(struct cli *cli, int argc, char **argv);
int cmd_tag(struct cli *cli, int argc, char **argv);
int cmd_rootfs(struct cli *cli, int argc, char **argv);
int cmd_disk(struct cli *cli, int argc, char **argv);
int cmd_domain(struct cli *cli, int argc, char **argv);
int cmd_volume(struct cli *cli, int argc, char **argv);
int cmd_network(struct cli *cli, int argc, char **argv);
int cmd_version(struct cli *cli, int argc, char **argv);
int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_rename(struct cli *cli, int argc, char **argv);
int cmd_update(struct cli *cli, int argc, char **argv);
int cmd_oci(struct cli *cli, int argc, char **argv);
/* "vmm version X" for vmm --version. */
void cli_print_version(void);

#endif
