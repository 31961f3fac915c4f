/* POST /containers/create: docker's body into the engine's create_config (see create-decode.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api/create-decode.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"
#include "vmm/base/strv.h"
#include "vmm/engine/config-scan.h"

#define LIST_MAX 4096

/* A string field; "" counts as absent (docker's zero value). Owned copy in *out. */
static int opt_string(json_object *o, const char *key, const char *ctx, char **out, struct error *e)
{
	const char *s;
	int ret = jget_string(o, key, false, ctx, &s, e);

	*out = NULL;
	if (ret || !s || !*s)
		return ret;
	*out = strdup(s);
	return *out ? 0 : err_set(e, -ENOMEM, "out of memory");
}

/* docker's StrSlice: a string or an array of strings (null/absent: *out NULL). */
static int str_slice(json_object *o, const char *key, const char *ctx, char ***out, struct error *e)
{
	json_object *v;
	const char *s;
	char name[64];

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return jget_strv(o, key, LIST_MAX, ctx, out, e);
	snprintf(name, sizeof(name), "%s.%s", ctx, key);
	if (jstring(v, name, &s, e))
		return e->code;
	if (strv_push(out, s))
		return err_set(e, -ENOMEM, "out of memory");
	return 0;
}

/* Give each string of the array field ctx.key to fn as option c (a run flag). */
static int each_string_in(json_object *o, const char *ctx, const char *key, int c, void *opts,
			  int (*fn)(void *opts, int c, const char *arg, struct error *e), struct error *e)
{
	char **v;
	int ret = jget_strv(o, key, LIST_MAX, ctx, &v, e);

	for (size_t i = 0; !ret && v && v[i]; i++)
		if ((ret = fn(opts, c, v[i], e)))
			err_wrap(e, ret, "%s.%s[%zu]", ctx, key, i);
	strv_free(v);
	return ret;
}

static int each_string(json_object *hc, const char *key, int c, void *opts,
		       int (*fn)(void *opts, int c, const char *arg, struct error *e), struct error *e)
{
	return each_string_in(hc, "HostConfig", key, c, opts, fn, e);
}

static int net_opt(void *opts, int c, const char *arg, struct error *e)
{
	return run_net_option(opts, c, arg, e);
}

static int mount_opt(void *opts, int c, const char *arg, struct error *e)
{
	return run_mount_option(opts, c, arg, e);
}

/* HostConfig.Mounts: [{Type, Source, Target, ReadOnly}] as --mount specs. */
static int mounts(json_object *hc, struct api_create *a, struct error *e)
{
	json_object *arr;
	int ret = jget_array(hc, "Mounts", false, CONTAINER_MOUNTS_MAX, "HostConfig", &arr, e);

	for (size_t i = 0; !ret && arr && i < json_object_array_length(arr); i++) {
		json_object *m = json_object_array_get_idx(arr, i), *vo = NULL;
		const char *type, *src, *dst;
		char ctx[48], spec[8192];
		bool ro = false, nocopy = false;

		snprintf(ctx, sizeof(ctx), "HostConfig.Mounts[%zu]", i);
		if (!json_object_is_type(m, json_type_object))
			return err_set(e, -EINVAL, "%s: want an object", ctx);
		if ((ret = jget_string(m, "Type", true, ctx, &type, e)) ||
		    (ret = jget_string(m, "Source", false, ctx, &src, e)) ||
		    (ret = jget_string(m, "Target", true, ctx, &dst, e)) ||
		    (ret = jget_bool(m, "ReadOnly", ctx, &ro, e)) ||
		    (ret = jget_object(m, "VolumeOptions", false, ctx, &vo, e)) ||
		    (vo && (ret = jget_bool(vo, "NoCopy", ctx, &nocopy, e))))
			return ret;
		if (strchr(type, ',') || (src && strchr(src, ',')) || strchr(dst, ','))
			return err_set(e, -EINVAL, "%s: a comma in Type, Source or Target", ctx);
		if ((size_t)snprintf(spec, sizeof(spec), "type=%s%s%s,target=%s%s%s", type, src && *src ? ",source=" : "",
				     src && *src ? src : "", dst, ro ? ",readonly" : "",
				     nocopy ? ",volume-nocopy" : "") >= sizeof(spec))
			return err_set(e, -EINVAL, "%s: Source or Target too long", ctx);
		if ((ret = run_mount_option(&a->mounts, RUN_MOUNT_OPT_MOUNT, spec, e)))
			return err_wrap(e, ret, "%s", ctx);
	}
	return ret;
}

