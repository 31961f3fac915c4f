/* vmm cp: copy files between the host and a running container. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/copy.h"

/* "CONTAINER:PATH" -> container, path; a host path has no colon before its first slash. */
static char *split(char *arg, char **path)
{
	char *colon = strchr(arg, ':');

	if (!colon || (strchr(arg, '/') && strchr(arg, '/') < colon))
		return NULL;
	*colon = '\0';
	*path = colon + 1;
	return arg;
}

int cmd_cp(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "archive", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *src_path = NULL, *dst_path = NULL, *src_ct, *dst_ct;
	struct error e = { 0 };
	bool archive = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		if (c == 'a') {
			archive = true;
			continue;
		}
		if (c == 'h') {
			printf("Usage: vmm cp [-a] CONTAINER:SRC_PATH DEST_PATH\n"
			       "       vmm cp [-a] SRC_PATH CONTAINER:DEST_PATH\n\n"
			       "Copy files or directories between a running container and the host.\n"
			       "What comes out of a container belongs to you, without setuid or setgid\n"
			       "bits; device nodes and FIFOs are not copied.\n\n"
			       "Options:\n"
			       "  -a, --archive   keep the owners (uid, gid) the container gave\n");
			return 0;
		}
		return cli_bad_option("cp", argv);
	}
	if (argc - optind != 2)
		return cli_usage_error("cp", "requires a source and a destination");
	src_ct = split(argv[optind], &src_path);
	dst_ct = split(argv[optind + 1], &dst_path);
	if (!!src_ct == !!dst_ct)
		return cli_usage_error("cp", "exactly one side must be CONTAINER:PATH");
	if ((src_ct && !*src_path) || (dst_ct && !*dst_path))
		return cli_usage_error("cp", "the container path is empty");
	ret = src_ct ? engine_copy(&cli->paths, src_ct, false, src_path, argv[optind + 1], archive, &e)
		     : engine_copy(&cli->paths, dst_ct, true, argv[optind], dst_path, archive, &e);
	return ret ? cli_fail(&e, 1) : 0;
}
