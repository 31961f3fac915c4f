/* Where registry credentials live, for vmm pull, login and logout. */
#ifndef VMM_CLI_CREDENTIALS_H
#define VMM_CLI_CREDENTIALS_H

#include "vmm/cli/cli.h"

struct auth_files {
	char own[4096];		/* vmm's file: read first, the one vmm login writes */
	char docker[4096];	/* docker's config.json: read only ("" when no $HOME) */
	const char *list[3];	/* { own, docker, NULL } for creds_lookup() */
};

/*
 * --authfile when given; else $VMM_ROOT/auth.json when the store was named
 * (--root or $VMM_ROOT); else ${XDG_CONFIG_HOME:-~/.config}/vmm/auth.json.
 * Docker's: $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
 */
void cli_auth_files(const struct cli *cli, const char *authfile, struct auth_files *out);

#endif
