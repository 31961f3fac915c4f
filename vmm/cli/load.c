/* vmm load: images from a docker-archive, an oci-archive or an OCI layout directory. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/load.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/base/log.h"

static void usage(void)
{
	printf("Usage: vmm load [OPTIONS]\n\n"
	       "Load images from a tar archive or an OCI layout directory (default: stdin).\n"
	       "Reads docker-archives (docker save), oci-archives and OCI layouts; the tar\n"
	       "and its layers may be plain, gzip or zstd compressed.\n\n"
	       "Options:\n"
	       "  -i, --input FILE   read from FILE (a tar, or a directory holding an OCI layout)\n"
	       "  -q, --quiet        print only the loaded names\n"
	       "  -h, --help         show this help\n");
}

int cmd_load(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	struct loaded_image *res;
	const char *input = NULL;
	struct store *s;
	bool quiet = false;
	size_t n;
	int c, ret;

	while ((c = getopt_long(argc, argv, "i:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			input = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			return cli_bad_option("load", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("load", "unexpected argument '%s' (use -i FILE)", argv[optind]);
	if (!input && isatty(STDIN_FILENO)) {
		pr_err("requested load from stdin, but stdin is a terminal (use -i FILE or a pipe)");
		return 1;
	}
	if (!(s = cli_store_open(cli->paths.root)))
		return 1;
	ret = image_load(s, input, STDIN_FILENO, &res, &n, &e);
	store_close(s);
	if (ret)
		return cli_fail(&e, 1);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; res[i].refs[j]; j++) {
			char name[512];

			fmt_short_ref(res[i].refs[j], name, sizeof(name));
			if (!quiet && res[i].replaced[j][0] &&
			    strcmp(res[i].replaced[j], res[i].config_digest))
				printf("The image %s already exists, renaming the old one with ID %s "
				       "to empty string\n", name, res[i].replaced[j]);
			printf("Loaded image: %s\n", name);
		}
		if (!res[i].refs[0])
			printf("Loaded image ID: %s\n", res[i].config_digest);
	}
	loaded_images_free(res, n);
	return 0;
}
