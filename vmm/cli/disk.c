/* vmm disk: create, inspect, check, convert and resize disk images (like qemu-img). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/cli/disk.h"
#include "vmm/base/log.h"

static const struct {
	const char *name;
	int (*fn)(struct cli *, int, char **);
	const char *summary;
} subcommands[] = {
	{ "create", cmd_disk_create, "Create a qcow2 or raw image, optionally over a backing file" },
	{ "info", cmd_disk_info, "Show an image's format, sizes, backing file and flags" },
	{ "check", cmd_disk_check, "Check a qcow2 image for leaks and corruption, optionally repair" },
	{ "convert", cmd_disk_convert, "Copy an image to another format (sparse, optionally compressed)" },
	{ "resize", cmd_disk_resize, "Grow an image's virtual size" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm disk COMMAND [OPTIONS] FILE...\n\n"
		"Create, inspect, check, convert and resize disk images (raw, qcow2).\n\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (subcommands[i].summary)
			fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\nBacking files named inside images are followed only inside the image's own\n"
		"directory or the store's disks/ directory; --allow-unsafe-backing follows any path.\n"
		"Run 'vmm disk COMMAND --help' for more on a command.\n");
}

int disk_cli_open(struct cli *cli, const char *path, enum disk_format fmt, bool read_only,
		  bool allow_unsafe, bool no_backing, struct disk **out)
{
	char *trusted = NULL;
	const char *dirs[2] = { NULL, NULL };
	struct error e = { 0 };
	struct disk_open_opts opts = {
		.format = fmt,
		.read_only = read_only,
		.allow_unsafe_backing = allow_unsafe,
		.trusted_dirs = dirs,
		.no_backing = no_backing,
	};
	int ret;

	if (cli && cli->paths.root && asprintf(&trusted, "%s/disks", cli->paths.root) > 0)
		dirs[0] = trusted;
	ret = disk_open(path, &opts, out, &e);
	free(trusted);
	if (ret)
		err_print(&e);
	return ret;
}

int disk_cli_format(const char *cmd, const char *name, enum disk_format *fmt)
{
	if (disk_format_parse(name, fmt) < 0)
		return cli_usage_error(cmd, "unknown format '%s' (use raw or qcow2)", name);
	return 0;
}

int cmd_disk(struct cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_VMM_ERROR;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(cli, argc - 1, argv + 1);
	pr_err("unknown disk command '%s' (see 'vmm disk --help')", argv[1]);
	return EXIT_VMM_ERROR;
}
