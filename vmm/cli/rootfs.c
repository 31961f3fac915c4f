/*
 * vmm rootfs build: apply image layer tarballs to a new ext4 disk image without the
 * store (a debugging and benchmarking aid; `vmm run` does the same from the store).
 * vmm rootfs diff: the layer between two such images (what vmm commit and build store).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/disk/disk.h"
#include "images/rootfs/diff.h"
#include "images/rootfs/rootfs.h"
#include "vmm/cli/cli.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm rootfs build [OPTIONS] OUT.img LAYER...\n"
		"       vmm rootfs diff [OPTIONS] [PARENT] CHILD\n\n"
		"Apply image layers (tar, tar.gz or tar.zst; the first is the base) in order\n"
		"to a new sparse ext4 image, as the root disk of a container. Rootless: no\n"
		"mounts, nothing from a layer touches the host.\n\n"
		"Options:\n"
		"  -s, --size SIZE     virtual size of the filesystem (default 4G)\n"
		"      --inodes N      number of inodes (default: one per 16 KiB)\n"
		"  -L, --label LABEL   filesystem label (at most 16 bytes)\n"
		"  -q, --quiet         print nothing on success\n"
		"  -h, --help          this text\n\n"
		"diff writes the layer (an uncompressed tar with whiteouts) that turns the\n"
		"filesystem of PARENT into that of CHILD (disk images, raw or qcow2; without\n"
		"PARENT, all of CHILD) to stdout or OUT.tar, and with -l lists the changes\n"
		"as docker diff does.\n\n"
		"Options:\n"
		"  -o, --output OUT.tar   write the layer there\n"
		"  -l, --list             print the changes (A, C, D lines) on stdout\n"
		"  -q, --quiet            no summary line\n");
}

static int build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "inodes", required_argument, NULL, 'i' },
		{ "label", required_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	struct rootfs_opts o = { .size = ROOTFS_DEFAULT_SIZE };
	struct rootfs_layer *layers;
	struct rootfs_stats st;
	bool quiet = false;
	char a[32], b[32];
	int c, n, err;

	while ((c = getopt_long(argc, argv, "s:L:qh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, 1, &o.size) || o.size < ROOTFS_MIN_SIZE ||
			    o.size > ROOTFS_MAX_SIZE)
				return cli_usage_error("rootfs build", "--size: '%s' is not a size "
						       "between 16M and 16T", optarg);
			break;
		case 'i':
			if (parse_uint(optarg, 1024, UINT32_MAX, &o.inodes))
				return cli_usage_error("rootfs build", "--inodes: '%s' is not a "
						       "number from 1024 to 4294967295", optarg);
			break;
		case 'L':
			if (strlen(optarg) > 16)
				return cli_usage_error("rootfs build", "--label: at most 16 bytes");
			o.label = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_usage_error("rootfs build", "bad option");
		}
	}
	if (argc - optind < 1)
		return cli_usage_error("rootfs build", "missing OUT.img");
	n = argc - optind - 1;
	layers = calloc(n ? n : 1, sizeof(*layers));
	if (!layers) {
		pr_err("out of memory");
		return 1;
	}
	for (int i = 0; i < n; i++)
		layers[i].path = argv[optind + 1 + i];
	err = rootfs_build(layers, n, argv[optind], &o, &st, &e);
	free(layers);
	if (err)
		return cli_fail(&e, 1);
	if (!quiet) {
		format_size_si(st.data_bytes, a, sizeof(a));
		format_size_iec(o.size, b, sizeof(b));
		printf("%s: %llu members, %llu inodes, %s of file data, %s filesystem\n",
		       argv[optind], (unsigned long long)st.members,
		       (unsigned long long)st.files, a, b);
	}
	return 0;
}

static int open_image(const char *path, const char *trusted_dir, struct rootfs_image **img,
		      struct error *e)
{
	const char *dirs[] = { trusted_dir, NULL };
	struct disk_open_opts o = { .format = DISK_FMT_AUTO, .read_only = true,
				    .trusted_dirs = trusted_dir ? dirs : NULL };

	return rootfs_image_open(path, &o, img, e);
}

static int diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "list", no_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rootfs_image *parent = NULL, *child = NULL;
	struct rootfs_diff_stats st;
	struct error e = { 0 };
	const char *out = NULL, *ppath = NULL, *cpath;
	bool list = false, quiet = false;
	char *pdir = NULL, size[32];
	int c, fd = -1, ret;

	while ((c = getopt_long(argc, argv, "o:lqh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'l':
			list = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_bad_option("rootfs diff", argv);
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage_error("rootfs diff", "requires [PARENT] CHILD");
	if (argc - optind == 2)
		ppath = argv[optind++];
	cpath = argv[optind];
	if (!out && !list && isatty(STDOUT_FILENO)) {
		pr_err("cowardly refusing to write a tar archive to a terminal: use -o OUT.tar or "
		       "redirect the output");
		return 1;
	}
	/* a child overlay may have its backing file next to the parent */
	if (ppath && !(pdir = strdup(ppath))) {
		pr_err("out of memory");
		return 1;
	}
	ret = ppath ? open_image(ppath, NULL, &parent, &e) : 0;
	if (!ret)
		ret = open_image(cpath, pdir ? dirname(pdir) : NULL, &child, &e);
	if (!ret && out && (fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		ret = err_sys(&e, -errno, "%s", out);
	if (!ret)
		ret = rootfs_diff(parent, child, out ? fd : list ? -1 : STDOUT_FILENO,
				  list ? cli_print_change : NULL, NULL, &st, &e);
	if (fd >= 0 && close(fd) && !ret)
		ret = err_sys(&e, -errno, "%s", out);
	if (ret && fd >= 0)
		unlink(out);
	if (!ret && out && !quiet) {
		format_size_si(st.data_bytes, size, sizeof(size));
		printf("%s: %llu members (%llu whiteouts, %llu opaque directories), %s of file "
		       "data%s\n", out, (unsigned long long)st.entries,
		       (unsigned long long)st.whiteouts, (unsigned long long)st.opaque, size,
		       rootfs_image_replayed(child) ? "; the child's journal was replayed" : "");
	}
	rootfs_image_close(parent);
	rootfs_image_close(child);
	free(pdir);
	return ret ? cli_fail(&e, 1) : 0;
}

int cmd_rootfs(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_VMM_ERROR : 0;
	}
	if (!strcmp(argv[1], "build"))
		return build(argc - 1, argv + 1);
	if (!strcmp(argv[1], "diff"))
		return diff(argc - 1, argv + 1);
	return cli_usage_error("rootfs", "unknown subcommand '%s'", argv[1]);
}
