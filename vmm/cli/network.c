/* vmm network: create, ls, inspect, rm and prune networks, as docker network does. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/template.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/lan.h"
#include "vmm/engine/network-connect.h"
#include "vmm/engine/network.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm network COMMAND\n\n"
		"Manage networks (docs/network.md). Predefined: bridge (each container's own\n"
		"user-mode network, the default) and none.\n\n"
		"Commands:\n"
		"  create [--subnet CIDR] [--gateway IP] [--internal] [--label K=V]... NAME\n"
		"  ls [-q] [-f name=N|id=ID|label=K[=V]|driver=D] [--format json|TEMPLATE]\n"
		"  inspect [-f TEMPLATE] NETWORK...\n"
		"  connect [--alias A]... [--ip IP] NETWORK CONTAINER\n"
		"  disconnect [-f] NETWORK CONTAINER\n"
		"  rm NETWORK...         remove networks no container uses\n"
		"  prune [-f]            remove every user-defined network no container uses\n"
		"\nRun 'vmm network COMMAND --help' for more on a command.\n");
}

static void create_usage(FILE *f)
{
	fprintf(f, "Usage: vmm network create [OPTIONS] NAME\n\n"
		"Create a network and print its ID.\n\n"
		"Options:\n"
		"  -d, --driver bridge   the only driver\n"
		"      --subnet CIDR     the network's subnet (default: a free /24 in 10.89.0.0/16)\n"
		"      --gateway IP      the gateway's address (default: the subnet's first)\n"
		"      --internal        no way out: its containers reach only each other\n"
		"      --label K=V       set a label on the network (repeatable)\n"
		"  -h, --help            show this help\n");
}

static void ls_usage(FILE *f)
{
	fprintf(f, "Usage: vmm network ls [OPTIONS]\n\n"
		"List networks (also: list).\n\n"
		"Options:\n"
		"  -q, --quiet          only network IDs\n"
		"  -f, --filter K=V     name=SUBSTRING, id=PREFIX, label=KEY[=VALUE], driver=D,\n"
		"                       type=builtin|custom; repeatable\n"
		"      --format FMT     json (one JSON object per line) or a Go template:\n"
		"                       '{{.Name}}', 'table {{.ID}}\\t{{.Name}}'\n"
		"      --no-trunc       full network IDs\n"
		"  -h, --help           show this help\n");
}

static void inspect_usage(FILE *f)
{
	fprintf(f, "Usage: vmm network inspect [OPTIONS] NETWORK...\n\n"
		"Show networks' details as JSON.\n\n"
		"Options:\n"
		"  -f, --format TEMPLATE   a Go template for each network: '{{.IPAM.Config}}'\n"
		"  -h, --help              show this help\n");
}

static void rm_usage(FILE *f)
{
	fprintf(f, "Usage: vmm network rm NETWORK...\n\n"
		"Remove networks no container uses (also: remove).\n");
}

static void connect_usage(FILE *f)
{
	fprintf(f, "Usage: vmm network connect [OPTIONS] NETWORK CONTAINER\n\n"
		"Put a container on one more network: at once when it runs on a network already\n"
		"(an address of it on eth0:N), and at every start from now on.\n\n"
		"Options:\n"
		"      --alias NAME   another name of the container on the network (repeatable)\n"
		"      --ip IP        its address on the network (default: one given at each start)\n"
		"  -h, --help         show this help\n");
}

static void disconnect_usage(FILE *f)
{
	fprintf(f, "Usage: vmm network disconnect [OPTIONS] NETWORK CONTAINER\n\n"
		"Take a container off a network: at once when it runs (not its first network),\n"
		"and from its next start. Off its last network it starts with no network.\n\n"
		"Options:\n"
		"  -f, --force   accepted, as docker does\n"
		"  -h, --help    show this help\n");
}

static void prune_usage(FILE *f)
{
	fprintf(f, "Usage: vmm network prune [OPTIONS]\n\n"
		"Remove every user-defined network no container uses.\n\n"
		"Options:\n"
		"  -f, --force   do not prompt for confirmation\n"
		"  -h, --help    show this help\n");
}

static int create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "subnet", required_argument, NULL, 's' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "internal", no_argument, NULL, 'i' },
		{ "label", required_argument, NULL, 'l' },
		{ "driver", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct network_create_opts o = { 0 };
	char **labels = calloc(1, sizeof(char *));
	struct error e = { 0 };
	struct network n;
	int c, status = 0;

	optind = 1;
	while (!status && (c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': o.subnet = optarg; break;
		case 'g': o.gateway = optarg; break;
		case 'i': o.internal = true; break;
		case 'l': strv_push(&labels, optarg); break;
		case 'd':
			if (strcmp(optarg, "bridge"))
				status = cli_usage_error("network", "driver '%s' is not supported (bridge)", optarg);
			break;
		case 'h': create_usage(stdout); goto out;
		default: status = cli_bad_option("network", argv);
		}
	}
	if (!status && argc - optind != 1)
		status = cli_usage_error("network", "'network create' takes exactly one NAME");
	if (status)
		goto out;
	o.name = argv[optind];
	o.labels = (const char *const *)labels;
	if (network_create(cli->paths.root, &o, &n, &e)) {
		status = cli_fail(&e, EXIT_VMM_ERROR);
		goto out;
	}
	printf("%s\n", n.id);
	network_free(&n);
out:
	strv_free(labels);
	return status;
}

static bool matches(const struct network *n, char *const *filters)
{
	for (char *const *f = filters; *f; f++) {
		const char *val = strchr(*f, '=') + 1, *eq;
		json_object *l;
		char key[256];

		if (str_has_prefix(*f, "name=") && !strstr(n->name, val))
			return false;
		if (str_has_prefix(*f, "id=") && strncmp(n->id, val, strlen(val)))
			return false;
		if (str_has_prefix(*f, "driver=") && strcmp(val, strcmp(n->name, "none") ? "bridge" : "null"))
			return false;
		if (str_has_prefix(*f, "type=") &&
		    strcmp(val, n->predefined ? "builtin" : "custom"))
			return false;
		if (str_has_prefix(*f, "label=")) {
			eq = strchr(val, '=');
			snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - val) : (int)strlen(val), val);
			if (!json_object_object_get_ex(n->labels, key, &l) ||
			    (eq && strcmp(json_object_get_string(l), eq + 1)))
				return false;
		}
	}
	return true;
}

static int ls(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "filter", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 'F' },
		{ "no-trunc", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = { "name=", "id=", "label=", "driver=", "type=" };
	char **filters = calloc(1, sizeof(char *)), **names = NULL;
	const char *format = NULL;
	bool quiet = false, no_trunc = false;
	json_object *rows = json_object_new_array(), *header;
	struct template *t = NULL;
	struct error e = { 0 };
	int c, status = 0;

	optind = 1;
	while (!status && (c = getopt_long(argc, argv, "qf:h", opts, NULL)) != -1) {
		bool known = false;

		switch (c) {
		case 'q': quiet = true; break;
		case 'n': no_trunc = true; break;
		case 'F': format = optarg; break;
		case 'f':
			for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
				known |= str_has_prefix(optarg, keys[i]);
			status = known ? strv_push(&filters, optarg) :
				 cli_usage_error("network", "invalid filter '%s' (name=, id=, label=, driver= or "
						 "type=)", optarg);
			break;
		case 'h': ls_usage(stdout); goto out;
		default: status = cli_bad_option("network", argv);
		}
	}
	if (!status && optind < argc)
		status = cli_usage_error("network", "unexpected argument '%s'", argv[optind]);
	if (!status && (template_parse_rows(quiet ? (no_trunc ? "{{.Id}}" : "{{truncate .Id 12}}") :
				       format ? format : no_trunc ?
				       "table {{.Id}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}" :
				       "table {{truncate .Id 12}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", &t, &e) ||
			network_list(cli->paths.root, &names, &e)))
		status = cli_fail(&e, EXIT_VMM_ERROR);
	for (char **name = names; !status && *name; name++) {
		struct network n;

		if (network_get(cli->paths.root, *name, &n, NULL))
			continue;
		if (matches(&n, filters)) {
			json_object *row = network_to_json(&n);
			int idlen = no_trunc || strlen(n.id) < 12 ? (int)strlen(n.id) : 12;

			/* docker's ls row names it ID (the inspect form, Id, stays) */
			json_object_object_add(row, "ID", json_object_new_string_len(n.id, idlen));
			json_object_array_add(rows, row);
		}
		network_free(&n);
	}
	header = json_tokener_parse("{\"Id\":\"NETWORK ID\",\"Name\":\"NAME\",\"Driver\":\"DRIVER\","
				    "\"Scope\":\"SCOPE\",\"Internal\":\"INTERNAL\",\"Created\":\"CREATED\","
				    "\"Labels\":\"LABELS\",\"ID\":\"NETWORK ID\"}");
	if (!status && template_print(t, header, rows, stdout, &e))
		status = cli_fail(&e, EXIT_VMM_ERROR);
	json_object_put(header);
