/* vmm version (and vmm --version): what this vmm is and what it runs on. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/base/template.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/version.h"
#include "vmm/base/log.h"

void cli_print_version(void)
{
	printf("vmm version %s\n", engine_version());
}

int cmd_version(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	json_object *v;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'h':
			printf("Usage: vmm version [-f TEMPLATE]\n\nShow vmm's version and the host it runs on.\n"
			       "Fields: .Version .Os .Arch .KernelVersion .KVM\n");
			return 0;
		default:
			return cli_bad_option("version", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("version", "unexpected argument '%s'", argv[optind]);
	v = engine_version_json();
	if (format) {
		struct template *t = NULL;
		struct error e = { 0 };

		if (template_parse(format, &t, &e) || template_render(t, v, stdout, &e)) {
			err_print(&e);
			status = EXIT_VMM_ERROR;
		} else {
			putchar('\n');
		}
		template_free(t);
	} else {
		printf("vmm:\n Version:        %s\n OS/Arch:        %s/%s\n Host kernel:    %s\n KVM:            %s\n",
		       engine_version(), json_object_get_string(json_object_object_get(v, "Os")),
		       json_object_get_string(json_object_object_get(v, "Arch")),
		       json_object_get_string(json_object_object_get(v, "KernelVersion")),
		       json_object_get_boolean(json_object_object_get(v, "KVM")) ? "available" :
		       "not available (see vmm check)");
	}
	json_object_put(v);
	return status;
}
