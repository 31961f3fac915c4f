#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/hex.h"
#include "vmm/base/json.h"
#include "vmm/base/strv.h"
#include "vmm/engine/container-net.h"
#include "vmm/engine/config-scan.h"
#include "vmm/engine/container.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

#define CONFIG_FILE	"config.json"
#define STATE_FILE	"state.json"
#define LOCK_FILE	"lock"
#define JSON_MAX	(1 << 20)

int container_new_id(char id[CONTAINER_ID_LEN + 1])
{
	uint8_t raw[CONTAINER_ID_LEN / 2];

	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return -EIO;
	hex_encode(raw, sizeof(raw), id);
	/* Docker avoids all-digit short IDs: they read like numbers. */
	if (strspn(id, "0123456789") >= 12)
		id[0] = 'a';
	return 0;
}

void container_new_name(char *buf, size_t len)
{
	static const char *const adj[] = {
		"brave", "calm", "clever", "eager", "fervent", "gentle", "happy", "jolly",
		"keen", "lucid", "modest", "nifty", "quirky", "serene", "sharp", "vibrant",
	};
	static const char *const who[] = {
		"babbage", "bell", "curie", "dijkstra", "euler", "hopper", "knuth", "lamport",
		"lovelace", "noether", "pike", "ritchie", "shannon", "thompson", "torvalds", "turing",
	};
	uint8_t r[3] = { 0 };

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		r[0] = r[1] = r[2] = (uint8_t)getpid();
	snprintf(buf, len, "%s_%s_%u", adj[r[0] % ARRAY_SIZE(adj)], who[r[1] % ARRAY_SIZE(who)], r[2] % 100);
}