/* Is path already the target of a mount of HostConfig (compared as given)? */
static bool mounted(const struct api_create *a, const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	for (unsigned i = 0; i < a->mounts.nspecs; i++)
		if (strlen(a->mounts.specs[i].target) == n && !strncmp(a->mounts.specs[i].target, path, n))
			return true;
	return false;
}

/*
 * Config.Volumes: {"/data": {}}, the anonymous volumes of docker run -v /data; a
 * path that HostConfig mounts something on is that mount's (docker-compose sends both).
 */
static int anonymous_volumes(json_object *body, struct api_create *a, struct error *e)
{
	json_object *v;
	int ret = jget_object(body, "Volumes", false, "", &v, e);

	if (ret || !v)
		return ret;
	json_object_object_foreach(v, path, val) {
		(void)val;
		if (mounted(a, path))
			continue;
		if ((ret = run_mount_option(&a->mounts, RUN_MOUNT_OPT_VOLUME, path, e)))
			return err_wrap(e, ret, "Volumes[%.40s]", path);
	}
	return 0;
}

/* HostConfig.Tmpfs: {"/path": "size=64m,mode=1777"}. */
static int tmpfs(json_object *hc, struct api_create *a, struct error *e)
{
	json_object *t;
	int ret = jget_object(hc, "Tmpfs", false, "HostConfig", &t, e);

	if (ret || !t)
		return ret;
	json_object_object_foreach(t, path, opts) {
		char spec[8192], ctx[64];
		const char *o = NULL;

		snprintf(ctx, sizeof(ctx), "HostConfig.Tmpfs[%.40s]", path);
		if (opts && jstring(opts, ctx, &o, e))
			return e->code;
		if ((size_t)snprintf(spec, sizeof(spec), "%s%s%s", path, o && *o ? ":" : "", o && *o ? o : "") >=
		    sizeof(spec))
			return err_set(e, -EINVAL, "%s: too long", ctx);
		if ((ret = run_mount_option(&a->mounts, RUN_MOUNT_OPT_TMPFS, spec, e)))
			return err_wrap(e, ret, "%s", ctx);
	}
	return 0;
}

/* HostConfig.PortBindings: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]} as -p specs. */
static int port_bindings(json_object *hc, struct api_create *a, struct error *e)
{
	json_object *pb;
	int ret = jget_object(hc, "PortBindings", false, "HostConfig", &pb, e);

	if (ret || !pb)
		return ret;
	json_object_object_foreach(pb, port, list) {
		char ctx[64];

		snprintf(ctx, sizeof(ctx), "HostConfig.PortBindings[%.30s]", port);
		if (!list)
			continue;
		if (!json_object_is_type(list, json_type_array))
			return err_set(e, -EINVAL, "%s: want an array", ctx);
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			json_object *b = json_object_array_get_idx(list, i);
			const char *ip = NULL, *hp = NULL;
			char spec[160];

			if (!json_object_is_type(b, json_type_object))
				return err_set(e, -EINVAL, "%s[%zu]: want an object", ctx, i);
			if ((ret = jget_string(b, "HostIp", false, ctx, &ip, e)) ||
			    (ret = jget_string(b, "HostPort", false, ctx, &hp, e)))
				return ret;
			if (strlen(port) > 32 || (ip && strlen(ip) > 64) || (hp && strlen(hp) > 32))
				return err_set(e, -EINVAL, "%s: too long", ctx);
			if (ip && *ip)
				snprintf(spec, sizeof(spec), "%s:%s:%s", ip, hp ? hp : "", port);
			else if (hp && *hp)
				snprintf(spec, sizeof(spec), "%s:%s", hp, port);
			else
				snprintf(spec, sizeof(spec), "%s", port);
			if ((ret = run_net_option(&a->net, RUN_NET_OPT_PUBLISH, spec, e)))
				return err_wrap(e, ret, "%s", ctx);
		}
	}
	return 0;
}

/*
 * The endpoint's settings on a user network: Aliases (compose's service names), IPAMConfig.IPv4Address
 * (--ip on the first network, NAME=IP in net.more on another).
 */
