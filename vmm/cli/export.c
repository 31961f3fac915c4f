/* vmm export: a stopped container's filesystem as a tar archive. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/log.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/export.h"

int cmd_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	const char *out = NULL;
	int c, fd, ret;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'o') {
			out = optarg;
			continue;
		}
		if (c == 'h') {
			printf("Usage: vmm export [-o FILE] CONTAINER\n\n"
			       "Write a stopped container's filesystem as a tar archive to FILE or to\n"
			       "the standard output (never a terminal).\n\n"
			       "Options:\n"
			       "  -o, --output FILE   write to FILE instead of the standard output\n");
			return 0;
		}
		return cli_bad_option("export", argv);
	}
	if (argc - optind != 1)
		return cli_usage_error("export", "requires exactly one CONTAINER");
	if (!out && isatty(STDOUT_FILENO)) {
		pr_err("cowardly refusing to write a tar archive to a terminal: use -o FILE or "
		       "redirect the output");
		return 1;
	}
	fd = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : STDOUT_FILENO;
	if (fd < 0) {
		pr_err("%s: %s", out, strerror(errno));
		return 1;
	}
	ret = engine_export(&cli->paths, argv[optind], fd, &e);
	if (out) {
		if (close(fd) && !ret)
			ret = err_sys(&e, -errno, "%s", out);
		if (ret)
			unlink(out);
	}
	return ret ? cli_fail(&e, 1) : 0;
}
