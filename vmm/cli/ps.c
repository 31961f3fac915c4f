/* vmm ps: containers, as docker lists them. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "images/oci/image.h"
#include "images/oci/store.h"
#include "vmm/base/template.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/engine/container-filter.h"
#include "vmm/engine/container-json.h"
#include "vmm/engine/filters.h"
#include "vmm/engine/container-net.h"
#include "vmm/engine/container.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

/* The COMMAND column: the argv joined, quoted and cut like docker's. */
static void fmt_command(char *const *argv, char *buf, size_t len, bool trunc)
{
	size_t n = 0;

	n += snprintf(buf + n, len - n, "\"");
	for (size_t i = 0; argv && argv[i] && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? " " : "", argv[i]);
	if (trunc && n > 20) {
		snprintf(buf + 19, len - 19, "…\"");
		return;
	}
	if (n < len)
		snprintf(buf + n, len - n, "\"");
}

/* ps -s: the container's own disk (its overlay's allocated bytes), and with its image's layers. */
static void fmt_size(const struct container *ct, struct store *s, char *buf, size_t len)
{
	char path[4096], own[32], virt[32];
	uint64_t mine = 0, image = 0;
	struct image *img;
	struct stat st;

	if (!container_path(ct, "disk.qcow2", path, sizeof(path)) && stat(path, &st) == 0)
		mine = (uint64_t)st.st_blocks * 512;
	if (s && !image_open(s, ct->cfg.image, &img, NULL)) {
		image = img->size;
		image_close(img);
	}
	format_size_si(mine, own, sizeof(own));
	format_size_si(mine + image, virt, sizeof(virt));
	snprintf(buf, len, "%s (virtual %s)", own, virt);
}

/* docker's Ellipsis: at most n characters, the last one "…" when cut. */
static void ellipsis(FILE *f, const char *s, size_t n, bool trunc)
{
	if (trunc && strlen(s) > n)
		fprintf(f, "%.*s…", (int)(n - 1), s);
	else
		fputs(s, f);
}

/* Labels (k=v,...) or Mounts (volume names or bind sources, cut at 15 unless --no-trunc), as docker joins them. */
static json_object *joined(const struct container *ct, bool mounts, bool trunc)
{
	char *buf = NULL;
	size_t len, n = 0;
	FILE *f = open_memstream(&buf, &len);
	json_object *o;

	if (!f)
		return NULL;
	for (char **l = ct->cfg.labels; !mounts && l && *l; l++)
		fprintf(f, "%s%s", n++ ? "," : "", *l);
	for (unsigned i = 0; mounts && i < ct->cfg.nmounts; i++) {
		const struct container_mount *m = &ct->cfg.mounts[i];
		const char *name = m->name ? m->name : m->source;

		if (!name || !*name)
			continue;	/* a tmpfs */
		fputs(n++ ? "," : "", f);
		ellipsis(f, name, 15, trunc);
	}
	fclose(f);
	o = buf ? json_object_new_string(buf) : NULL;
	free(buf);
	return o;
}

/* The row fields docker's ContainerContext computes: Labels, Mounts, LocalVolumes, Networks. */
static void add_mount_fields(json_object *o, const struct container *ct, bool trunc)
{
	const struct net_config *net = &ct->cfg.net;
	unsigned volumes = 0;
	char count[16], nets[600], name[65];
	size_t n = (size_t)snprintf(nets, sizeof(nets), "%s", netcfg_network_name(net));

	for (char **m = net->more; m && *m && n < sizeof(nets); m++) {	/* docker joins them with commas */
		netcfg_more_split(*m, name);
		n += (size_t)snprintf(nets + n, sizeof(nets) - n, ",%s", name);
	}

	for (unsigned i = 0; i < ct->cfg.nmounts; i++)
		volumes += ct->cfg.mounts[i].type == MOUNT_VOLUME;
	snprintf(count, sizeof(count), "%u", volumes);
	json_object_object_add(o, "Labels", joined(ct, false, trunc));
	json_object_object_add(o, "Mounts", joined(ct, true, trunc));
	json_object_object_add(o, "LocalVolumes", json_object_new_string(count));
	json_object_object_add(o, "Networks", json_object_new_string(nets));
}

