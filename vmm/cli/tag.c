/* vmm tag: another name for an image. */
#include <getopt.h>
#include <stdio.h>

#include "images/oci/image.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/image-fmt.h"

static void usage(void)
{
	printf("Usage: vmm tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\n"
	       "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE (a name or an image ID).\n\n"
	       "Options:\n"
	       "  -h, --help   show this help\n");
}

int cmd_tag(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	struct store *s;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage();
			return 0;
		}
		return cli_bad_option("tag", argv);
	}
	if (argc - optind != 2)
		return cli_usage_error("tag", "want SOURCE_IMAGE and TARGET_IMAGE");
	if (!(s = cli_store_open(cli->paths.root)))
		return 1;
	ret = image_tag(s, argv[optind], argv[optind + 1], &e) ? cli_fail(&e, 1) : 0;
	store_close(s);
	return ret;
}