bool container_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 2 || n > 128 || !isalnum((unsigned char)name[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

const char *container_state_name(const struct container_state *st)
{
	if (st->status == CONTAINER_EXITED && st->restarting)
		return "restarting";
	return st->status == CONTAINER_RUNNING && st->paused ? "paused" : container_status_name(st->status);
}

const char *container_status_name(enum container_status s)
{
	switch (s) {
	case CONTAINER_CREATED: return "created";
	case CONTAINER_RUNNING: return "running";
	default: return "exited";
	}
}

int container_path(const struct container *c, const char *name, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/%s", c->dir, name) >= len ? -ENAMETOOLONG : 0;
}

static void add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

static json_object *config_json(const struct container_config *c)
{
	json_object *o = json_object_new_object(), *conf = json_object_new_object(),
		    *host = json_object_new_object();

	add_str(o, "Id", c->id);
	add_str(o, "Name", c->name);
	add_str(o, "Image", c->image);
	add_str(o, "ImageName", c->image_name);
	json_object_object_add(o, "Created", json_object_new_int64(c->created));
	json_object_object_add(conf, "Cmd", strv_to_json(c->argv));
	json_object_object_add(conf, "Env", strv_to_json(c->env));
	add_str(conf, "WorkingDir", c->workdir);
	add_str(conf, "User", c->user);
	add_str(conf, "Hostname", c->hostname);
	if (c->labels)
		json_object_object_add(conf, "Labels", labels_to_json((const char *const *)c->labels, NULL));
	json_object_object_add(conf, "Tty", json_object_new_boolean(c->tty));
	json_object_object_add(conf, "OpenStdin", json_object_new_boolean(c->interactive));
	json_object_object_add(conf, "StdinOnce", json_object_new_boolean(c->stdin_once));
	json_object_object_add(o, "Config", conf);
	json_object_object_add(host, "Memory", json_object_new_int64(c->memory));
	json_object_object_add(host, "VmMemory", json_object_new_int64(c->vm_memory));
	json_object_object_add(host, "Vcpus", json_object_new_int64(c->vcpus));
	json_object_object_add(host, "CpuQuota", json_object_new_int64(c->cpu_quota));
	json_object_object_add(host, "PidsLimit", json_object_new_int64(c->pids_limit));
	if (c->timeout_ns)
		json_object_object_add(host, "VmmTimeout", json_object_new_int64(c->timeout_ns));
	if (c->storage_size)
		json_object_object_add(host, "VmmStorageSize", json_object_new_int64(c->storage_size));
	if (c->virtiofsd)
		json_object_object_add(host, "VmmVirtiofsd", json_object_new_string(c->virtiofsd));
	if (c->rootfs)
		json_object_object_add(host, "VmmRootfs", json_object_new_string(c->rootfs));
	if (c->groups)
		json_object_object_add(host, "GroupAdd", strv_to_json(c->groups));
	if (c->caps_set) {
		json_object *caps = json_object_new_array();

		for (int i = 0; i < PROTO_CAP_SETS; i++)
			json_object_array_add(caps, json_object_new_uint64(c->caps[i]));
		json_object_object_add(host, "VmmCapSets", caps);
	}
	if (c->rlimits)
		json_object_object_add(host, "VmmRlimits", strv_to_json(c->rlimits));
	if (c->netns) {
		json_object_object_add(host, "VmmNetns", json_object_new_string(c->netns));
		json_object_object_add(host, "VmmNetnsIf", json_object_new_string(c->netns_if ? c->netns_if : ""));
	}
	if (c->no_new_privs)
		json_object_object_add(host, "VmmNoNewPrivileges", json_object_new_boolean(true));
	json_object_object_add(host, "LogConfig", log_opts_to_json(&c->log));
	json_object_object_add(host, "ReadonlyRootfs", json_object_new_boolean(c->read_only));
	json_object_object_add(host, "AutoRemove", json_object_new_boolean(c->auto_remove));
	json_object_object_add(host, "RestartPolicy", container_restart_json(&c->restart));
	if (c->init)
		json_object_object_add(host, "Init", json_object_new_boolean(true));
	container_net_to_json(&c->net, host);
	json_object_object_add(o, "HostConfig", host);
	if (c->net.network) {	/* what network_users looks for */
		json_object *nets = json_object_new_array();
		char name[65];

		json_object_array_add(nets, json_object_new_string(c->net.network));
		for (char **m = c->net.more; m && *m; m++) {
			netcfg_more_split(*m, name);
			json_object_array_add(nets, json_object_new_string(name));
		}
		json_object_object_add(o, "Networks", nets);
	}
	json_object_object_add(o, "Mounts", container_mounts_to_json(c->mounts, c->nmounts));
	return o;
}

static int dup_str(json_object *o, const char *key, bool required, const char *ctx,
		   char **out, struct error *e)
{
	const char *v = NULL;
	int ret = jget_string(o, key, required, ctx, &v, e);

	if (ret)
		return ret;
	*out = v ? strdup(v) : NULL;
	return v && !*out ? -ENOMEM : 0;
}

json_object *container_restart_json(const struct restart_policy *p)
{
	json_object *o = json_object_new_object();

	add_str(o, "Name", p->mode == RESTART_NO ? "" : restart_mode_name(p->mode));
	json_object_object_add(o, "MaximumRetryCount", json_object_new_int64(p->max_retries));
	return o;
}

/* HostConfig.RestartPolicy (none: "no"). */
static int parse_restart(json_object *host, struct restart_policy *p, struct error *e)
{
	json_object *o;
	const char *name = NULL;
	uint64_t n = 0;
	bool present;
	int ret;

	*p = (struct restart_policy){ RESTART_NO, 0 };
	if ((ret = jget_object(host, "RestartPolicy", false, "config.HostConfig", &o, e)) || !o)
		return ret;
	if ((ret = jget_string(o, "Name", false, "config.HostConfig.RestartPolicy", &name, e)) ||
	    (ret = jget_u64(o, "MaximumRetryCount", false, 1u << 30, "config.HostConfig.RestartPolicy", &n,
			    &present, e)))
		return ret;
	if (name && restart_mode_parse(name, &p->mode))
		return err_set(e, -EINVAL, "config.HostConfig.RestartPolicy.Name: '%s' is no policy", name);
	p->max_retries = n;
	return 0;
}

/* HostConfig.VmmCapSets: an OCI process's five capability sets, as numbers (absent: none set). */
static int cap_sets(json_object *host, struct container_config *c, struct error *e)
{
	json_object *a;

	if (!json_object_object_get_ex(host, "VmmCapSets", &a))
		return 0;
	if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) != PROTO_CAP_SETS)
		return err_set(e, -EINVAL, "config.HostConfig.VmmCapSets: want %d numbers", PROTO_CAP_SETS);
	for (int i = 0; i < PROTO_CAP_SETS; i++) {
		json_object *v = json_object_array_get_idx(a, i);

		if (!json_object_is_type(v, json_type_int))
			return err_set(e, -EINVAL, "config.HostConfig.VmmCapSets[%d]: want a number", i);
		c->caps[i] = json_object_get_uint64(v);
	}
	c->caps_set = true;
	return 0;
}

