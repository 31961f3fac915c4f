/* vmm tag: another name for an image. */
#include <getopt.h>
#include <stdio.h>

#include "images/oci/image.h"
#include "images/oci/ref.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/base/log.h"

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
	char digest[DIGEST_BUF];
	struct descriptor desc;
	struct image_ref ref;
	const char *why;
	struct store *s;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage();
			return 0;
		}
		return cli_usage_error("tag", "unknown option");
	}
	if (argc - optind != 2)
		return cli_usage_error("tag", "want SOURCE_IMAGE and TARGET_IMAGE");
	if (ref_parse(argv[optind + 1], REF_DEFAULT_TAG, &ref, &why)) {
		pr_err("%s: invalid reference format: %s", argv[optind + 1], why);
		return 1;
	}
	if (ref.digest[0]) {
		pr_err("%s: refusing to create a tag with a digest reference", argv[optind + 1]);
		return 1;
	}
	if (!(s = cli_store_open(cli->paths.root)))
		return 1;
	ret = image_resolve(s, argv[optind], digest, NULL, 0, &e);
	if (!ret && !(ret = store_index_find(s, digest, &desc, &e))) {
		ret = store_tag_add(s, argv[optind + 1], &desc, NULL, &e);
		descriptor_free(&desc);
	}
	if (ret)
		err_print(&e);
	store_close(s);
	return ret ? 1 : 0;
}
