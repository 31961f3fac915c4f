/* vmm info (and vmm system info): the containers by state, the images, the host. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/base/template.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/info.h"

/* docker info's lines: label, field, indent. */
static const struct {
	const char *label, *key;
	int indent;
} lines[] = {
	{ "Containers", "Containers", 1 },
	{ "Running", "ContainersRunning", 2 },
	{ "Paused", "ContainersPaused", 2 },
	{ "Stopped", "ContainersStopped", 2 },
	{ "Images", "Images", 1 },
	{ "Server Version", "ServerVersion", 1 },
	{ "Storage Driver", "Driver", 1 },
	{ "Default Runtime", "DefaultRuntime", 1 },
	{ "Isolation", "Isolation", 1 },
	{ "KVM", "KVM", 1 },
	{ "Kernel Version", "KernelVersion", 1 },
	{ "Operating System", "OperatingSystem", 1 },
	{ "OSType", "OSType", 1 },
	{ "Architecture", "Architecture", 1 },
	{ "CPUs", "NCPU", 1 },
	{ "Total Memory", "MemTotal", 1 },
	{ "Name", "Name", 1 },
	{ "ID", "ID", 1 },
	{ "Docker Root Dir", "DockerRootDir", 1 },
};

int cmd_info(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	struct template *t = NULL;
	struct error e = { 0 };
	json_object *o;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'h':
			printf("Usage: vmm info [-f TEMPLATE]\n\n"
			       "Show the containers by state, the images and the host, as docker info does.\n"
			       "Fields are the Engine API's /info: .Containers .ContainersRunning\n"
			       ".ContainersPaused .ContainersStopped .Images .ServerVersion .KVM .NCPU\n"
			       ".MemTotal .DockerRootDir ...; -f '{{json .}}' shows them all.\n");
			return 0;
		default: return cli_bad_option("info", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("info", "unexpected argument '%s'", argv[optind]);
	if (format && template_parse(format, &t, &e))
		return cli_fail(&e, EXIT_VMM_ERROR);
	o = engine_info_json(cli->paths.root, &e);
	if (!o) {
		template_free(t);
		return cli_fail(&e, EXIT_VMM_ERROR);
	}
	if (t) {
		if (template_render(t, o, stdout, &e))
			status = cli_fail(&e, EXIT_VMM_ERROR);
		else
			putchar('\n');
	} else {
		printf("Server:\n");
		for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
			json_object *v = json_object_object_get(o, lines[i].key);
			char size[32];
			const char *text = json_object_get_string(v);

			if (!v)
				continue;
			if (json_object_is_type(v, json_type_boolean))
				text = json_object_get_boolean(v) ? "available" : "not available (see vmm check)";
			if (!strcmp(lines[i].key, "MemTotal")) {
				format_size_iec((uint64_t)json_object_get_int64(v), size, sizeof(size));
				text = size;
			}
			printf("%*s%s: %s\n", lines[i].indent, "", lines[i].label, text);
		}
	}
	json_object_put(o);
	template_free(t);
	return status;
}