static int parse_config(json_object *o, struct container_config *c, struct error *e)
{
	json_object *conf, *host;
	const char *id;
	uint64_t v;
	bool present;
	int ret;

	if ((ret = jget_string(o, "Id", true, "config", &id, e)))
		return ret;
	/* The ID names folders and sockets: 64 hex digits, nothing else. */
	if (strlen(id) != CONTAINER_ID_LEN || !hex_valid(id, CONTAINER_ID_LEN))
		return err_set(e, -EINVAL, "config.Id: not a container ID");
	memcpy(c->id, id, CONTAINER_ID_LEN + 1);
	if ((ret = dup_str(o, "Name", true, "config", &c->name, e)) ||
	    (ret = dup_str(o, "Image", true, "config", &c->image, e)) ||
	    (ret = dup_str(o, "ImageName", false, "config", &c->image_name, e)) ||
	    (ret = jget_u64(o, "Created", false, INT64_MAX, "config", &v, &present, e)))
		return ret;
	c->created = present ? (int64_t)v : 0;
	if ((ret = jget_object(o, "Config", true, "config", &conf, e)) ||
	    (ret = jget_strv(conf, "Cmd", 65536, "config.Config", &c->argv, e)) ||
	    (ret = jget_strv(conf, "Env", 65536, "config.Config", &c->env, e)) ||
	    (ret = dup_str(conf, "WorkingDir", false, "config.Config", &c->workdir, e)) ||
	    (ret = dup_str(conf, "User", false, "config.Config", &c->user, e)) ||
	    (ret = dup_str(conf, "Hostname", false, "config.Config", &c->hostname, e)) ||
	    (ret = jget_bool(conf, "Tty", "config.Config", &c->tty, e)) ||
	    (ret = jget_bool(conf, "OpenStdin", "config.Config", &c->interactive, e)) ||
	    (ret = jget_bool(conf, "StdinOnce", "config.Config", &c->stdin_once, e)))
		return ret;
	if (!c->argv || !c->argv[0])
		return err_set(e, -EINVAL, "config.Config.Cmd: empty");
	if ((ret = labels_parse(conf, "config.Config", &c->labels, e)))
		return ret;
	if ((ret = jget_object(o, "HostConfig", true, "config", &host, e)) ||
	    (ret = jget_u64(host, "Memory", false, UINT64_MAX, "config.HostConfig", &c->memory, &present, e)) ||
	    (ret = jget_u64(host, "VmMemory", true, UINT64_MAX, "config.HostConfig", &c->vm_memory, &present, e)) ||
	    (ret = jget_u64(host, "Vcpus", true, 64, "config.HostConfig", &v, &present, e)))
		return ret;
	c->vcpus = v;
	if ((ret = jget_u64(host, "CpuQuota", false, UINT64_MAX, "config.HostConfig", &c->cpu_quota, &present, e)) ||
	    (ret = jget_u64(host, "PidsLimit", false, INT64_MAX, "config.HostConfig", &v, &present, e)) ||
	    (ret = jget_bool(host, "ReadonlyRootfs", "config.HostConfig", &c->read_only, e)) ||
	    (ret = jget_bool(host, "AutoRemove", "config.HostConfig", &c->auto_remove, e)) ||
	    (ret = jget_bool(host, "Init", "config.HostConfig", &c->init, e)))
		return ret;
	c->pids_limit = present ? (int64_t)v : 0;
	if ((ret = jget_u64(host, "VmmTimeout", false, INT64_MAX, "config.HostConfig", &v, &present, e)))
		return ret;
	c->timeout_ns = present ? (int64_t)v : 0;
	if ((ret = jget_u64(host, "VmmStorageSize", false, STORAGE_SIZE_MAX, "config.HostConfig",
			    &c->storage_size, &present, e)) ||
	    (ret = dup_str(host, "VmmVirtiofsd", false, "config.HostConfig", &c->virtiofsd, e)) ||
	    (ret = dup_str(host, "VmmRootfs", false, "config.HostConfig", &c->rootfs, e)))
		return ret;
	if ((ret = jget_strv(host, "GroupAdd", 64, "config.HostConfig", &c->groups, e)) ||
	    (ret = jget_strv(host, "VmmRlimits", PROTO_RLIMITS_MAX, "config.HostConfig", &c->rlimits, e)) ||
	    (ret = jget_bool(host, "VmmNoNewPrivileges", "config.HostConfig", &c->no_new_privs, e)) ||
	    (ret = cap_sets(host, c, e)) ||
	    (ret = dup_str(host, "VmmNetns", false, "config.HostConfig", &c->netns, e)) ||
	    (ret = dup_str(host, "VmmNetnsIf", c->netns != NULL, "config.HostConfig", &c->netns_if, e)))
		return ret;
	if (c->rootfs && c->rootfs[0] != '/')
		return err_set(e, -EINVAL, "config.HostConfig.VmmRootfs: want an absolute path");
	if ((ret = log_opts_parse(host, &c->log, e)))
		return ret;
	if ((ret = parse_restart(host, &c->restart, e)) ||
	    (ret = container_mounts_parse(o, &c->mounts, &c->nmounts, e)))
		return ret;
	if ((ret = container_net_parse(host, &c->net, e)))
		return ret;
	if (c->netns && (c->netns[0] != '/' || !c->netns_if[0] || strlen(c->netns_if) >= 16 || strchr(c->netns_if, '/') ||
			 c->net.mode != NET_MODE_TAP))
		return err_set(e, -EINVAL, "config.HostConfig.VmmNetns: want an absolute path, its interface and a tap");
	return 0;
}

