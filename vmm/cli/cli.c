/* Error helpers shared by every subcommand. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmm/base/template.h"
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
	return EXIT_VMM_ERROR;	/* docker: 125 for vmm's own errors, flags included */
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

bool cli_confirm_removal(const char *what)
{
	char answer[16] = "";

	fprintf(stderr, "WARNING! This will remove %s.\nAre you sure you want to continue? [y/N] ", what);
	return fgets(answer, sizeof(answer), stdin) && (answer[0] == 'y' || answer[0] == 'Y');
}

int cli_dispatch(struct cli *cli, const char *cmd, int argc, char **argv, const struct cli_verb *verbs,
		 size_t n, void (*usage)(FILE *))
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_VMM_ERROR : 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(cli, argc - 1, argv + 1);
	return cli_usage_error(cmd, "unknown command '%s'", argv[1]);
}

int cli_print_objects(json_object *all, const char *format)
{
	struct template *t = NULL;
	struct error e = { 0 };
	int ret = 0;

	if (!format) {
		/* docker's layout: indented, a space after each colon */
		printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
		return 0;
	}
	if (template_parse(format, &t, &e) || template_print(t, NULL, all, stdout, &e))
		ret = cli_fail(&e, EXIT_VMM_ERROR);
	template_free(t);
	return ret;
}

int cli_inspect(struct cli *cli, const char *cmd, int argc, char **argv,
		json_object *(*get)(struct cli *cli, const char *name, struct error *e), void (*usage)(FILE *))
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_object *all = json_object_new_array();
	const char *format = NULL;
	struct template *t = NULL;
	struct error e = { 0 };
	int c, status = 0;

	optind = 1;
	while (!status && (c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (c == 'f') {
			format = optarg;
			/* a bad template is refused before anything is looked up */
			if (template_parse(optarg, &t, &e))
				status = cli_fail(&e, EXIT_VMM_ERROR);
			template_free(t);
			t = NULL;
		} else if (c == 'h') {
			usage(stdout);
			goto out;
		} else {
			status = cli_bad_option(cmd, argv);
		}
	}
	if (!status && optind >= argc)
		status = cli_usage_error(cmd, "'%s inspect' requires at least one name", cmd);
	for (int i = optind; !status && i < argc; i++) {
		json_object *o = get(cli, argv[i], &e);

		if (!o)
			status = cli_fail(&e, EXIT_VMM_ERROR);
		else
			json_object_array_add(all, o);
	}
	if (!status)
		status = cli_print_objects(all, format);
out:
	json_object_put(all);
	return status;
}
