/* vmm volume: create, ls, inspect, rm and prune volumes, as docker volume does. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/template.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/volume.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm volume COMMAND\n\n"
		"Manage volumes: host folders under the store that containers mount with\n"
		"-v NAME:/path or --mount type=volume (docs/volumes.md).\n\n"
		"Commands:\n"
		"  create [--label K=V]... [-o size=SIZE] [NAME]  create a volume (a random name when none)\n"
		"  ls [-q] [-f dangling=true|false|name=N|label=K[=V]] [--format json|TEMPLATE]\n"
		"  inspect [-f TEMPLATE] VOLUME...  details as JSON\n"
		"  rm [-f] VOLUME...                remove volumes no container uses\n"
		"  prune [-a] [-f]                  remove unused anonymous volumes (-a: all unused)\n"
		"\nRun 'vmm volume COMMAND --help' for more on a command.\n");
}

static void create_usage(FILE *f)
{
	fprintf(f, "Usage: vmm volume create [OPTIONS] [NAME]\n\n"
		"Create a volume (a random name when none is given) and print its name.\n\n"
		"Options:\n"
		"  -d, --driver local   the only driver\n"
		"      --label K=V      set a label on the volume (repeatable)\n"
		"  -o, --opt size=SIZE  at most SIZE (16m to 16t): an ext4 disk behind the folder\n"
		"  -h, --help           show this help\n");
}

static void ls_usage(FILE *f)
{
	fprintf(f, "Usage: vmm volume ls [OPTIONS]\n\n"
		"List volumes (also: list).\n\n"
		"Options:\n"
		"  -q, --quiet          only volume names\n"
		"  -f, --filter K=V     dangling=true|false (used by no container or not),\n"
		"                       name=SUBSTRING, label=KEY[=VALUE]; repeatable\n"
		"      --format FMT     json (one JSON object per line) or a Go template:\n"
		"                       '{{.Name}}', 'table {{.Name}}\\t{{.Mountpoint}}'\n"
		"  -h, --help           show this help\n");
}

static void inspect_usage(FILE *f)
{
	fprintf(f, "Usage: vmm volume inspect [OPTIONS] VOLUME...\n\n"
		"Show volumes' details as JSON.\n\n"
		"Options:\n"
		"  -f, --format TEMPLATE   a Go template for each volume: '{{.Mountpoint}}'\n"
		"  -h, --help              show this help\n");
}

static void rm_usage(FILE *f)
{
	fprintf(f, "Usage: vmm volume rm [OPTIONS] VOLUME...\n\n"
		"Remove volumes no container uses (also: remove).\n\n"
		"Options:\n"
		"  -f, --force   a volume that does not exist is no error\n"
		"  -h, --help    show this help\n");
}

static void prune_usage(FILE *f)
{
	fprintf(f, "Usage: vmm volume prune [OPTIONS]\n\n"
		"Remove anonymous volumes no container uses.\n\n"
		"Options:\n"
		"  -a, --all     all volumes no container uses, named ones too\n"
		"  -f, --force   do not prompt for confirmation\n"
		"  -h, --help    show this help\n");
}

static int create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "label", required_argument, NULL, 'l' },
		{ "opt", required_argument, NULL, 'o' },
		{ "driver", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char **labels = calloc(1, sizeof(char *)), **dopts = calloc(1, sizeof(char *));
	struct volume_create_opts o = { 0 };
	struct error e = { 0 };
	struct volume v;
	int c, status = 0;

	optind = 1;
	while (status == 0 && (c = getopt_long(argc, argv, "o:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			strv_push(&labels, optarg);
			break;
		case 'o':
			strv_push(&dopts, optarg);
			break;
		case 'd':
			if (strcmp(optarg, "local"))
				status = cli_usage_error("volume", "driver '%s' is not supported (only local)",
							 optarg);
			break;
		case 'h':
			create_usage(stdout);
			goto out;
		default:
			status = cli_bad_option("volume", argv);
		}
	}
	if (!status && argc - optind > 1)
		status = cli_usage_error("volume", "'volume create' takes at most one NAME");
	if (status)
		goto out;
	o.name = optind < argc ? argv[optind] : NULL;
	o.labels = (const char *const *)labels;
	o.opts = (const char *const *)dopts;
	if (volume_create(cli->paths.root, &o, &v, &e)) {
		status = cli_fail(&e, EXIT_VMM_ERROR);
		goto out;
	}
	printf("%s\n", v.name);
	volume_free(&v);
out:
	strv_free(labels);
	strv_free(dopts);
	return status;
}

/* docker's volume filters: dangling, name (substring), label (key or key=value). */
static bool matches(const char *root, const struct volume *v, char *const *filters)
{
	for (char *const *f = filters; *f; f++) {
		const char *val = strchr(*f, '=') + 1;

		if (str_has_prefix(*f, "name=") && !strstr(v->name, val))
			return false;
		if (str_has_prefix(*f, "dangling=")) {
			char **users = NULL;
			bool dangling = volume_users(root, v->name, &users, NULL) == 0 && !users[0];

			strv_free(users);
			if (dangling != (!strcmp(val, "true") || !strcmp(val, "1")))
				return false;
		}
		if (str_has_prefix(*f, "label=")) {
			const char *eq = strchr(val, '=');
			char key[256];
			json_object *l;

			snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - val) : (int)strlen(val), val);
			if (!json_object_object_get_ex(v->labels, key, &l) ||
			    (eq && strcmp(json_object_get_string(l), eq + 1)))
				return false;
		}
	}
	return true;
}

