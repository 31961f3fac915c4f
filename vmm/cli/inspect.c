/* vmm inspect: low-level facts about containers (or images), as docker's JSON. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/net-slirp.h"
#include "vmm/base/strv.h"
#include "vmm/cli/cli.h"
#include "vmm/domain/container.h"
#include "vmm/engine/container-net.h"
#include "vmm/engine/container.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

static json_object *time_ns(int64_t ns)
{
	char buf[64];
	time_t s = ns / 1000000000;
	struct tm tm;

	if (!ns)
		return json_object_new_string("0001-01-01T00:00:00Z");
	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%09lldZ", (long long)(ns % 1000000000));
	return json_object_new_string(buf);
}

static json_object *container_json(struct container *ct)
{
	const struct container_config *c = &ct->cfg;
	struct container_state st;
	json_object *o = json_object_new_object(), *s = json_object_new_object(),
		    *conf = json_object_new_object(), *host = json_object_new_object(),
		    *net = json_object_new_object();
	char name[160], mode[32];

	container_effective_state(ct, &st);
	if (st.status != CONTAINER_RUNNING)
		st.nports = 0;
	netcfg_mode_string(&c->net, mode, sizeof(mode));
	snprintf(name, sizeof(name), "/%s", c->name);
	json_object_object_add(o, "Id", json_object_new_string(c->id));
	json_object_object_add(o, "Created", time_ns(c->created * 1000000000LL));
	json_object_object_add(o, "Path", json_object_new_string(c->argv[0]));
	json_object_object_add(o, "Args", strv_to_json(c->argv && c->argv[0] ? c->argv + 1 : NULL));
	json_object_object_add(s, "Status", json_object_new_string(container_status_name(st.status)));
	json_object_object_add(s, "Running", json_object_new_boolean(st.status == CONTAINER_RUNNING));
	json_object_object_add(s, "Pid", json_object_new_int(st.pid));
	json_object_object_add(s, "ExitCode", json_object_new_int(st.exit_code));
	json_object_object_add(s, "OOMKilled", json_object_new_boolean(st.oom_killed));
	json_object_object_add(s, "Error", json_object_new_string(st.error));
	json_object_object_add(s, "StartedAt", time_ns(st.started_ns));
	json_object_object_add(s, "FinishedAt", time_ns(st.finished_ns));
	json_object_object_add(o, "State", s);
	json_object_object_add(o, "Image", json_object_new_string(c->image));
	json_object_object_add(o, "Name", json_object_new_string(name));
	json_object_object_add(conf, "Image", json_object_new_string(c->image_name ? c->image_name : c->image));
	json_object_object_add(conf, "Cmd", strv_to_json(c->argv));
	json_object_object_add(conf, "Env", strv_to_json(c->env));
	json_object_object_add(conf, "WorkingDir", json_object_new_string(c->workdir ? c->workdir : ""));
	json_object_object_add(conf, "User", json_object_new_string(c->user ? c->user : ""));
	json_object_object_add(conf, "Hostname", json_object_new_string(c->hostname ? c->hostname : ""));
	json_object_object_add(conf, "Tty", json_object_new_boolean(c->tty));
	json_object_object_add(conf, "OpenStdin", json_object_new_boolean(c->interactive));
	json_object_object_add(o, "Config", conf);
	json_object_object_add(host, "Memory", json_object_new_int64(c->memory));
	json_object_object_add(host, "NanoCpus", json_object_new_int64(c->cpu_quota * 10000));
	json_object_object_add(host, "PidsLimit", json_object_new_int64(c->pids_limit));
	json_object_object_add(host, "ReadonlyRootfs", json_object_new_boolean(c->read_only));
	json_object_object_add(host, "AutoRemove", json_object_new_boolean(c->auto_remove));
	json_object_object_add(host, "VmMemory", json_object_new_int64(c->vm_memory));
	json_object_object_add(host, "Vcpus", json_object_new_int(c->vcpus));
	json_object_object_add(host, "NetworkMode", json_object_new_string(mode));
	json_object_object_add(host, "PortBindings", container_ports_docker_json(c->net.ports, c->net.nports));
	json_object_object_add(host, "Dns", strv_to_json(c->net.dns));
	json_object_object_add(host, "DnsSearch", strv_to_json(c->net.dns_search));
	json_object_object_add(host, "ExtraHosts", strv_to_json(c->net.extra_hosts));
	json_object_object_add(o, "HostConfig", host);
	json_object_object_add(o, "Mounts", container_mounts_to_json(c->mounts, c->nmounts));
	json_object_object_add(net, "IPAddress", json_object_new_string(
		c->net.mode == NET_MODE_SLIRP ? SLIRP_GUEST : c->net.ip ? c->net.ip : ""));
	json_object_object_add(net, "Gateway", json_object_new_string(
		c->net.mode == NET_MODE_SLIRP ? SLIRP_GATEWAY : c->net.gateway ? c->net.gateway : ""));
	json_object_object_add(net, "MacAddress", json_object_new_string(c->net.mac));
	json_object_object_add(net, "Ports", container_ports_docker_json(st.ports, st.nports));
	json_object_object_add(o, "NetworkSettings", net);
	return o;
}

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
		json_object_array_add(out, container_json(ct));
		container_free(ct);
	}
	if (!status)
		status = cli_print_objects(out, format);
	json_object_put(out);
	return status;
}
