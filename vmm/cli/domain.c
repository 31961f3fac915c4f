/*
 * vmm domain: libvirt domain XML in and out (docs/libvirt.md). Verbs and
 * output follow virsh: define, undefine, list, dumpxml; --from-libvirt and
 * --to-libvirt talk to libvirt itself (vmm/domain/libvirt-conn.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/domain.h"
#include "vmm/domain/libvirt-conn.h"
#include "vmm/domain/lifecycle.h"
#include "vmm/domain/store.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm domain COMMAND [ARGS]\n\n"
		"libvirt domain XML: keep definitions in the store, run them, and give them back.\n\n"
		"Commands:\n"
		"  define FILE.xml     check a domain definition and keep it (- reads stdin)\n"
		"  define --from-libvirt URI NAME\n"
		"                      the same with libvirt's definition of NAME (virsh -c URI)\n"
		"  undefine NAME       forget a defined domain (not while it runs)\n"
		"  list [--all|--inactive] [--name]  domains, as virsh lists them\n"
		"  dumpxml NAME        the definition as domain XML\n"
		"  export --to-libvirt URI NAME\n"
		"                      define the domain NAME in libvirt at URI\n"
		"  start [--console] NAME  boot it in the background (its own vmm process)\n"
		"  shutdown [--timeout S] NAME  ask it to power off (a container's agent),\n"
		"                      and power it off after S seconds (10)\n"
		"  destroy NAME        power it off now\n"
		"  console NAME        this terminal on its pty console; ^] leaves\n"
		"  run FILE.xml|NAME   boot it in the foreground (like vmm boot); a pty console\n"
		"                      is this terminal; exits with the guest's status\n\n"
		"A domain with vmm's container metadata (vmm inspect --format libvirt) runs as\n"
		"that container, made again from the metadata when it is gone.\n"
		"URI is libvirt's (qemu:///system, test+unix:///default?socket=PATH, ...);\n"
		"the libvirt flags need a vmm built with libvirt ('vmm check' says).\n"
		"See docs/libvirt.md for the supported elements.\n");
}

static int one_arg(const char *verb, int argc, char **argv, const char *what)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 2)
		return cli_usage_error("domain", "'domain %s' takes one argument: %s", verb, what);
	return -1;
}

static int read_input(const char *path, char **xml, size_t *len, struct error *e)
{
	int ret;

	ret = read_file(AT_FDCWD, strcmp(path, "-") ? path : "/dev/stdin", DOMAIN_XML_MAX, xml, len);
	if (ret == -EFBIG)
		return err_set(e, ret, "%s: larger than %d bytes; not a domain definition", path,
			       DOMAIN_XML_MAX);
	return ret ? err_sys(e, ret, "%s", path) : 0;
}

/* Keep xml as a definition; from names its source in the message, what in errors. */
static int define_xml(struct cli *cli, const char *xml, size_t len, const char *from,
		      const char *what)
{
	struct domain_def d;
	struct error e = { 0 };
	int ret = domain_store_define(cli->paths.root, xml, len, &d, &e);

	if (ret) {
		err_wrap(&e, ret, "%s", what);
		return cli_fail(&e, EXIT_VMM_ERROR);
	}
	printf("Domain '%s' defined from %s\n\n", d.name, from);
	domain_free(&d);
	return 0;
}

/*
 * argv's --from-libvirt / --to-libvirt URI (flag without the dashes) into *uri,
 * and its one argument into *arg. 0, 1 after --help, or a usage error's status.
 */
static int parse_args(const char *verb, const char *flag, int argc, char **argv, const char **uri,
		      const char **arg)
{
	const struct option opts[] = {
		{ flag, required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			*uri = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			return cli_bad_option("domain", argv);
		}
	}
	if (!*uri && strcmp(verb, "define"))	/* export: libvirt is the only place it goes */
		return cli_usage_error("domain", "'domain %s' needs --%s URI", verb, flag);
	if (argc - optind != 1 && *uri)
		return cli_usage_error("domain", "'domain %s --%s URI NAME' takes one NAME", verb, flag);
	if (argc - optind != 1)
		return cli_usage_error("domain", "'domain %s' takes one argument: %s", verb,
				       !strcmp(verb, "define") ? "FILE.xml" : "NAME");
	*arg = argv[optind];
	return 0;
}

/* The domain NAME as libvirt at uri defines it, checked and kept as a file's would be. */
static int define_from_libvirt(struct cli *cli, const char *uri, const char *name)
{
	struct error e = { 0 };
	char *xml, what[4200];
	size_t len;
	int ret;

	if ((ret = domain_libvirt_version(NULL, 0, &e)) ||
	    (ret = domain_libvirt_get_xml(uri, name, &xml, &len, &e))) {
		err_wrap(&e, ret, "domain define --from-libvirt");
		return cli_fail(&e, EXIT_VMM_ERROR);
	}
	snprintf(what, sizeof(what), "%s: domain '%s'", uri, name);
	ret = define_xml(cli, xml, len, uri, what);
	free(xml);
	return ret;
}

