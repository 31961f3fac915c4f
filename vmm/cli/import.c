/* vmm import: a root filesystem tarball becomes a one-layer image. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/image-import.h"

static void usage(void)
{
	printf("Usage: vmm import [OPTIONS] FILE|- [REPOSITORY[:TAG]]\n\n"
	       "Make an image from a root filesystem tarball (plain, gzip, bzip2, xz or zstd);\n"
	       "'-' reads it from stdin. The image has one layer and a config made only of the\n"
	       "--change instructions.\n\n"
	       "Options:\n"
	       CLI_CHANGE_HELP
	       "  -h, --help           show this help\n");
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "change", required_argument, NULL, 'c' },
		{ "message", required_argument, NULL, 'm' },
		{ "platform", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct import_opts o = { .fd = -1 };
	struct error e = { 0 };
	struct image_made made;
	char **changes = NULL;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "c:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (strv_push(&changes, optarg))
				ret = cli_usage_error("import", "out of memory");
			break;
		case 'm':
			o.message = optarg;
			break;
		case 'p':
			if (strcmp(optarg, "linux/amd64") && strcmp(optarg, "linux"))
				ret = cli_usage_error("import", "--platform %s: vmm runs linux/amd64 only", optarg);
			break;
		case 'h':
			usage();
			strv_free(changes);
			return 0;
		default:
			ret = cli_bad_option("import", argv);
		}
		if (ret) {
			strv_free(changes);
			return ret;
		}
	}
	if (argc - optind < 1 || argc - optind > 2) {
		strv_free(changes);
		return cli_usage_error("import", "want FILE|- and optionally REPOSITORY[:TAG]");
	}
	o.label = argv[optind];
	o.ref = argc - optind == 2 ? argv[optind + 1] : NULL;
	o.changes = changes;
	if (!strcmp(o.label, "-")) {
		if (isatty(STDIN_FILENO)) {
			strv_free(changes);
			pr_err("import: stdin is a terminal (give a FILE or pipe a tarball in)");
			return 1;
		}
		o.fd = STDIN_FILENO;
	} else if ((o.fd = open(o.label, O_RDONLY | O_CLOEXEC)) < 0) {
		err_sys(&e, errno, "import %s", o.label);
		strv_free(changes);
		return cli_fail(&e, 1);
	}
	ret = engine_import(&cli->paths, &o, &made, &e);
	if (o.fd != STDIN_FILENO)
		close(o.fd);
	strv_free(changes);
	if (ret) {
		err_wrap(&e, ret, "import %s", o.label);
		return cli_fail(&e, 1);
	}
	printf("%s\n", made.config_digest);
	return 0;
}