out:
	template_free(t);
	json_object_put(rows);
	strv_free(filters);
	strv_free(names);
	return status;
}

static json_object *get_one(struct cli *cli, const char *name, struct error *e)
{
	struct network x;
	json_object *o;

	if (network_get(cli->paths.root, name, &x, e))
		return NULL;
	o = network_to_json(&x);
	json_object_object_add(o, "Containers", lan_endpoints_json(cli->paths.runtime, &x));
	network_free(&x);
	return o;
}

static int inspect(struct cli *cli, int argc, char **argv)
{
	return cli_inspect(cli, "network", argc, argv, get_one, inspect_usage);
}

static int rm(struct cli *cli, int argc, char **argv)
{
	int status = 0;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		rm_usage(stdout);
		return 0;
	}
	if (argc < 2)
		return cli_usage_error("network", "'network rm' requires at least one NETWORK");
	for (int i = 1; i < argc; i++) {
		struct error e = { 0 };

		if (network_remove(cli->paths.root, argv[i], &e))
			status = cli_fail(&e, EXIT_VMM_ERROR);
		else
			printf("%s\n", argv[i]);
	}
	return status;
}

static int net_connect(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "alias", required_argument, NULL, 'a' },
		{ "ip", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct network_connect_opts o = { 0 };
	char **aliases = NULL;
	struct error e = { 0 };
	int c, status = 0;

	optind = 1;
	while (!status && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (strv_push(&aliases, optarg))
				status = cli_usage_error("network", "out of memory");
			break;
		case 'i': o.ip = optarg; break;
		case 'h': connect_usage(stdout); goto out;
		default: status = cli_bad_option("network", argv);
		}
	}
	if (!status && argc - optind != 2)
		status = cli_usage_error("network", "'network connect' takes a NETWORK and a CONTAINER");
	if (status)
		goto out;
	o.aliases = aliases;
	if (engine_network_connect(&cli->paths, argv[optind], argv[optind + 1], &o, &e))
		status = cli_fail(&e, EXIT_VMM_ERROR);