static int define(struct cli *cli, int argc, char **argv)
{
	const char *uri = NULL, *arg;
	struct error e = { 0 };
	char *xml;
	size_t len;
	int ret = parse_args("define", "from-libvirt", argc, argv, &uri, &arg);

	if (ret)
		return ret == 1 ? 0 : ret;
	if (uri)
		return define_from_libvirt(cli, uri, arg);
	if (read_input(arg, &xml, &len, &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	ret = define_xml(cli, xml, len, arg, arg);
	free(xml);
	return ret;
}

/* vmm's definition of NAME defined in libvirt at URI (virsh -c URI define). */
static int export_domain(struct cli *cli, int argc, char **argv)
{
	const char *uri = NULL, *name;
	struct domain_def d;
	struct error e = { 0 };
	char *xml;
	int ret = parse_args("export", "to-libvirt", argc, argv, &uri, &name);

	if (ret)
		return ret == 1 ? 0 : ret;
	if ((ret = domain_libvirt_version(NULL, 0, &e))) {
		err_wrap(&e, ret, "domain export --to-libvirt");
		return cli_fail(&e, EXIT_VMM_ERROR);
	}
	if (domain_store_load(cli->paths.root, name, &d, &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	xml = domain_format(&d);
	domain_free(&d);
	if (!xml)
		ret = err_set(&e, -ENOMEM, "out of memory");
	else if ((ret = domain_libvirt_define(uri, name, xml, &e)))
		err_wrap(&e, ret, "domain export --to-libvirt");
	free(xml);
	if (ret)
		return cli_fail(&e, EXIT_VMM_ERROR);
	printf("Domain '%s' defined in %s\n\n", name, uri);
	return 0;
}

static int undefine(struct cli *cli, int argc, char **argv)
{
	struct error e = { 0 };
	int ret = one_arg("undefine", argc, argv, "NAME");

	if (ret >= 0)
		return ret;
	if (domain_forget(&cli->paths, argv[1], &e) || domain_store_undefine(cli->paths.root, argv[1], &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	printf("Domain '%s' has been undefined\n\n", argv[1]);
	return 0;
}

static int dumpxml(struct cli *cli, int argc, char **argv)
{
	struct domain_def d;
	struct error e = { 0 };
	char *xml;
	int ret = one_arg("dumpxml", argc, argv, "NAME");

	if (ret >= 0)
		return ret;
	if (domain_store_load(cli->paths.root, argv[1], &d, &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	xml = domain_format(&d);
	domain_free(&d);
	if (!xml) {
		err_set(&e, -ENOMEM, "out of memory");
		return cli_fail(&e, EXIT_VMM_ERROR);
	}
	fputs(xml, stdout);
	free(xml);
	return 0;
}

/* A defined domain's name, else a file of domain XML. */
static int load(struct cli *cli, const char *what, struct domain_def *d, struct error *e)
{
	char *xml;
	size_t len;
	int ret;

	if (!strchr(what, '/') && domain_name_valid(what) && !str_has_suffix(what, ".xml"))
		return domain_store_load(cli->paths.root, what, d, e);
	if ((ret = read_input(what, &xml, &len, e)))
		return ret;
	ret = domain_parse(xml, len, d, e);
	free(xml);
	return ret ? err_wrap(e, ret, "%s", what) : 0;
}

static int run(struct cli *cli, int argc, char **argv)
{
	struct domain_def d;
	struct error e = { 0 };
	int ret = one_arg("run", argc, argv, "FILE.xml or NAME"), status;

	if (ret >= 0)
		return ret;
	if (load(cli, argv[1], &d, &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	ret = domain_start(&cli->paths, &d, true, &status, &e);
	domain_free(&d);
	return ret ? cli_fail(&e, EXIT_VMM_ERROR) : status;
}

/* The verbs on a defined domain: VERB [--console] [--timeout S] NAME. */
struct verb_opts {
	bool console;
	uint64_t timeout;
};

/* VERB [--console] [--timeout S] NAME: the options, and NAME's definition in d. -1 to go on, else vmm's exit status. */
static int verb_domain(struct cli *cli, const char *verb, int argc, char **argv, bool console, bool timeout,
		       struct verb_opts *o, struct domain_def *d)
{
	static const struct option opts[] = {
		{ "console", no_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	char *end;
	int c;

	*o = (struct verb_opts){ .timeout = 10 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'c' && console) {
			o->console = true;
		} else if (c == 't' && timeout) {
			errno = 0;
			o->timeout = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || o->timeout > 86400)
				return cli_usage_error("domain", "--timeout %s: give whole seconds, 0 to 86400", optarg);
		} else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			return cli_bad_option("domain", argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("domain", "'domain %s' takes one argument: NAME", verb);
	if (domain_store_load(cli->paths.root, argv[optind], d, &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	return -1;
}

static int start(struct cli *cli, int argc, char **argv)
{
	struct verb_opts o;
	struct domain_def d;
	struct error e = { 0 };
	int ret = verb_domain(cli, "start", argc, argv, true, false, &o, &d), status;

	if (ret >= 0)
		return ret;
	ret = domain_start(&cli->paths, &d, false, &status, &e);
	if (!ret) {
		printf("Domain '%s' started\n\n", d.name);
		fflush(stdout);
	}
	status = ret ? cli_fail(&e, EXIT_VMM_ERROR) : o.console ? cli_domain_console(cli, &d) : 0;
	domain_free(&d);
	return status;
}

static int shutdown_cmd(struct cli *cli, int argc, char **argv)
{
	struct verb_opts o;
	struct domain_def d;
	struct error e = { 0 };
	int ret = verb_domain(cli, "shutdown", argc, argv, false, true, &o, &d);

	if (ret >= 0)
		return ret;
	ret = domain_shutdown(&cli->paths, &d, o.timeout, &e) ? cli_fail(&e, 1) : 0;
	if (!ret)
		printf("Domain '%s' is being shutdown\n\n", d.name);
	domain_free(&d);
	return ret;
}

static int destroy(struct cli *cli, int argc, char **argv)
{
	struct verb_opts o;
	struct domain_def d;
	struct error e = { 0 };
	int ret = verb_domain(cli, "destroy", argc, argv, false, false, &o, &d);

	if (ret >= 0)
		return ret;
	ret = domain_destroy(&cli->paths, &d, &e) ? cli_fail(&e, 1) : 0;
	if (!ret)
		printf("Domain '%s' destroyed\n\n", d.name);
	domain_free(&d);
	return ret;
}

static int console(struct cli *cli, int argc, char **argv)
{
	struct verb_opts o;
	struct domain_def d;
	int ret = verb_domain(cli, "console", argc, argv, false, false, &o, &d);

	if (ret >= 0)
		return ret;
	ret = cli_domain_console(cli, &d);
	domain_free(&d);
	return ret;
}

struct row {
	char *name;
	char id[16];
	bool running;
};

/* virsh's table: columns padded to their widest cell, three spaces apart; running ones first. */
static void print_table(const struct row *rows, size_t n)
{
	size_t idw = 2, w = 4, sw = 5;

	for (size_t i = 0; i < n; i++) {
		idw = MAX(idw, strlen(rows[i].id));
		w = MAX(w, strlen(rows[i].name));
		sw = MAX(sw, rows[i].running ? strlen("running") : strlen("shut off"));
	}
	printf(" %-*s   %-*s   %s\n", (int)idw, "Id", (int)w, "Name", "State");
	for (size_t i = 0; i < idw + w + sw + 9; i++)
		putchar('-');
	putchar('\n');
	for (int pass = 1; pass >= 0; pass--)
		for (size_t i = 0; i < n; i++)
			if (rows[i].running == pass)
				printf(" %-*s   %-*s   %s\n", (int)idw, rows[i].id, (int)w, rows[i].name,
				       pass ? "running" : "shut off");
	putchar('\n');
}

static int list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "inactive", no_argument, NULL, 'i' },
		{ "name", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool active = true, inactive = false, names_only = false;
	struct error e = { 0 };
	struct row *rows;
	size_t n = 0;
	char **names;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			active = inactive = true;
			break;
		case 'i':
			active = false;
			inactive = true;
			break;
		case 'n':
			names_only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_bad_option("domain", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("domain", "unexpected argument '%s'", argv[optind]);
	if (domain_store_list(cli->paths.root, &names, &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	rows = calloc(strv_len(names) + 1, sizeof(*rows));
	for (char **name = names; rows && *name; name++) {
		struct domain_state st = { 0 };
		struct domain_def d;
		struct error ignored = { 0 };

		if (!domain_store_load(cli->paths.root, *name, &d, &ignored)) {
			domain_state(&cli->paths, &d, &st);
			domain_free(&d);
		}
		if (st.running ? !active : !inactive)
			continue;
		rows[n] = (struct row){ .name = *name, .running = st.running };
		snprintf(rows[n].id, sizeof(rows[n].id), st.running ? "%d" : "-", st.pid);
		n++;
	}
	if (names_only) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", rows[i].name);
		putchar('\n');
	} else if (rows) {
		print_table(rows, n);
	}
	free(rows);
	strv_free(names);
	return 0;
}

int cmd_domain(struct cli *cli, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "define", define }, { "undefine", undefine }, { "list", list }, { "dumpxml", dumpxml },
		{ "run", run }, { "start", start }, { "shutdown", shutdown_cmd }, { "destroy", destroy },
		{ "console", console }, { "export", export_domain },
	};

	return cli_dispatch(cli, "domain", argc, argv, verbs, ARRAY_SIZE(verbs), usage);
}
