/* vmm image inspect: docker-like JSON about images. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "images/oci/image.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/engine/image-json.h"

static void usage(void)
{
	printf("Usage: vmm image inspect IMAGE [IMAGE...]\n\n"
	       "Show what the store knows about images, as a JSON array like docker's.\n\n"
	       "Options:\n"
	       "  -h, --help   show this help\n");
}

int image_inspect_names(struct cli *cli, char **names, int n, const char *format)
{
	struct error e = { 0 };
	json_object *out;
	struct store *s;
	int status = 0;

	if (!(s = cli_store_open(cli->paths.root)))
		return 1;
	out = json_object_new_array();
	for (int i = 0; i < n; i++) {
		struct image *img;

		if (image_open(s, names[i], &img, &e)) {
			status = cli_fail(&e, 1);
			continue;
		}
		json_object_array_add(out, image_to_json(img));
		image_close(img);
	}
	if (!status)
		status = cli_print_objects(out, format);
	json_object_put(out);
	store_close(s);
	return status;
}

int cmd_image_inspect(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (c == 'f') {
			format = optarg;
			continue;
		}
		if (c == 'h') {
			usage();
			return 0;
		}
		return cli_bad_option("image inspect", argv);
	}
	if (optind >= argc)
		return cli_usage_error("image inspect", "missing IMAGE");
	return image_inspect_names(cli, argv + optind, argc - optind, format);
}