/* Newest first, as docker lists them. */
static int newest_first(const void *a, const void *b)
{
	const struct container *x = *(struct container *const *)a, *y = *(struct container *const *)b;

	if (x->cfg.created != y->cfg.created)
		return x->cfg.created > y->cfg.created ? -1 : 1;
	return strcmp(x->cfg.id, y->cfg.id);
}

static void usage(void)
{
	printf("Usage: vmm ps [OPTIONS]\n\n"
	       "List containers (running ones unless -a).\n\n"
	       "Options:\n"
	       "  -a, --all          show all containers\n"
	       "  -q, --quiet        only container IDs\n"
	       "  -n, --last N       the N last created containers (all states)\n"
	       "  -l, --latest       the last created container (all states)\n"
	       "      --no-trunc     full IDs and commands\n"
	       "  -s, --size         SIZE: the container's own disk (the overlay's blocks), and\n"
	       "                     with its image's layers (virtual)\n"
	       "  -f, --filter K=V   status=, name= (a substring), id= (a prefix), exited=CODE,\n"
	       "                     ancestor=IMAGE, label=KEY[=VALUE], network=NAME;\n"
	       "                     repeatable\n"
	       "      --format FMT   json (one JSON object per line) or a Go template:\n"
	       "                     '{{.Names}}', 'table {{.ID}}\\t{{.Status}}'\n");
}