static int endpoint(json_object *eps, const char *net, bool first, struct api_create *a, struct error *e)
{
	json_object *ep = NULL, *ipam = NULL;
	const char *ip = NULL;
	int ret;

	if (!eps || !json_object_object_get_ex(eps, net, &ep) || !json_object_is_type(ep, json_type_object))
		return 0;
	if ((ret = each_string_in(ep, "EndpointsConfig", "Aliases", RUN_NET_OPT_ALIAS, &a->net, net_opt, e)) ||
	    (ret = jget_object(ep, "IPAMConfig", false, "EndpointsConfig", &ipam, e)) ||
	    (ipam && (ret = jget_string(ipam, "IPv4Address", false, "IPAMConfig", &ip, e))))
		return ret;
	if (!ip || !*ip)
		return 0;
	if (first)
		return (ret = run_net_option(&a->net, RUN_NET_OPT_IP, ip, e)) ?
		       err_wrap(e, ret, "EndpointsConfig.IPAMConfig") : 0;
	if (!netcfg_ipv4_valid(ip))
		return err_set(e, -EINVAL, "%s.IPAMConfig.IPv4Address %s: not an IPv4 address", net, ip);
	for (char **m = a->net.net.more; m && *m; m++)
		if (!strcmp(*m, net)) {
			char *entry;

			if (asprintf(&entry, "%s=%s", net, ip) < 0)
				return err_set(e, -ENOMEM, "out of memory");
			free(*m);
			*m = entry;
		}
	return 0;
}

/* NetworkMode, or the first network of NetworkingConfig.EndpointsConfig; its other networks (API 1.44). */
static int network_mode(json_object *body, json_object *hc, struct api_create *a, struct error *e)
{
	const char *mode = NULL;
	json_object *nc = NULL, *ep = NULL;
	int ret;

	if ((hc && (ret = jget_string(hc, "NetworkMode", false, "HostConfig", &mode, e))) ||
	    (ret = jget_object(body, "NetworkingConfig", false, "", &nc, e)) ||
	    (nc && (ret = jget_object(nc, "EndpointsConfig", false, "NetworkingConfig", &ep, e))))
		return ret;
	if ((!mode || !*mode) && ep) {
		json_object_object_foreach(ep, net, cfg) {
			(void)cfg;
			mode = net;
			break;
		}
	}
	if (!mode || !*mode || !strcmp(mode, "default") || !strcmp(mode, "bridge"))
		return 0;	/* our default: the VM's own user-mode NAT */
	if (!strcmp(mode, "host") || !strncmp(mode, "container:", 10))
		return err_set(e, -EINVAL, "HostConfig.NetworkMode %s: a micro-VM has its own kernel and network "
			       "stack; use a network (bridge, none, or one from POST /networks/create)", mode);
	if (run_net_option(&a->net, RUN_NET_OPT_NETWORK, mode, e))
		return err_wrap(e, e->code, "HostConfig.NetworkMode");
	if ((ret = endpoint(ep, mode, true, a, e)))
		return ret;
	if (ep) {
		json_object_object_foreach(ep, net, cfg) {
			(void)cfg;
			if (!strcmp(net, mode))
				continue;
			if ((ret = run_net_option(&a->net, RUN_NET_OPT_NETWORK, net, e)) ||
			    (ret = endpoint(ep, net, false, a, e)))
				return err_wrap(e, ret, "NetworkingConfig.EndpointsConfig");
		}
	}
	return 0;
}

/* Host settings that cross the VM boundary have no meaning here: refuse rather than ignore. */
static int refuse_host_modes(json_object *hc, struct error *e)
{
	static const char *const modes[] = { "PidMode", "IpcMode", "UTSMode", "UsernsMode" };
	json_object *devs;
	bool priv = false;

	if (jget_bool(hc, "Privileged", "HostConfig", &priv, e))
		return e->code;
	if (priv)
		return err_set(e, -EINVAL, "HostConfig.Privileged: not served: the container runs in its own "
			       "micro-VM, so there is no host to be privileged on");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const char *m;

		if (jget_string(hc, modes[i], false, "HostConfig", &m, e))
			return e->code;
		if (m && !strcmp(m, "host"))
			return err_set(e, -EINVAL, "HostConfig.%s host: the container runs behind a VM boundary "
				       "and cannot share the host's namespaces", modes[i]);
	}
	if (jget_array(hc, "Devices", false, 0, "HostConfig", &devs, e))
		return err_set(e, -EINVAL, "HostConfig.Devices: host devices cannot be passed into the micro-VM");
	return 0;
}