static json_object *state_json(const struct container_state *s)
{
	json_object *o = json_object_new_object();

	add_str(o, "Status", container_status_name(s->status));
	json_object_object_add(o, "Pid", json_object_new_int(s->pid));
	json_object_object_add(o, "StartedAt", json_object_new_int64(s->started_ns));
	json_object_object_add(o, "FinishedAt", json_object_new_int64(s->finished_ns));
	json_object_object_add(o, "ExitCode", json_object_new_int(s->exit_code));
	json_object_object_add(o, "OOMKilled", json_object_new_boolean(s->oom_killed));
	if (s->paused)
		json_object_object_add(o, "Paused", json_object_new_boolean(true));
	if (s->restart_count)
		json_object_object_add(o, "RestartCount", json_object_new_int64(s->restart_count));
	if (s->restarting)
		json_object_object_add(o, "Restarting", json_object_new_boolean(true));
	if (s->manual_stop)
		json_object_object_add(o, "ManualStop", json_object_new_boolean(true));
	add_str(o, "Error", s->error);
	if (s->nports)
		json_object_object_add(o, "Ports", container_ports_json(s->ports, s->nports));
	if (s->ip[0]) {
		add_str(o, "IPAddress", s->ip);
		add_str(o, "Gateway", s->gateway);
	}
	if (s->nlans) {
		json_object *a = json_object_new_array();

		for (unsigned i = 0; i < s->nlans; i++) {
			json_object *l = json_object_new_object();

			add_str(l, "Name", s->lans[i].network);
			add_str(l, "IPAddress", s->lans[i].ip);
			add_str(l, "Gateway", s->lans[i].gateway);
			json_object_array_add(a, l);
		}
		json_object_object_add(o, "Networks", a);
	}
	return o;
}

