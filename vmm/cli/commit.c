/* vmm commit: a container's changes as a new image. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "images/oci/ref.h"
#include "vmm/base/strv.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/commit.h"

static void usage(void)
{
	printf("Usage: vmm commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]\n\n"
	       "Make an image of a stopped container: one layer with what changed on its disk,\n"
	       "and its image's config with the container's command, environment, working\n"
	       "folder, user and labels.\n\n"
	       "Options:\n"
	       CLI_CHANGE_HELP
	       "  -a, --author NAME    the image's author\n"
	       "  -p, --pause          accepted: a running container is refused anyway\n"
	       "  -h, --help           show this help\n");
}

int cmd_commit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "change", required_argument, NULL, 'c' },
		{ "message", required_argument, NULL, 'm' },
		{ "author", required_argument, NULL, 'a' },
		{ "pause", optional_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct commit_opts o = { 0 };
	struct error e = { 0 };
	struct image_made made;
	struct image_ref ref;
	char **changes = NULL;
	const char *why;
	int c, ret = 0;

	while (!ret && (c = getopt_long(argc, argv, "c:m:a:ph", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ret = strv_push(&changes, optarg) ? cli_usage_error("commit", "out of memory") : 0;
			break;
		case 'm':
			o.message = optarg;
			break;
		case 'a':
			o.author = optarg;
			break;
		case 'p':
			break;
		case 'h':
			usage();
			strv_free(changes);
			return 0;
		default:
			ret = cli_bad_option("commit", argv);
		}
	}
	if (!ret && (argc - optind < 1 || argc - optind > 2))
		ret = cli_usage_error("commit", "want CONTAINER and optionally REPOSITORY[:TAG]");
	if (!ret && argc - optind == 2 &&
	    (ref_parse(argv[optind + 1], REF_DEFAULT_TAG, &ref, &why) || ref.digest[0]))
		ret = cli_usage_error("commit", "%s: invalid reference format%s%s", argv[optind + 1],
				      ref.digest[0] ? "" : ": ", ref.digest[0] ? " (a digest cannot be a tag)" : why);
	if (ret) {
		strv_free(changes);
		return ret;
	}
	o.container = argv[optind];
	o.ref = argc - optind == 2 ? argv[optind + 1] : NULL;
	o.changes = changes;
	ret = engine_commit(&cli->paths, &o, &made, &e);
	strv_free(changes);
	if (ret)
		return cli_fail(&e, 1);
	printf("%s\n", made.config_digest);
	return 0;
}
