/* vmm rmi: untag images, delete them with their last name, collect their blobs. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "vmm/cli/cli.h"
#include "vmm/engine/image-remove.h"
#include "vmm/base/log.h"

static void usage(void)
{
	printf("Usage: vmm rmi [OPTIONS] IMAGE [IMAGE...]\n\n"
	       "Remove images: a name removes that tag (and the image with its last tag); an\n"
	       "image ID removes the image with all its tags. Blobs no image needs any more\n"
	       "are deleted.\n\n"
	       "Options:\n"
	       "  -f, --force   remove an image with several tags by ID, or one a container uses\n"
	       "  -h, --help    show this help\n");
}

static void report(void *arg, const char *what, const char *name)
{
	printf("%s: %s\n", what, name);
}

int cmd_rmi(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct image_removal r = { .report = report };
	struct error e = { 0 };
	int c, ret, status = 0;

	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			r.force = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			return cli_bad_option("rmi", argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("rmi", "missing IMAGE");
	if (image_removal_begin(&r, cli->paths.root, &e))
		return cli_fail(&e, 1);
	for (int i = optind; i < argc; i++) {
		if (image_removal_one(&r, argv[i], &e))
			status = cli_fail(&e, 1);
		err_clear(&e);
	}
	ret = image_removal_end(&r, &e);
	if (ret == -EBUSY)
		pr_info("other vmm processes use the store: unused blobs stay until 'vmm image prune'");
	else if (ret)
		status = cli_fail(&e, 1);
	return status;
}