/* state.Networks: [{"Name", "IPAddress", "Gateway"}], the more networks it runs on. */
static int parse_lans(json_object *o, struct container_state *s, struct error *e)
{
	json_object *a;
	int ret = jget_array(o, "Networks", false, NETCFG_MAX_NETWORKS - 1, "state", &a, e);

	for (size_t i = 0; !ret && a && i < json_object_array_length(a); i++) {
		json_object *l = json_object_array_get_idx(a, i);
		const char *name = NULL, *ip = NULL, *gw = NULL;

		if (!json_object_is_type(l, json_type_object))
			return err_set(e, -EINVAL, "state.Networks[%zu]: want an object", i);
		if ((ret = jget_string(l, "Name", true, "state.Networks", &name, e)) ||
		    (ret = jget_string(l, "IPAddress", true, "state.Networks", &ip, e)) ||
		    (ret = jget_string(l, "Gateway", true, "state.Networks", &gw, e)))
			return ret;
		if (strlen(name) > 64 || !netcfg_ipv4_valid(ip) || !netcfg_ipv4_valid(gw))
			return err_set(e, -EINVAL, "state.Networks[%zu]: not a network's name and addresses", i);
		snprintf(s->lans[s->nlans].network, sizeof(s->lans[0].network), "%s", name);
		snprintf(s->lans[s->nlans].ip, sizeof(s->lans[0].ip), "%s", ip);
		snprintf(s->lans[s->nlans].gateway, sizeof(s->lans[0].gateway), "%s", gw);
		s->nlans++;
	}
	return ret;
}

static int parse_state(json_object *o, struct container_state *s, struct error *e)
{
	const char *status, *err = NULL;
	uint64_t v;
	bool present;
	int ret;

	memset(s, 0, sizeof(*s));
	if ((ret = jget_string(o, "Status", true, "state", &status, e)))
		return ret;
	s->status = !strcmp(status, "running") ? CONTAINER_RUNNING
		  : !strcmp(status, "created") ? CONTAINER_CREATED : CONTAINER_EXITED;
	if ((ret = jget_u64(o, "Pid", false, INT32_MAX, "state", &v, &present, e)))
		return ret;
	s->pid = present ? v : 0;
	if ((ret = jget_u64(o, "StartedAt", false, INT64_MAX, "state", &v, &present, e)))
		return ret;
	s->started_ns = present ? v : 0;
	if ((ret = jget_u64(o, "FinishedAt", false, INT64_MAX, "state", &v, &present, e)))
		return ret;
	s->finished_ns = present ? v : 0;
	if ((ret = jget_u64(o, "ExitCode", false, 255, "state", &v, &present, e)))
		return ret;
	s->exit_code = present ? v : 0;
	if ((ret = jget_bool(o, "OOMKilled", "state", &s->oom_killed, e)) ||
	    (ret = jget_bool(o, "Paused", "state", &s->paused, e)) ||
	    (ret = jget_bool(o, "Restarting", "state", &s->restarting, e)) ||
	    (ret = jget_bool(o, "ManualStop", "state", &s->manual_stop, e)) ||
	    (ret = jget_string(o, "Error", false, "state", &err, e)))
		return ret;
	if ((ret = jget_u64(o, "RestartCount", false, UINT32_MAX, "state", &v, &present, e)))
		return ret;
	s->restart_count = present ? v : 0;	/* absent: never restarted */
	snprintf(s->error, sizeof(s->error), "%s", err ? err : "");
	{
		const char *ip = NULL, *gw = NULL;

		if ((ret = jget_string(o, "IPAddress", false, "state", &ip, e)) ||
		    (ret = jget_string(o, "Gateway", false, "state", &gw, e)))
			return ret;
		if (ip && gw && netcfg_ipv4_valid(ip) && netcfg_ipv4_valid(gw)) {
			snprintf(s->ip, sizeof(s->ip), "%s", ip);
			snprintf(s->gateway, sizeof(s->gateway), "%s", gw);
		}
	}
	if ((ret = parse_lans(o, s, e)))
		return ret;
	{
		json_object *ports;
		size_t n = 0;

		if ((ret = jget_array(o, "Ports", false, NETCFG_MAX_PORTS, "state", &ports, e)) ||
		    (ret = container_ports_parse(ports, "state.Ports", s->ports, NETCFG_MAX_PORTS, &n, e)))
			return ret;
		s->nports = n;
	}
	return 0;
}

static int write_json(const struct container *c, const char *name, json_object *o)
{
	char path[4096];
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	int ret = container_path(c, name, path, sizeof(path));

	if (!ret)
		ret = write_file_atomic(AT_FDCWD, path, text, strlen(text), 0644);
	json_object_put(o);
	return ret;
}