int api_restart_policy(json_object *o, struct restart_policy *out, bool *given, struct error *e)
{
	const char *name = NULL;
	json_object *rp;
	uint64_t n = 0;
	bool present;
	int ret;

	*given = false;
	if ((ret = jget_object(o, "RestartPolicy", false, "", &rp, e)) || !rp ||
	    (ret = jget_string(rp, "Name", false, "RestartPolicy", &name, e)) ||
	    (ret = jget_u64(rp, "MaximumRetryCount", false, 1u << 30, "RestartPolicy", &n, &present, e)))
		return ret;
	if (name && *name) {
		if (restart_mode_parse(name, &out->mode))
			return err_set(e, -EINVAL, "invalid restart policy '%s': no, on-failure, always or "
				       "unless-stopped", name);
		*given = true;
	}
	if (n && (!*given || out->mode != RESTART_ON_FAILURE))
		return err_set(e, -EINVAL, "invalid restart policy: maximum retry count can only be used "
			       "with 'on-failure'");
	out->max_retries = n;
	return 0;
}

int api_pids_limit(json_object *o, const char *ctx, int64_t *out, bool *given, struct error *e)
{
	json_object *v;

	*given = json_object_object_get_ex(o, "PidsLimit", &v) && v;
	if (!*given)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return err_set(e, -EINVAL, "%s%sPidsLimit: want an integer", ctx, *ctx ? "." : "");
	*out = json_object_get_int64(v) > 0 ? json_object_get_int64(v) : 0;
	return 0;
}

/* Memory, NanoCpus, PidsLimit, StorageOpt, AutoRemove, ReadonlyRootfs, Init, RestartPolicy. */
static int limits(json_object *hc, struct create_config *c, struct error *e)
{
	json_object *pl;
	uint64_t v;
	bool present, given;
	int ret;

	if ((ret = jget_u64(hc, "Memory", false, UINT64_MAX / 2, "HostConfig", &c->memory, &present, e)) ||
	    (ret = jget_u64(hc, "NanoCpus", false, 1000000000ULL * 1024, "HostConfig", &v, &present, e)))
		return ret;
	if (present)
		c->cpus = (double)v / 1e9;
	if ((ret = api_pids_limit(hc, "HostConfig", &c->pids_limit, &given, e)))
		return ret;
	if (json_object_object_get_ex(hc, "StorageOpt", &pl) && pl) {
		if (!json_object_is_type(pl, json_type_object))
			return err_set(e, -EINVAL, "HostConfig.StorageOpt: want an object");
		json_object_object_foreach(pl, key, val) {
			if (!json_object_is_type(val, json_type_string))
				return err_set(e, -EINVAL, "HostConfig.StorageOpt.%s: want a string", key);
			if ((ret = storage_opt_set(key, json_object_get_string(val), &c->storage_size, e)))
				return ret;
		}
	}
	if ((ret = jget_bool(hc, "AutoRemove", "HostConfig", &c->auto_remove, e)) ||
	    (ret = jget_bool(hc, "ReadonlyRootfs", "HostConfig", &c->read_only, e)) ||
	    (ret = jget_bool(hc, "Init", "HostConfig", &c->init, e)))
		return ret;
	return api_restart_policy(hc, &c->restart, &given, e);
}

static int host_config(json_object *hc, struct api_create *a, struct error *e)
{
	bool all = false;
	int ret;

	if ((ret = refuse_host_modes(hc, e)) || (ret = limits(hc, &a->c, e)) ||
	    (ret = each_string(hc, "Binds", RUN_MOUNT_OPT_VOLUME, &a->mounts, mount_opt, e)) ||
	    (ret = mounts(hc, a, e)) || (ret = tmpfs(hc, a, e)) ||
	    (ret = log_opts_parse(hc, &a->c.log, e)) ||	/* compose's logging: options */
	    (ret = each_string(hc, "VolumesFrom", RUN_MOUNT_OPT_VOLUMES_FROM, &a->mounts, mount_opt, e)) ||
	    (ret = port_bindings(hc, a, e)) ||
	    (ret = each_string(hc, "Dns", RUN_NET_OPT_DNS, &a->net, net_opt, e)) ||
	    (ret = each_string(hc, "DnsSearch", RUN_NET_OPT_DNS_SEARCH, &a->net, net_opt, e)) ||
	    (ret = each_string(hc, "ExtraHosts", RUN_NET_OPT_ADD_HOST, &a->net, net_opt, e)) ||
	    (ret = jget_bool(hc, "PublishAllPorts", "HostConfig", &all, e)))
		return ret;
	return all ? run_net_option(&a->net, RUN_NET_OPT_PUBLISH_ALL, NULL, e) : 0;
}

