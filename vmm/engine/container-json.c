/* vmm inspect's JSON of a container (docker's shape), for the CLI and the API alike. */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/config-scan.h"
#include "vmm/engine/container-json.h"
#include "vmm/engine/container-net.h"
#include "vmm/engine/container.h"
#include "vmm/machine/machine.h"

json_object *json_time_ns(int64_t ns)
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

/* docker's HostConfig.StorageOpt: {"size": "<bytes>"}, or null for the default disk */
static json_object *storage_opt_json(uint64_t size)
{
	json_object *o;
	char buf[32];

	if (!size)
		return NULL;
	o = json_object_new_object();
	snprintf(buf, sizeof(buf), "%" PRIu64, size);
	json_object_object_add(o, "size", json_object_new_string(buf));
	return o;
}

/* The address inspect shows: slirp's fixed one, tap's --ip, a user network's while it runs. */
static void addresses(const struct container_config *c, const struct container_state *st,
		      const struct machine_net_info *ni, const char **ip, const char **gw)
{
	*ip = *gw = "";
	if (c->net.network) {
		if (st->status == CONTAINER_RUNNING) {
			*ip = st->ip;
			*gw = st->gateway;
		}
	} else if (c->net.mode == NET_MODE_SLIRP) {
		*ip = ni->ip;
		*gw = ni->gateway;
	} else if (c->net.mode == NET_MODE_TAP) {
		*ip = c->net.ip ? c->net.ip : "";
		*gw = c->net.gateway ? c->net.gateway : "";
	}
}

/* One network's endpoint, as docker shows it (ip NULL: no interface). */
static json_object *endpoint_json(const struct container_config *c, const char *name, bool user, const char *ip,
				  const char *gw)
{
	json_object *ep = json_object_new_object();

	json_object_object_add(ep, "NetworkID", json_object_new_string(name));
	if (user) {	/* on a user network docker names a container by its short ID too */
		json_object *aliases = json_object_new_array();
		char short_id[13];

		snprintf(short_id, sizeof(short_id), "%.12s", c->id);
		json_object_array_add(aliases, json_object_new_string(short_id));
		for (char **a = c->net.aliases; a && *a; a++)
			json_object_array_add(aliases, json_object_new_string(*a));
		json_object_object_add(ep, "Aliases", aliases);
	} else {
		json_object_object_add(ep, "Aliases", NULL);
	}
	if (ip) {
		json_object_object_add(ep, "IPAddress", json_object_new_string(ip));
		json_object_object_add(ep, "Gateway", json_object_new_string(gw));
		json_object_object_add(ep, "MacAddress", json_object_new_string(c->net.mac));
	}
	return ep;
}

/* NetworkSettings.Networks: each network the container is on, as docker names it. */
static json_object *networks_json(const struct container_config *c, const struct container_state *st,
				  const char *ip, const char *gw)
{
	json_object *o = json_object_new_object();
	const char *name = netcfg_network_name(&c->net);

	json_object_object_add(o, name, endpoint_json(c, name, c->net.network, c->net.mode == NET_MODE_NONE ?
						      NULL : ip, gw));
	for (char **m = c->net.more; m && *m; m++) {
		const char *mip = "", *mgw = "";
		char more[65];

		netcfg_more_split(*m, more);
		for (unsigned i = 0; st->status == CONTAINER_RUNNING && i < st->nlans; i++)
			if (!strcmp(st->lans[i].network, more)) {
				mip = st->lans[i].ip;
				mgw = st->lans[i].gateway;
			}
		json_object_object_add(o, more, endpoint_json(c, more, true, mip, mgw));
	}
	return o;
}

json_object *container_networks_json(const struct container *ct, const struct container_state *st)
{
	struct machine_net_config slirp = { .backend = MACHINE_NET_SLIRP };
	struct machine_net_info ni;
	const char *ip, *gw;

	machine_net_info(&slirp, &ni);
	addresses(&ct->cfg, st, &ni, &ip, &gw);
	return networks_json(&ct->cfg, st, ip, gw);
}

