/* Error helpers shared by every subcommand. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmm/cli/cli.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s (see 'vmm %s --help')", msg, cmd);
	return 2;
}

int cli_fail(const struct error *e, int status)
{
	err_print(e);
	return status;
}

int cli_bad_option(const char *cmd, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (optopt && !str_has_prefix(arg, "--"))
		return cli_usage_error(cmd, "invalid option '-%c' or missing argument", optopt);
	return cli_usage_error(cmd, "invalid option '%s' or missing argument", arg);
}

int cli_dispatch(struct cli *cli, const char *cmd, int argc, char **argv, const struct cli_verb *verbs,
		 size_t n, void (*usage)(FILE *))
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(cli, argc - 1, argv + 1);
	return cli_usage_error(cmd, "unknown command '%s'", argv[1]);
}