static json_object *read_json(const struct container *c, const char *name, struct error *e)
{
	char path[4096], *data;
	size_t len;
	json_object *o;
	int ret = container_path(c, name, path, sizeof(path));

	if (!ret)
		ret = read_file(AT_FDCWD, path, JSON_MAX, &data, &len);
	if (ret) {
		err_set(e, -EINVAL, "%s: %s", path, strerror(-ret));
		return NULL;
	}
	o = json_parse_object(data, len, e);
	free(data);
	return o;
}

int container_save_state(struct container *c)
{
	return write_json(c, STATE_FILE, state_json(&c->state));
}

static int containers_dir(const char *root, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/containers", root) >= len)
		return -ENAMETOOLONG;
	return mkdir_p(AT_FDCWD, buf, 0700);
}

static int load(const char *dir, const char *id, struct container **out)
{
	struct container *c = calloc(1, sizeof(*c));
	json_object *o;
	struct error e = { 0 };
	int ret = -EINVAL;

	if (!c)
		return -ENOMEM;
	c->lock_fd = -1;
	if (asprintf(&c->dir, "%s/%s", dir, id) < 0) {
		free(c);
		return -ENOMEM;
	}
	o = read_json(c, CONFIG_FILE, &e);
	if (o) {
		ret = parse_config(o, &c->cfg, &e);
		json_object_put(o);
	}
	/* The folder's name is the ID: a config claiming another one is not this container. */
	if (!ret && strcmp(c->cfg.id, id))
		ret = err_set(&e, -EINVAL, "config.Id %.12s is not its folder's name", c->cfg.id);
	if (!ret) {
		o = read_json(c, STATE_FILE, &e);
		ret = o ? parse_state(o, &c->state, &e) : -EINVAL;
		json_object_put(o);
	}
	if (ret) {
		pr_debug("skipping container %s: %s", id, e.msg);
		container_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

int container_list(const char *root, struct container ***out, size_t *n, struct error *e)
{
	char dir[4096];
	struct container **list = NULL;
	size_t count = 0;
	struct dirent *de;
	DIR *d;
	int ret = containers_dir(root, dir, sizeof(dir));

	if (ret)
		return err_sys(e, ret, "%s/containers", root);
	d = opendir(dir);
	if (!d)
		return err_sys(e, -errno, "%s", dir);
	while ((de = readdir(d))) {
		struct container *c, **nl;

		if (strlen(de->d_name) != CONTAINER_ID_LEN || load(dir, de->d_name, &c))
			continue;
		nl = realloc(list, (count + 1) * sizeof(*list));
		if (!nl) {
			container_free(c);
			break;
		}
		list = nl;
		list[count++] = c;
	}
	closedir(d);
	/* newest first, like docker ps */
	for (size_t i = 1; i < count; i++)
		for (size_t j = i; j > 0 && list[j - 1]->cfg.created < list[j]->cfg.created; j--) {
			struct container *t = list[j];

			list[j] = list[j - 1];
			list[j - 1] = t;
		}
	*out = list;
	*n = count;
	return 0;
}

void container_list_free(struct container **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		container_free(list[i]);
	free(list);
}

int container_open(const char *root, const char *ref, struct container **out, struct error *e)
{
	struct container **list, *found = NULL;
	size_t n, matches = 0;
	int ret = container_list(root, &list, &n, e);

	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(list[i]->cfg.name, ref) || !strcmp(list[i]->cfg.id, ref)) {
			found = list[i];	/* exact match wins */
			matches = 1;
			break;
		}
		if (strlen(ref) >= 1 && str_has_prefix(list[i]->cfg.id, ref)) {
			found = list[i];
			matches++;
		}
	}
	if (matches != 1) {
		container_list_free(list, n);
		if (matches > 1)
			return err_set(e, -EINVAL, "container '%s': ambiguous ID prefix (use more characters)", ref);
		return err_set(e, -ENOENT, "no such container: %s", ref);
	}
	for (size_t i = 0; i < n; i++)
		if (list[i] != found)
			container_free(list[i]);
	free(list);
	*out = found;
	return 0;
}

