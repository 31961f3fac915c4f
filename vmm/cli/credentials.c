#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/cli/credentials.h"

void cli_auth_files(const struct cli *cli, const char *authfile, struct auth_files *out)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	const char *dc = getenv("DOCKER_CONFIG");

	memset(out, 0, sizeof(*out));
	if (authfile)
		snprintf(out->own, sizeof(out->own), "%s", authfile);
	else if (cli->root_explicit || (!(xdg && *xdg) && !(home && *home)))
		snprintf(out->own, sizeof(out->own), "%s/auth.json", cli->paths.root);
	else if (xdg && *xdg)
		snprintf(out->own, sizeof(out->own), "%s/vmm/auth.json", xdg);
	else
		snprintf(out->own, sizeof(out->own), "%s/.config/vmm/auth.json", home);
	if (dc && *dc)
		snprintf(out->docker, sizeof(out->docker), "%s/config.json", dc);
	else if (home && *home)
		snprintf(out->docker, sizeof(out->docker), "%s/.docker/config.json", home);
	out->list[0] = out->own;
	out->list[1] = out->docker;
	out->list[2] = NULL;
}
