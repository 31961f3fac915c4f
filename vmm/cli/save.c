/* vmm save: images as a docker-archive or oci-archive tar. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/oci/save.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/base/log.h"

static void usage(void)
{
	printf("Usage: vmm save [OPTIONS] IMAGE [IMAGE...]\n\n"
	       "Save images to a tar archive (default: stdout, which must not be a terminal).\n\n"
	       "Options:\n"
	       "  -o, --output FILE   write to FILE (replaced only once complete)\n"
	       "      --format FMT    docker-archive (default: what docker load reads; layers\n"
	       "                      uncompressed) or oci-archive (blobs as stored)\n"
	       "  -h, --help          show this help\n");
}

/* Write to a temp file beside the output, renamed over it once complete. */
static int save_to_file(struct store *s, char **names, size_t n, enum save_format fmt,
			const char *out)
{
	struct error e = { 0 };
	char *tmp;
	int fd, ret;

	if (asprintf(&tmp, "%s.tmp-XXXXXX", out) < 0)
		return 1;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		pr_err("%s: %s", out, strerror(errno));
		free(tmp);
		return 1;
	}
	fchmod(fd, 0644);
	ret = image_save(s, names, n, fmt, fd, out, &e);
	if (ret)
		err_print(&e);
	if (!ret && fsync(fd) < 0) {
		pr_err("%s: %s", out, strerror(errno));
		ret = -errno;
	}
	close(fd);
	if (!ret && rename(tmp, out) < 0) {
		pr_err("%s: %s", out, strerror(errno));
		ret = -errno;
	}
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret ? 1 : 0;
}

int cmd_save(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	enum save_format fmt = SAVE_DOCKER_ARCHIVE;
	const char *out = NULL;
	struct store *s;
	int c, ret;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "docker-archive") || !strcmp(optarg, "docker"))
				fmt = SAVE_DOCKER_ARCHIVE;
			else if (!strcmp(optarg, "oci-archive") || !strcmp(optarg, "oci"))
				fmt = SAVE_OCI_ARCHIVE;
			else
				return cli_usage_error("save", "unknown format '%s' (use docker-archive "
						       "or oci-archive)", optarg);
			break;
		case 'h':
			usage();
			return 0;
		default:
			return cli_bad_option("save", argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("save", "missing IMAGE");
	if (!out && isatty(STDOUT_FILENO)) {
		pr_err("refusing to write the archive to a terminal (use -o FILE or redirect stdout)");
		return 1;
	}
	if (!(s = cli_store_open(cli->paths.root)))
		return 1;
	if (out)
		ret = save_to_file(s, argv + optind, argc - optind, fmt, out);
	else
		ret = image_save(s, argv + optind, argc - optind, fmt, STDOUT_FILENO, "stdout", &e) ?
		      cli_fail(&e, 1) : 0;
	store_close(s);
	return ret;
}