int container_name_free(const char *root, const char *name, struct error *e)
{
	struct container **list;
	size_t n;
	int ret = container_list(root, &list, &n, e);

	if (ret)
		return ret;
	for (size_t i = 0; i < n && !ret; i++) {
		if (!strcmp(list[i]->cfg.name, name))
			ret = err_set(e, -EEXIST, "the container name \"%s\" is already in use by container %.12s "
				      "(remove it with 'vmm rm %s' or choose another --name)",
				      name, list[i]->cfg.id, name);
	}
	container_list_free(list, n);
	return ret;
}

int container_create(const char *root, const struct container_config *cfg, struct container **out,
		     struct error *e)
{
	char dir[4096], lockpath[4200];
	struct container *c;
	int lock, ret = containers_dir(root, dir, sizeof(dir));

	if (ret)
		return err_sys(e, ret, "%s/containers", root);
	snprintf(lockpath, sizeof(lockpath), "%s/.lock", dir);
	lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		ret = err_sys(e, -errno, "%s", lockpath);
		goto out_lock;
	}
	ret = container_name_free(root, cfg->name, e);
	if (ret)
		goto out_lock;

	c = calloc(1, sizeof(*c));
	if (!c || asprintf(&c->dir, "%s/%s", dir, cfg->id) < 0) {
		free(c);
		ret = err_set(e, -ENOMEM, "out of memory");
		goto out_lock;
	}
	c->lock_fd = -1;
	c->cfg = *cfg;
	c->cfg.name = strdup(cfg->name);
	c->cfg.image = strdup(cfg->image);
	c->cfg.image_name = cfg->image_name ? strdup(cfg->image_name) : NULL;
	c->cfg.argv = strv_dup(cfg->argv);
	c->cfg.env = strv_dup(cfg->env);
	c->cfg.labels = cfg->labels ? strv_dup(cfg->labels) : NULL;
	c->cfg.workdir = cfg->workdir ? strdup(cfg->workdir) : NULL;
	c->cfg.user = cfg->user ? strdup(cfg->user) : NULL;
	c->cfg.hostname = cfg->hostname ? strdup(cfg->hostname) : NULL;
	c->cfg.virtiofsd = cfg->virtiofsd ? strdup(cfg->virtiofsd) : NULL;
	c->cfg.rootfs = cfg->rootfs ? strdup(cfg->rootfs) : NULL;
	c->cfg.groups = cfg->groups ? strv_dup(cfg->groups) : NULL;
	c->cfg.rlimits = cfg->rlimits ? strv_dup(cfg->rlimits) : NULL;
	c->cfg.netns = cfg->netns ? strdup(cfg->netns) : NULL;
	c->cfg.netns_if = cfg->netns_if ? strdup(cfg->netns_if) : NULL;
	if (netcfg_copy(&c->cfg.net, &cfg->net))
		memset(&c->cfg.net, 0, sizeof(c->cfg.net));
	c->cfg.mounts = container_mounts_copy(cfg->mounts, cfg->nmounts);
	if (!c->cfg.mounts) {
		c->cfg.nmounts = 0;
		ret = err_set(e, -ENOMEM, "out of memory");
		container_free(c);
		goto out_lock;
	}
	c->state.status = CONTAINER_CREATED;
	if (mkdir(c->dir, 0700) < 0) {
		ret = err_sys(e, -errno, "%s", c->dir);
		container_free(c);
		goto out_lock;
	}
	/* state first: a directory with a config but no state is never listed half-made */
	ret = container_save_state(c);
	if (!ret)
		ret = write_json(c, CONFIG_FILE, config_json(&c->cfg));
	if (ret) {
		err_sys(e, ret, "container %.12s: cannot write its configuration", cfg->id);
		container_remove(c);
		container_free(c);
		goto out_lock;
	}
	*out = c;
out_lock:
	if (lock >= 0)
		close(lock);
	return ret;
}

int container_lock(struct container *c)
{
	char path[4096];
	int fd;

	container_path(c, LOCK_FILE, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

		close(fd);
		return err;
	}
	c->lock_fd = fd;
	return 0;
}

