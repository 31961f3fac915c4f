/* vmm disk create [-f qcow2|raw] [-b BACKING [-F FMT]] [-o OPTS] FILE [SIZE] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/disk/qcow2.h"
#include "images/disk/raw.h"
#include "vmm/cli/disk.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm disk create [-f qcow2|raw] [-b BACKING [-F FMT]] [-o OPTIONS] FILE [SIZE]\n\n"
		"Create an empty image (replacing FILE). SIZE takes K, M, G, T suffixes; with a\n"
		"backing file it defaults to the backing file's size.\n\n"
		"  -f FMT                  qcow2 (default) or raw\n"
		"  -b BACKING              qcow2 backing file, stored as given (relative names are\n"
		"                          relative to FILE's directory)\n"
		"  -F FMT                  backing file format (default: probed)\n"
		"  -o OPT=VAL[,...]        qcow2 options: cluster_size (512..2M, default 64K),\n"
		"                          compat (0.10 or 1.1, default 1.1), refcount_bits (1..64,\n"
		"                          default 16), lazy_refcounts (on/off)\n"
		"  --allow-unsafe-backing  follow backing files of BACKING outside its directory\n");
}

static int parse_o(char *s, struct qcow2_create_opts *o)
{
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		char *eq = strchr(tok, '=');
		uint64_t v;

		if (!eq)
			return cli_usage_error("disk create", "-o: expected OPTION=VALUE, got '%s'", tok);
		*eq++ = '\0';
		if (!strcmp(tok, "cluster_size")) {
			if (parse_size(eq, 1, &v) < 0 || v > 2 * MiB)
				return cli_usage_error("disk create", "bad cluster_size '%s'", eq);
			o->cluster_size = v;
		} else if (!strcmp(tok, "compat")) {
			if (!strcmp(eq, "0.10") || !strcmp(eq, "v2"))
				o->version = 2;
			else if (!strcmp(eq, "1.1") || !strcmp(eq, "v3"))
				o->version = 3;
			else
				return cli_usage_error("disk create", "bad compat '%s' (0.10 or 1.1)", eq);
		} else if (!strcmp(tok, "refcount_bits")) {
			if (parse_uint(eq, 1, 64, &v) < 0)
				return cli_usage_error("disk create", "bad refcount_bits '%s'", eq);
			o->refcount_bits = v;
		} else if (!strcmp(tok, "lazy_refcounts")) {
			o->lazy_refcounts = !strcmp(eq, "on") || !strcmp(eq, "true");
		} else if (!strcmp(tok, "backing_file")) {
			o->backing_file = eq;
		} else if (!strcmp(tok, "backing_fmt")) {
			o->backing_fmt = eq;
		} else {
			return cli_usage_error("disk create", "unknown option '%s'", tok);
		}
	}
	return 0;
}

int cmd_disk_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "allow-unsafe-backing", no_argument, NULL, DISK_OPT_ALLOW_UNSAFE },
		{ NULL, 0, NULL, 0 },
	};
	struct qcow2_create_opts o = { 0 };
	struct error e = { 0 };
	enum disk_format fmt = DISK_FMT_QCOW2, bfmt = DISK_FMT_AUTO;
	bool allow_unsafe = false, have_size = false;
	const char *path;
	int c, ret;

	while ((c = getopt_long(argc, argv, "+f:b:F:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((ret = disk_cli_format("disk create", optarg, &fmt)))
				return ret;
			break;
		case 'b':
			o.backing_file = optarg;
			break;
		case 'F':
			if ((ret = disk_cli_format("disk create", optarg, &bfmt)))
				return ret;
			break;
		case 'o':
			if ((ret = parse_o(optarg, &o)))
				return ret;
			break;
		case DISK_OPT_ALLOW_UNSAFE:
			allow_unsafe = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_usage_error("disk create", "bad option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("disk create", "missing FILE");
	if (argc - optind > 2)
		return cli_usage_error("disk create", "too many arguments");
	path = argv[optind];
	if (optind + 1 < argc) {
		if (parse_size(argv[optind + 1], 1, &o.size) < 0)
			return cli_usage_error("disk create", "bad size '%s'", argv[optind + 1]);
		have_size = true;
	}
	if (o.backing_fmt && disk_cli_format("disk create", o.backing_fmt, &bfmt))
		return EXIT_VMM_ERROR;
	if (fmt == DISK_FMT_RAW) {
		if (o.backing_file)
			return cli_usage_error("disk create", "raw images cannot have a backing file");
		if (!have_size)
			return cli_usage_error("disk create", "missing SIZE");
		if (raw_create(path, o.size, &e)) {
			err_print(&e);
			return 1;
		}
		return 0;
	}
	if (o.backing_file) {
		char *bpath = disk_backing_path(path, o.backing_file);
		struct disk *b = NULL;

		if (!bpath)
			return 1;
		/* The user named this file: open it as given; its own backing chain follows the policy. */
		ret = disk_cli_open(cli, bpath, bfmt, true, allow_unsafe, false, &b);
		free(bpath);
		if (ret)
			return 1;
		if (!have_size)
			o.size = b->size;
		o.backing_fmt = disk_format_name(b->format);
		disk_close(b);
	} else if (!have_size) {
		return cli_usage_error("disk create", "missing SIZE");
	}
	if (qcow2_create(path, &o, &e)) {
		err_print(&e);
		return 1;
	}
	if (o.backing_file) {
		const char *dirs[2] = { NULL, NULL };
		char *trusted = NULL;
		struct disk_open_opts po = { .trusted_dirs = dirs };

		if (cli->paths.root && asprintf(&trusted, "%s/disks", cli->paths.root) > 0)
			dirs[0] = trusted;
		if (disk_backing_check(path, o.backing_file, &po) == -EPERM)
			pr_warn("%s: backing file %s is outside the image's directory: opening %s "
				"will need --allow-unsafe-backing", path, o.backing_file, path);
		free(trusted);
	}
	return 0;
}