json_object *container_to_json(const struct container *ct)
{
	const struct container_config *c = &ct->cfg;
	struct container_state st;
	json_object *o = json_object_new_object(), *s = json_object_new_object(),
		    *conf = json_object_new_object(), *host = json_object_new_object(),
		    *net = json_object_new_object();
	struct machine_net_config slirp = { .backend = MACHINE_NET_SLIRP };
	struct machine_net_info ni;
	char name[160], mode[32];
	const char *ip, *gw;

	machine_net_info(&slirp, &ni);
	container_effective_state(ct, &st);
	if (st.status != CONTAINER_RUNNING)
		st.nports = 0;
	netcfg_mode_string(&c->net, mode, sizeof(mode));
	snprintf(name, sizeof(name), "/%s", c->name);
	json_object_object_add(o, "Id", json_object_new_string(c->id));
	json_object_object_add(o, "Created", json_time_ns(c->created * 1000000000LL));
	json_object_object_add(o, "Path", json_object_new_string(c->argv[0]));
	json_object_object_add(o, "Args", strv_to_json(c->argv && c->argv[0] ? c->argv + 1 : NULL));
	json_object_object_add(s, "Status", json_object_new_string(container_state_name(&st)));
	json_object_object_add(s, "Running", json_object_new_boolean(st.status == CONTAINER_RUNNING));
	json_object_object_add(s, "Paused", json_object_new_boolean(st.paused));
	json_object_object_add(s, "Restarting", json_object_new_boolean(st.restarting));
	json_object_object_add(s, "Pid", json_object_new_int(st.pid));
	json_object_object_add(s, "ExitCode", json_object_new_int(st.exit_code));
	json_object_object_add(s, "OOMKilled", json_object_new_boolean(st.oom_killed));
	json_object_object_add(s, "Error", json_object_new_string(st.error));
	json_object_object_add(s, "StartedAt", json_time_ns(st.started_ns));
	json_object_object_add(s, "FinishedAt", json_time_ns(st.finished_ns));
	json_object_object_add(o, "State", s);
	json_object_object_add(o, "RestartCount", json_object_new_int64(st.restart_count));
	json_object_object_add(o, "Image", json_object_new_string(c->image));
	json_object_object_add(o, "Name", json_object_new_string(name));
	json_object_object_add(conf, "Image", json_object_new_string(c->image_name ? c->image_name : c->image));
	json_object_object_add(conf, "Cmd", strv_to_json(c->argv));
	json_object_object_add(conf, "Env", strv_to_json(c->env));
	json_object_object_add(conf, "WorkingDir", json_object_new_string(c->workdir ? c->workdir : ""));
	json_object_object_add(conf, "User", json_object_new_string(c->user ? c->user : ""));
	json_object_object_add(conf, "Hostname", json_object_new_string(c->hostname ? c->hostname : ""));
	json_object_object_add(conf, "Labels", c->labels ? labels_to_json((const char *const *)c->labels, NULL) :
				json_object_new_object());
	json_object_object_add(conf, "Tty", json_object_new_boolean(c->tty));
	json_object_object_add(conf, "OpenStdin", json_object_new_boolean(c->interactive));
	json_object_object_add(conf, "StdinOnce", json_object_new_boolean(c->stdin_once));
	json_object_object_add(o, "Config", conf);
	json_object_object_add(host, "Memory", json_object_new_int64(c->memory));
	json_object_object_add(host, "NanoCpus", json_object_new_int64(c->cpu_quota * 10000));
	json_object_object_add(host, "PidsLimit", json_object_new_int64(c->pids_limit));
	json_object_object_add(host, "VmmTimeout", json_object_new_int64(c->timeout_ns));
	json_object_object_add(host, "StorageOpt", storage_opt_json(c->storage_size));
	json_object_object_add(host, "LogConfig", log_opts_to_json(&c->log));
	json_object_object_add(host, "ReadonlyRootfs", json_object_new_boolean(c->read_only));
	json_object_object_add(host, "AutoRemove", json_object_new_boolean(c->auto_remove));
	json_object_object_add(host, "RestartPolicy", container_restart_json(&c->restart));
	json_object_object_add(host, "Init", json_object_new_boolean(c->init));
	json_object_object_add(host, "VmMemory", json_object_new_int64(c->vm_memory));
	json_object_object_add(host, "Vcpus", json_object_new_int(c->vcpus));
	json_object_object_add(host, "NetworkMode", json_object_new_string(mode));
	json_object_object_add(host, "PortBindings", container_ports_docker_json(c->net.ports, c->net.nports));
	json_object_object_add(host, "Dns", strv_to_json(c->net.dns));
	json_object_object_add(host, "DnsSearch", strv_to_json(c->net.dns_search));
	json_object_object_add(host, "ExtraHosts", strv_to_json(c->net.extra_hosts));
	container_mounts_docker_config(c->mounts, c->nmounts, host, conf);
	json_object_object_add(o, "HostConfig", host);
	json_object_object_add(o, "Mounts", container_mounts_docker_json(c->mounts, c->nmounts));
	addresses(c, &st, &ni, &ip, &gw);
	json_object_object_add(net, "IPAddress", json_object_new_string(ip));
	json_object_object_add(net, "Gateway", json_object_new_string(gw));
	json_object_object_add(net, "MacAddress", json_object_new_string(c->net.mac));
	json_object_object_add(net, "Ports", container_ports_docker_json(st.ports, st.nports));
	json_object_object_add(net, "Networks", networks_json(c, &st, ip, gw));
	json_object_object_add(o, "NetworkSettings", net);
	return o;
}

void container_status_text(const struct container_state *st, char *buf, size_t len)
{
	char d[64];
	int64_t now = time(NULL);

	switch (st->status) {
	case CONTAINER_CREATED:
		snprintf(buf, len, "Created");
		break;
	case CONTAINER_RUNNING:
		format_duration(now - st->started_ns / 1000000000, d, sizeof(d));
		snprintf(buf, len, "Up %s%s", d, st->paused ? " (Paused)" : "");
		break;
	default: {
		/* a vmm killed before it wrote the end (or the start): the last time known, else none */
		int64_t when = st->finished_ns ? st->finished_ns : st->started_ns;

		format_duration(now - when / 1000000000, d, sizeof(d));
		snprintf(buf, len, "%s (%d)%s%s%s", st->restarting ? "Restarting" : "Exited", st->exit_code,
			 when ? " " : "", when ? d : "", when ? " ago" : "");
		break;
	}
	}
}