int cmd_ps(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-trunc", no_argument, NULL, 'N' },
		{ "last", required_argument, NULL, 'n' },
		{ "latest", no_argument, NULL, 'l' },
		{ "size", no_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'T' },
		{ "filter", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct filters filter = { .keys = container_filter_keys };
	struct error e = { 0 };
	bool all = false, quiet = false, no_trunc = false, sizes = false;
	struct store *store = NULL;
	char size[96] = "";
	const char *format = NULL;
	json_object *rows = NULL, *header;
	struct template *t = NULL;
	struct container **list;
	size_t n, shown = 0;
	uint64_t last = 0;
	int c, status_code = 0;

	while ((c = getopt_long(argc, argv, "aqn:lsf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 's': sizes = true; break;
		case 'q': quiet = true; break;
		case 'N': no_trunc = true; break;
		case 'n':
			if (parse_uint(optarg, 1, UINT32_MAX, &last)) {
				filters_free(&filter);
				return cli_usage_error("ps", "--last %s: a number of containers", optarg);
			}
			all = true;
			break;
		case 'l': last = 1; all = true; break;
		case 'T':
			format = optarg;
			break;
		case 'f':
			if (filters_add(&filter, optarg, &e)) {
				filters_free(&filter);
				return cli_fail(&e, EXIT_VMM_ERROR);
			}
			break;
		case 'h': usage(); filters_free(&filter); return 0;
		default: filters_free(&filter); return cli_bad_option("ps", argv);
		}
	}
	if (optind < argc) {
		filters_free(&filter);
		return cli_usage_error("ps", "unexpected argument '%s'", argv[optind]);
	}
	/* --format json is {{json .}}; a template is parsed before anything is listed. */
	if (format && !quiet && template_parse_rows(format, &t, &e)) {
		filters_free(&filter);
		return cli_fail(&e, EXIT_VMM_ERROR);
	}
	if (container_filter_check(cli->paths.root, &filter, &e)) {
		filters_free(&filter);
		template_free(t);
		return cli_fail(&e, EXIT_VMM_ERROR);
	}
	if (container_list(cli->paths.root, &list, &n, &e)) {
		filters_free(&filter);
		template_free(t);
		return cli_fail(&e, 1);
	}
	if (n)
		qsort(list, n, sizeof(*list), newest_first);
	if (sizes && !quiet)
		store_open(cli->paths.root, &store, NULL);	/* none: no image part */
	if (t)
		rows = json_object_new_array();
	else if (!quiet && sizes)
		printf("%-12s   %-20s %-22s %-16s %-26s %-20s %-20s %s\n", "CONTAINER ID", "IMAGE", "COMMAND",
		       "CREATED", "STATUS", "PORTS", "NAMES", "SIZE");
	else if (!quiet)
		printf("%-12s   %-20s %-22s %-16s %-26s %-20s %s\n", "CONTAINER ID", "IMAGE", "COMMAND",
		       "CREATED", "STATUS", "PORTS", "NAMES");
	for (size_t i = 0; i < n; i++) {
		struct container *ct = list[i];
		struct container_state st;
		char status[96], created[64], created_at[64], cmd[512], image[256], ports[1024];

		container_effective_state(ct, &st);
		if (!container_wanted(&filter, ct, &st, all))
			continue;
		if (last && shown++ >= last)
			break;
		if (quiet) {
			printf("%.*s\n", no_trunc ? CONTAINER_ID_LEN : 12, ct->cfg.id);
			continue;
		}
		container_status_text(&st, status, sizeof(status));
		fmt_since(ct->cfg.created, created, sizeof(created));
		fmt_command(ct->cfg.argv, cmd, sizeof(cmd), !no_trunc);
		container_ports_format(st.ports, st.status == CONTAINER_RUNNING ? st.nports : 0, ports, sizeof(ports));
		fmt_short_ref(ct->cfg.image_name ? ct->cfg.image_name : ct->cfg.image, image, sizeof(image));
		if (sizes)
			fmt_size(ct, store, size, sizeof(size));
		if (t) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "ID", json_object_new_string_len(ct->cfg.id, no_trunc ? CONTAINER_ID_LEN : 12));
			json_object_object_add(o, "Image", json_object_new_string(image));
			json_object_object_add(o, "Command", json_object_new_string(cmd));
			fmt_created_at(ct->cfg.created, created_at, sizeof(created_at));
			json_object_object_add(o, "CreatedAt", json_object_new_string(created_at));
			json_object_object_add(o, "State", json_object_new_string(container_state_name(&st)));
			json_object_object_add(o, "Status", json_object_new_string(status));
			json_object_object_add(o, "ExitCode", json_object_new_int(st.exit_code));
			json_object_object_add(o, "Names", json_object_new_string(ct->cfg.name));
			json_object_object_add(o, "Ports", json_object_new_string(ports));
			json_object_object_add(o, "RunningFor", json_object_new_string(created));
			if (sizes)
				json_object_object_add(o, "Size", json_object_new_string(size));
			add_mount_fields(o, ct, !no_trunc);
			json_object_array_add(rows, o);
			continue;
		}
		if (sizes)
			printf("%.12s   %-20s %-22s %-16s %-26s %-20s %-20s %s\n", ct->cfg.id, image, cmd, created,
			       status, ports, ct->cfg.name, size);
		else
			printf("%.12s   %-20s %-22s %-16s %-26s %-20s %s\n", ct->cfg.id, image, cmd, created,
			       status, ports, ct->cfg.name);
	}
	container_list_free(list, n);
	filters_free(&filter);
	if (store)
		store_close(store);
	if (t) {
		header = json_tokener_parse("{\"ID\":\"CONTAINER ID\",\"Image\":\"IMAGE\",\"Command\":\"COMMAND\","
					    "\"CreatedAt\":\"CREATED AT\",\"RunningFor\":\"CREATED\",\"State\":\"STATE\","
					    "\"Status\":\"STATUS\",\"ExitCode\":\"EXIT CODE\",\"Names\":\"NAMES\","
					    "\"Ports\":\"PORTS\",\"Size\":\"SIZE\",\"Labels\":\"LABELS\",\"Mounts\":\"MOUNTS\","
					    "\"Networks\":\"NETWORKS\",\"LocalVolumes\":\"LOCAL VOLUMES\"}");
		if (template_print(t, header, rows, stdout, &e))
			status_code = cli_fail(&e, EXIT_VMM_ERROR);
		json_object_put(header);
		json_object_put(rows);
		template_free(t);
	}
	return status_code;
}
