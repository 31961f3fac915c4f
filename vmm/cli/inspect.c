/* vmm inspect: low-level facts about containers (or images), as docker's JSON. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/base/strv.h"
#include "vmm/cli/cli.h"
#include "vmm/domain/container.h"
#include "vmm/engine/container-json.h"
#include "vmm/engine/container.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

/* Is ref a container (by exact name, ID or unique ID prefix)? Silent. argv[0] always exists. */
static bool is_container(struct container **list, size_t n, const char *ref)
{
	size_t matches = 0;

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(list[i]->cfg.name, ref) || !strcmp(list[i]->cfg.id, ref))
			return true;
		matches += str_has_prefix(list[i]->cfg.id, ref);
	}
	return matches == 1;
}

/* --format libvirt: each container's VM as domain XML, one document after another. */
static int inspect_libvirt(struct cli *cli, char **names, int n)
{
	struct error e = { 0 };
	int status = 0;

	for (int i = 0; i < n; i++) {
		struct container *ct;
		struct domain_def d;
		char *xml = NULL;

		if (container_open(cli->paths.root, names[i], &ct, &e)) {
			status = cli_fail(&e, 1);
			continue;
		}
		if (domain_from_container(ct, &d, &e) == 0) {
			xml = domain_format(&d);
			domain_free(&d);
			if (!xml)
				err_set(&e, -ENOMEM, "container %s: cannot write its domain XML", names[i]);
		}
		container_free(ct);
		if (!xml) {
			status = cli_fail(&e, 1);
			continue;
		}
		fputs(xml, stdout);
		free(xml);
	}
	return status;
}

int cmd_inspect(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error e = { 0 };
	struct container **list;
	const char *format = NULL;
	json_object *out;
	size_t n;
	int c, status = 0;
	bool any = false;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (c == 'f') {
			format = optarg;
			continue;
		}
		if (c == 'h') {
			printf("Usage: vmm inspect [-f TEMPLATE|--format libvirt] NAME|ID...\n\n"
			       "Show containers as JSON (images too: see 'vmm image inspect'), or each\n"
			       "through a Go template: -f '{{.State.ExitCode}}'. --format libvirt writes\n"
			       "a container's VM as libvirt domain XML (docs/libvirt.md).\n");
			return 0;
		}
		return cli_bad_option("inspect", argv);
	}
	if (optind >= argc)
		return cli_usage_error("inspect", "requires at least one NAME or ID");
	if (format && !strcmp(format, "libvirt"))
		return inspect_libvirt(cli, argv + optind, argc - optind);
	if (container_list(cli->paths.root, &list, &n, &e))
		return cli_fail(&e, 1);
	for (int i = optind; i < argc; i++)
		any |= is_container(list, n, argv[i]);
	container_list_free(list, n);
	if (!any)	/* like docker: not a container, so maybe an image */
		return image_inspect_names(cli, argv + optind, argc - optind, format);

	out = json_object_new_array();
	for (int i = optind; i < argc; i++) {
		struct container *ct;

		if (container_open(cli->paths.root, argv[i], &ct, &e)) {
			status = cli_fail(&e, 1);
			continue;
		}
		json_object_array_add(out, container_to_json(ct));
		container_free(ct);
	}
	if (!status)
		status = cli_print_objects(out, format);
	json_object_put(out);
	return status;
}
