/* vmm image prune: delete blobs no image needs and cached disks of removed images. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/store.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

static void usage(void)
{
	printf("Usage: vmm image prune [OPTIONS]\n\n"
	       "Delete blobs that no image in the store references (left by 'vmm rmi' while\n"
	       "the store was busy, or by interrupted loads) and cached disks\n"
	       "($VMM_ROOT/disks/<image id>.img) of images that are gone and that no\n"
	       "container uses. Waits for other vmm processes using the store.\n\n"
	       "Options:\n"
	       "  -f, --force   do not prompt for confirmation\n"
	       "  -h, --help    show this help\n");
}

int cmd_image_prune(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	struct gc_result res;
	bool force = false;
	struct store *s;
	char size[32];
	int c, ret;

	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			return cli_bad_option("image prune", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("image prune", "unexpected argument '%s'", argv[optind]);
	if (!force) {
		char line[16] = "";

		printf("WARNING! This will remove all unreferenced blobs and cached disks of removed "
		       "images.\nAre you sure you want to continue? [y/N] ");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin) || (strcmp(line, "y\n") && strcmp(line, "Y\n") &&
							  strcmp(line, "yes\n") && strcmp(line, "y"))) {
			if (!isatty(STDIN_FILENO))
				printf("\n");
			return 0;
		}
	}
	if (!(s = cli_store_open(cli->paths.root)))
		return 1;
	ret = store_gc(s, GC_WAIT | GC_DISKS, &res, &e);
	store_close(s);
	if (ret)
		return cli_fail(&e, 1);
	format_size_si(res.bytes, size, sizeof(size));
	printf("Deleted blobs: %u\nDeleted cached disks: %u\nTotal reclaimed space: %s\n",
	       res.blobs, res.disks, size);
	return 0;
}