static int check_filter(const char *f)
{
	static const char *const keys[] = { "dangling=", "name=", "label=" };

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (str_has_prefix(f, keys[i]))
			return !strcmp(keys[i], "dangling=") && strcmp(f + 9, "true") && strcmp(f + 9, "false") &&
			       strcmp(f + 9, "1") && strcmp(f + 9, "0") ?
			       cli_usage_error("volume", "invalid filter '%s' (dangling=true or false)", f) : 0;
	return cli_usage_error("volume", "invalid filter '%s' (dangling=, name= or label=)", f);
}

/* One row per volume through the template, or docker's default table. */
static int print_rows(struct cli *cli, char **names, char *const *filters, bool quiet,
		      const char *format)
{
	json_object *rows = json_object_new_array(), *header;
	struct template *t = NULL;
	struct error e = { 0 };
	int status = 0;

	if (template_parse_rows(quiet ? "{{.Name}}" : format ? format : "table {{.Driver}}\t{{.Name}}", &t, &e)) {
		json_object_put(rows);
		return cli_fail(&e, EXIT_VMM_ERROR);
	}
	for (char **n = names; *n; n++) {
		struct volume v;

		if (volume_get(cli->paths.root, *n, &v, NULL))
			continue;	/* being removed meanwhile */
		if (matches(cli->paths.root, &v, filters))
			json_object_array_add(rows, volume_to_json(&v));
		volume_free(&v);
	}
	header = json_tokener_parse("{\"Name\":\"VOLUME NAME\",\"Driver\":\"DRIVER\",\"Scope\":\"SCOPE\","
				    "\"Mountpoint\":\"MOUNTPOINT\",\"Labels\":\"LABELS\",\"CreatedAt\":\"CREATED\"}");
	if (template_print(t, header, rows, stdout, &e))
		status = cli_fail(&e, EXIT_VMM_ERROR);
	json_object_put(header);
	json_object_put(rows);
	template_free(t);
	return status;
}

static int ls(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "filter", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char **filters = calloc(1, sizeof(char *)), **names = NULL;
	const char *format = NULL;
	struct error e = { 0 };
	bool quiet = false;
	int c, status = 0;

	optind = 1;
	while (!status && (c = getopt_long(argc, argv, "qf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case 'f': status = check_filter(optarg) ? EXIT_VMM_ERROR : strv_push(&filters, optarg); break;
		case 'F': format = optarg; break;
		case 'h': ls_usage(stdout); goto out;
		default: status = cli_bad_option("volume", argv);
		}
	}
	if (!status && optind < argc)
		status = cli_usage_error("volume", "unexpected argument '%s'", argv[optind]);
	if (!status && volume_list(cli->paths.root, &names, &e))
		status = cli_fail(&e, EXIT_VMM_ERROR);
	if (!status)
		status = print_rows(cli, names, filters, quiet, format);
out:
	strv_free(filters);
	strv_free(names);
	return status;
}

static json_object *get_one(struct cli *cli, const char *name, struct error *e)
{
	struct volume x;
	json_object *o;

	if (volume_get(cli->paths.root, name, &x, e))
		return NULL;
	o = volume_to_json(&x);
	volume_free(&x);
	return o;
}

static int inspect(struct cli *cli, int argc, char **argv)
{
	return cli_inspect(cli, "volume", argc, argv, get_one, inspect_usage);
}

static int rm(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c, status = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': force = true; break;
		case 'h': rm_usage(stdout); return 0;
		default: return cli_bad_option("volume", argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("volume", "'volume rm' requires at least one VOLUME");
	for (int i = optind; i < argc; i++) {
		struct error e = { 0 };
		int ret = volume_remove(cli->paths.root, argv[i], &e);

		if (!ret)
			printf("%s\n", argv[i]);
		else if (!(force && ret == -ENOENT))	/* -f: a missing volume is no error */
			status = cli_fail(&e, EXIT_VMM_ERROR);
	}
	return status;
}

static void report(void *arg, const char *name)
{
	int *n = arg;

	printf("%s%s\n", (*n)++ ? "" : "Deleted Volumes:\n", name);
}

static int prune(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false, all = false;
	struct error e = { 0 };
	char size[32];
	uint64_t reclaimed = 0;
	int c, status = 0, n = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fah", opts, NULL)) != -1) {
		switch (c) {
		case 'f': force = true; break;
		case 'a': all = true; break;
		case 'h': prune_usage(stdout); return 0;
		default: return cli_bad_option("volume", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("volume", "unexpected argument '%s'", argv[optind]);
	if (!force && !cli_confirm_removal(all ? "all local volumes not used by at least one container" :
			       "anonymous local volumes not used by at least one container"))
		return 0;
	if (volume_prune(cli->paths.root, all, report, &n, &reclaimed, &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	format_size_si(reclaimed, size, sizeof(size));
	printf("%sTotal reclaimed space: %s\n", n ? "\n" : "", size);
	return status;
}

int cmd_volume(struct cli *cli, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "create", create }, { "ls", ls }, { "list", ls }, { "inspect", inspect },
		{ "rm", rm }, { "remove", rm }, { "prune", prune },
	};

	return cli_dispatch(cli, "volume", argc, argv, verbs, ARRAY_SIZE(verbs), usage);
}