/* Entrypoint is a list; the engine takes one program: the rest goes before Cmd. */
static int entrypoint(json_object *body, struct api_create *a, struct error *e)
{
	char **ep, **cmd = NULL;
	int ret = str_slice(body, "Entrypoint", "", &ep, e);

	if (ret || !ep)
		return ret;
	a->entrypoint = strdup(ep[0] ? ep[0] : "");
	for (size_t i = 1; ep[0] && ep[i] && !ret; i++)
		ret = strv_push(&cmd, ep[i]);
	for (size_t i = 0; a->cmd && a->cmd[i] && !ret; i++)
		ret = strv_push(&cmd, a->cmd[i]);
	strv_free(ep);
	if (ret || !a->entrypoint) {
		strv_free(cmd);
		return err_set(e, -ENOMEM, "out of memory");
	}
	strv_free(a->cmd);
	a->cmd = cmd;
	return 0;
}

/* Env: KEY=VALUE only. A bare KEY would read the service's own environment: dropped, as docker does. */
static int env(json_object *body, struct api_create *a, struct error *e)
{
	char **v;
	int ret = jget_strv(body, "Env", LIST_MAX, "", &v, e);

	for (size_t i = 0; !ret && v && v[i]; i++)
		if (strchr(v[i], '=') && v[i][0] != '=' && strv_push(&a->env, v[i]))
			ret = err_set(e, -ENOMEM, "out of memory");
	strv_free(v);
	return ret;
}

int api_decode_create(json_object *body, const char *name, struct api_create *a, struct error *e)
{
	json_object *hc = NULL;
	const char *mac = NULL;
	int ret;

	memset(a, 0, sizeof(*a));
	if ((ret = jget_string(body, "Image", true, "", (const char **)&a->c.image, e)))
		return ret;
	if (!*a->c.image)
		return err_set(e, -EINVAL, "Image: empty");
	if (!(a->image = strdup(a->c.image)) || (name && *name && !(a->name = strdup(name))))
		return err_set(e, -ENOMEM, "out of memory");
	if ((ret = str_slice(body, "Cmd", "", &a->cmd, e)) || (ret = entrypoint(body, a, e)) ||
	    (ret = env(body, a, e)) || (ret = opt_string(body, "WorkingDir", "", &a->workdir, e)) ||
	    (ret = opt_string(body, "User", "", &a->user, e)) ||
	    (ret = opt_string(body, "Hostname", "", &a->hostname, e)) ||
	    (ret = jget_bool(body, "Tty", "", &a->c.tty, e)) ||
	    (ret = jget_bool(body, "OpenStdin", "", &a->c.interactive, e)) ||
	    (ret = jget_bool(body, "StdinOnce", "", &a->c.stdin_once, e)) ||
	    (ret = jget_string(body, "MacAddress", false, "", &mac, e)) ||
	    (ret = labels_parse(body, "Config", &a->labels, e)) ||
	    (ret = jget_object(body, "HostConfig", false, "", &hc, e)) ||
	    (hc && (ret = host_config(hc, a, e))) || (ret = anonymous_volumes(body, a, e)) ||
	    (ret = network_mode(body, hc, a, e)))
		return ret;
	if (mac && *mac && (ret = run_net_option(&a->net, RUN_NET_OPT_MAC, mac, e)))
		return err_wrap(e, ret, "MacAddress");
	a->c.image = a->image;
	a->c.name = a->name;
	a->c.cmd = a->cmd;
	a->c.entrypoint = a->entrypoint;
	a->c.workdir = a->workdir;
	a->c.user = a->user;
	a->c.hostname = a->hostname;
	a->c.env = a->env;
	a->c.labels = a->labels;
	create_config_options(&a->c, &a->net, &a->mounts);
	return 0;
}

void api_create_free(struct api_create *a)
{
	free(a->image);
	free(a->name);
	free(a->entrypoint);
	free(a->workdir);
	free(a->user);
	free(a->hostname);
	strv_free(a->cmd);
	strv_free(a->env);
	strv_free(a->labels);
	run_net_opts_free(&a->net);
	run_mount_opts_free(&a->mounts);
}
