/* The OCI runtime command line (runtime.h, docs/oci-runtime.md). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/oci/oci.h"
#include "vmm/oci/runtime.h"
#include "vmm/oci/spec.h"
#include "vmm/engine/version.h"

static const struct {
	const char *name;
	int (*fn)(struct oci_cli *o, int argc, char **argv);
} verbs[] = {
	{ "create", oci_create }, { "start", oci_start }, { "state", oci_state }, { "kill", oci_kill },
	{ "delete", oci_delete }, { "exec", oci_exec }, { "ps", oci_ps }, { "pause", oci_pause },
	{ "resume", oci_resume },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm oci [GLOBAL OPTIONS] COMMAND [ARGS...]   (or: vmm-runtime ...)\n\n"
		"The OCI runtime command line (runc's), for podman, CRI-O and containerd.\n\n"
		"Commands:\n"
		"  create [--bundle DIR] [--pid-file F] [--console-socket S] ID\n"
		"                  boot the container's VM from the bundle; its process waits for start\n"
		"  start ID        run the created container's process\n"
		"  state ID        its state, as JSON (runtime-spec state)\n"
		"  kill ID [SIG]   signal its process (default TERM)\n"
		"  delete [--force] ID\n"
		"                  remove it (--force: a running one too)\n"
		"  exec [--process F | ...] [--detach] [--pid-file F] [--tty] ID [ARGS]\n"
		"                  another process in it\n"
		"  ps [--format table|json] ID\n"
		"                  its processes (the guest's pids)\n"
		"  pause ID, resume ID\n"
		"                  park the VM's vCPUs, or let them go\n"
		"  features        what this runtime honours, as JSON (runtime-spec features)\n\n"
		"Global options:\n"
		"      --root DIR            the state folder (default " OCI_ROOT_DEFAULT ")\n"
		"      --log FILE            write errors to FILE too\n"
		"      --log-format FORMAT   text (default) or json\n"
		"      --systemd-cgroup      accepted: the guest runs its own cgroups\n"
		"      --debug               more on stderr\n"
		"  -v, --version             the version, and the runtime spec's\n"
		"  -h, --help                show this help\n");
}

/* One error: on stderr, and in --log as logrus writes it (runc's format), text or JSON. */
int oci_fail(const struct oci_cli *o, const char *fmt, ...)
{
	char msg[1024], when[40];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vmm: error: %s\n", msg);
	if (!o->log || !(f = fopen(o->log, "ae")))
		return 1;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (o->json) {
		json_object *line = json_object_new_object();

		json_object_object_add(line, "level", json_object_new_string("error"));
		json_object_object_add(line, "msg", json_object_new_string(msg));
		json_object_object_add(line, "time", json_object_new_string(when));
		fprintf(f, "%s\n", json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(line);
	} else {
		fprintf(f, "time=\"%s\" level=error msg=\"", when);
		for (const char *c = msg; *c; c++)
			fprintf(f, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
		fprintf(f, "\"\n");
	}
	fclose(f);
	return 1;
}

int oci_runtime_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'f' },
		{ "systemd-cgroup", no_argument, NULL, 's' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct oci_cli o = { .paths.root = OCI_ROOT_DEFAULT };
	const char *format = "text";
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r': o.paths.root = optarg; break;
		case 's': break;
		case 'l': o.log = optarg; break;
		case 'f': format = optarg; break;
		case 'd': log_set_level(LOG_DEBUG); break;
		case 'v':
			printf("vmm-runtime version %s\nspec: %s\n", engine_version(), OCI_SPEC_VERSION);
			return 0;
		case 'h': usage(stdout); return 0;
		default: return oci_fail(&o, "%s: unknown option (see 'vmm oci --help')", argv[optind - 1]);
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json"))
		return oci_fail(&o, "--log-format %s: want text or json", format);
	o.json = !strcmp(format, "json");
	if (optind >= argc)
		return oci_fail(&o, "a command is needed (see 'vmm oci --help')");
	if (!strcmp(argv[optind], "features")) {
		json_object *f = oci_features_json();

		printf("%s\n", json_object_to_json_string_ext(f, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(f);
		return 0;
	}
	if (o.paths.root[0] != '/')
		return oci_fail(&o, "--root %s: want an absolute path", o.paths.root);
	if ((size_t)snprintf(o.runtime, sizeof(o.runtime), "%s/run", o.paths.root) >= sizeof(o.runtime))
		return oci_fail(&o, "--root %s: too long", o.paths.root);
	o.paths.runtime = o.runtime;
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (!strcmp(argv[optind], verbs[i].name))
			return verbs[i].fn(&o, argc - optind, argv + optind);
	return oci_fail(&o, "unknown command '%.64s' (see 'vmm oci --help')", argv[optind]);
}
