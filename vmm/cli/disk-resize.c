/* vmm disk resize FILE [+]SIZE: grow an image (shrinking is refused). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "images/disk/qcow2.h"
#include "images/disk/raw.h"
#include "vmm/cli/disk.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm disk resize [-f FMT] FILE [+]SIZE\n\n"
		"Grow FILE's virtual size to SIZE, or by SIZE with a leading '+'. Shrinking is\n"
		"refused: it would cut off data the guest may still use.\n\n"
		"  -f FMT    image format (default: probed)\n");
}

int cmd_disk_resize(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "allow-unsafe-backing", no_argument, NULL, DISK_OPT_ALLOW_UNSAFE },
		{ NULL, 0, NULL, 0 },
	};
	enum disk_format fmt = DISK_FMT_AUTO;
	const char *path, *arg;
	uint64_t size, cur;
	struct disk *d;
	struct error e = { 0 };
	bool relative;
	int c, ret;

	while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((ret = disk_cli_format("disk resize", optarg, &fmt)))
				return ret;
			break;
		case DISK_OPT_ALLOW_UNSAFE:
			break;	/* resizing never reads the backing file */
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_usage_error("disk resize", "bad option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("disk resize", "expected FILE and SIZE");
	path = argv[optind];
	arg = argv[optind + 1];
	if (arg[0] == '-')
		return cli_usage_error("disk resize", "shrinking is not supported");
	relative = arg[0] == '+';
	if (parse_size(arg + relative, 1, &size) < 0)
		return cli_usage_error("disk resize", "bad size '%s'", arg);
	if (disk_cli_open(cli, path, fmt, false, false, true, &d))
		return 1;
	cur = d->size;
	if (relative) {
		if (size > UINT64_MAX - cur) {
			disk_close(d);
			return cli_usage_error("disk resize", "size too large");
		}
		size += cur;
	}
	if (size < cur) {
		pr_err("%s: shrinking is not supported (current size %llu, requested %llu)", path,
		       (unsigned long long)cur, (unsigned long long)size);
		disk_close(d);
		return 1;
	}
	if (disk_is_qcow2(d)) {
		ret = qcow2_resize(d, size);
		if (ret)
			err_copy(&e, &d->err, ret);
		disk_close(d);
	} else {
		disk_close(d);
		ret = raw_resize(path, size, &e);
	}
	if (ret) {
		err_print(&e);
		return 1;
	}
	printf("Image resized.\n");
	return 0;
}