int container_lock_shared(const struct container *c, int *fd)
{
	char path[4096];
	int lfd;

	container_path(c, LOCK_FILE, path, sizeof(path));
	lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0)
		return -errno;
	if (flock(lfd, LOCK_SH | LOCK_NB) < 0) {
		int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

		close(lfd);
		return err;
	}
	*fd = lfd;
	return 0;
}

bool container_is_running(const struct container *c)
{
	char path[4096];
	bool running;
	int fd;

	if (c->lock_fd >= 0)
		return true;
	container_path(c, LOCK_FILE, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	running = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return running;
}

void container_effective_state(const struct container *c, struct container_state *st)
{
	*st = c->state;
	if (st->status != CONTAINER_RUNNING)
		st->paused = false;
	if (st->restarting && (st->status != CONTAINER_EXITED || !container_is_running(c)))
		st->restarting = false;	/* its vmm process gave up, or died */
	if (st->status == CONTAINER_RUNNING && !container_is_running(c)) {
		st->paused = false;
		st->status = CONTAINER_EXITED;
		st->exit_code = 137;
		st->pid = 0;
		snprintf(st->error, sizeof(st->error), "the vmm process running it died");
	}
}

int container_kill(struct container *c)
{
	char path[4096];
	int fd, ret = 0;

	if (c->state.pid > 0 && container_is_running(c))
		kill(c->state.pid, SIGKILL);
	container_path(c, LOCK_FILE, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_EX) < 0)	/* granted once the process is gone */
		ret = -errno;
	close(fd);
	return ret;
}

int container_wait(const struct container *c)
{
	char path[4096];
	int fd, ret = 0;

	container_path(c, LOCK_FILE, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	while (flock(fd, LOCK_SH) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			break;
		}
	}
	close(fd);
	return ret;
}

int container_reload_state(struct container *c)
{
	struct error e = { 0 };
	json_object *o = read_json(c, STATE_FILE, &e);
	int ret = o ? parse_state(o, &c->state, &e) : -EINVAL;

	json_object_put(o);
	return ret;
}

int container_remove(struct container *c)
{
	if (c->lock_fd < 0 && container_is_running(c))
		return -EBUSY;
	return remove_tree(AT_FDCWD, c->dir);
}

void container_config_free(struct container_config *cfg)
{
	free(cfg->name);
	free(cfg->image);
	free(cfg->image_name);
	strv_free(cfg->argv);
	strv_free(cfg->env);
	strv_free(cfg->labels);
	free(cfg->workdir);
	free(cfg->user);
	free(cfg->hostname);
	free(cfg->virtiofsd);
	free(cfg->rootfs);
	strv_free(cfg->groups);
	strv_free(cfg->rlimits);
	free(cfg->netns);
	free(cfg->netns_if);
	netcfg_free(&cfg->net);
	container_mounts_free(cfg->mounts, cfg->nmounts);
	memset(cfg, 0, sizeof(*cfg));
}

void container_free(struct container *c)
{
	if (!c)
		return;
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	container_config_free(&c->cfg);
	free(c->dir);
	free(c);
}

int container_save_config(struct container *c)
{
	return write_json(c, CONFIG_FILE, config_json(&c->cfg));
}

int container_rename(const char *root, const char *ref, const char *name, struct error *e)
{
	struct container **list, *c = NULL;
	size_t n;
	int ret;

	if (!container_name_valid(name))
		return err_set(e, -EINVAL, "invalid container name \"%s\" (use [a-zA-Z0-9][a-zA-Z0-9_.-]+)", name);
	if ((ret = container_list(root, &list, &n, e)))
		return ret;
	for (size_t i = 0; i < n && !ret; i++)
		if (!strcmp(list[i]->cfg.name, name))
			ret = err_set(e, -EEXIST, "the container name \"%s\" is already in use by container %.12s",
				      name, list[i]->cfg.id);
	container_list_free(list, n);
	if (!ret)
		ret = container_open(root, ref, &c, e);
	if (!ret) {
		char *old = c->cfg.name;

		c->cfg.name = strdup(name);
		if (!c->cfg.name)
			ret = err_set(e, -ENOMEM, "out of memory");
		else if ((ret = container_save_config(c)))
			err_sys(e, ret, "container %s: cannot write its configuration", ref);
		free(old);
	}
	container_free(c);
	return ret;
}
