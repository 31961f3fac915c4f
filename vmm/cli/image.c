/* vmm image SUBCOMMAND: docker's "image" management command group. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/cli/cli.h"
#include "vmm/base/log.h"

static const struct cli_command image_commands[] = {
	{ "build", cmd_build, "Build an image from a Dockerfile" },
	{ "history", cmd_history, "Show the history of an image" },
	{ "import", cmd_import, "Make an image from a root filesystem tarball" },
	{ "inspect", cmd_image_inspect, "Show detailed information on images" },
	{ "load", cmd_load, "Load images from a tar archive or an OCI layout" },
	{ "ls", cmd_images, "List images (also: list)" },
	{ "pull", cmd_pull, "Pull an image from a registry" },
	{ "push", cmd_push, "Push an image to a registry" },
	{ "prune", cmd_image_prune, "Remove unreferenced blobs and unused cached disks" },
	{ "rm", cmd_rmi, "Remove images (also: remove)" },
	{ "save", cmd_save, "Save images to a tar archive" },
	{ "tag", cmd_tag, "Create a tag that refers to an image" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm image COMMAND\n\nManage images.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(image_commands) / sizeof(image_commands[0]); i++)
		fprintf(f, "  %-10s %s\n", image_commands[i].name, image_commands[i].summary);
	fprintf(f, "\nRun 'vmm image COMMAND --help' for more on a command.\n");
}

int cmd_image(struct cli *cli, int argc, char **argv)
{
	const char *sub;

	if (argc < 2) {
		usage(stderr);
		return EXIT_VMM_ERROR;
	}
	sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(sub, "list"))
		sub = "ls";
	else if (!strcmp(sub, "remove") || !strcmp(sub, "rmi"))
		sub = "rm";
	for (size_t i = 0; i < sizeof(image_commands) / sizeof(image_commands[0]); i++) {
		if (!strcmp(sub, image_commands[i].name)) {
			optind = 0;
			return image_commands[i].fn(cli, argc - 1, argv + 1);
		}
	}
	pr_err("unknown command 'image %s' (see 'vmm image --help')", argv[1]);
	return EXIT_VMM_ERROR;
}