out:
	strv_free(aliases);
	return status;
}

static int net_disconnect(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': break;
		case 'h': disconnect_usage(stdout); return 0;
		default: return cli_bad_option("network", argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("network", "'network disconnect' takes a NETWORK and a CONTAINER");
	if (engine_network_disconnect(&cli->paths, argv[optind], argv[optind + 1], &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	return 0;
}

static void report(void *arg, const char *name)
{
	int *n = arg;

	printf("%s%s\n", (*n)++ ? "" : "Deleted Networks:\n", name);
}

static int prune(struct cli *cli, int argc, char **argv)
{
	struct error e = { 0 };
	bool force = argc == 2 && (!strcmp(argv[1], "-f") || !strcmp(argv[1], "--force"));
	int n = 0;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		prune_usage(stdout);
		return 0;
	}
	if (argc > 1 && !force)
		return cli_usage_error("network", "'network prune' takes only -f");
	if (!force && !cli_confirm_removal("all custom networks not used by at least one container"))
		return 0;
	if (network_prune(cli->paths.root, report, &n, &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	return 0;
}

int cmd_network(struct cli *cli, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
		{ "create", create }, { "ls", ls }, { "list", ls }, { "inspect", inspect },
		{ "rm", rm }, { "remove", rm }, { "prune", prune },
		{ "connect", net_connect }, { "disconnect", net_disconnect },
	};

	return cli_dispatch(cli, "network", argc, argv, verbs, ARRAY_SIZE(verbs), usage);
}
