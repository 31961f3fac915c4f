/* vmm diff: what changed in a container's filesystem since it was made from its image. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/export.h"

int cli_print_change(void *arg, enum rootfs_change kind, const char *path)
{
	FILE *f = arg ? arg : stdout;

	fprintf(f, "%c ", (char)kind);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)	/* names come from the guest: no terminal controls */
			fprintf(f, "\\%03o", *p);
		else
			putc(*p, f);
	}
	putc('\n', f);
	return ferror(f) ? -EIO : 0;
}

int cmd_diff(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: vmm diff CONTAINER\n\n"
			       "List the changes to files and directories of a stopped container's\n"
			       "filesystem since it was created from its image, as docker diff does:\n"
			       "A added, C changed, D deleted (only the top of a deleted directory).\n");
			return 0;
		}
		return cli_bad_option("diff", argv);
	}
	if (argc - optind != 1)
		return cli_usage_error("diff", "requires exactly one CONTAINER");
	if (engine_diff(&cli->paths, argv[optind], cli_print_change, NULL, &e))
		return cli_fail(&e, 1);
	return fflush(stdout) ? 1 : 0;
}
