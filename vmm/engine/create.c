/* Creating a container from an image and the user's flags (create.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "images/disk/qcow2.h"
#include "images/oci/image.h"
#include "images/rootfs/rootfs.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/config-scan.h"
#include "vmm/engine/container.h"
#include "vmm/engine/create.h"
#include "vmm/engine/env.h"
#include "vmm/engine/mounts.h"
#include "vmm/engine/run-mounts.h"
#include "vmm/engine/run-net.h"
#include "vmm/engine/runner.h"
#include "vmm/vm.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* docker's rules: --entrypoint resets the image's Cmd; arguments after IMAGE replace Cmd. */
static int resolve_argv(const struct create_config *c, const struct image_config *ic, char ***out)
{
	char **argv = NULL;
	int ret = 0;

	if (c->entrypoint) {
		if (*c->entrypoint)
			ret = strv_push(&argv, c->entrypoint);
	} else {
		for (size_t i = 0; !ret && ic->entrypoint && ic->entrypoint[i]; i++)
			ret = strv_push(&argv, ic->entrypoint[i]);
	}
	if (c->cmd && c->cmd[0]) {
		for (size_t i = 0; !ret && c->cmd[i]; i++)
			ret = strv_push(&argv, c->cmd[i]);
	} else if (!c->entrypoint) {
		for (size_t i = 0; !ret && ic->cmd && ic->cmd[i]; i++)
			ret = strv_push(&argv, ic->cmd[i]);
	}
	*out = argv;
	return ret;
}

/* The image's Env, then --env-file, then -e; PATH when nobody set one. */
static int build_env(const struct create_config *c, const struct image_config *ic, char ***env,
		     struct error *e)
{
	int ret = env_merge(ic->env, NULL, env);

	for (size_t i = 0; !ret && c->env_files && c->env_files[i]; i++)
		ret = env_file(env, c->env_files[i], e);
	if (ret)
		return e && e->code ? ret : err_sys(e, ret, "environment");
	for (size_t i = 0; !ret && c->env && c->env[i]; i++)
		ret = env_set(env, c->env[i]);
	for (size_t i = 0; !ret && *env && (*env)[i]; i++)
		if (!strncmp((*env)[i], "PATH=", 5))
			return 0;
	if (!ret)
		ret = env_set(env, DEFAULT_PATH);
	return ret ? err_sys(e, ret, "environment") : 0;
}

static bool published(const struct net_config *n, uint16_t port, bool udp)
{
	for (size_t i = 0; i < n->nports; i++)
		if (n->ports[i].container_port == port && n->ports[i].udp == udp)
			return true;
	return false;
}

void create_set_memory(struct container_config *cc, uint64_t memory)
{
	cc->memory = memory;
	cc->vm_memory = memory ? MAX(VM_MEMORY_DEFAULT, ALIGN_UP(memory, MiB) + VM_MEMORY_OVERHEAD) : VM_MEMORY_DEFAULT;
}

void create_set_cpus(struct container_config *cc, double cpus)
{
	cc->vcpus = cpus > 0 ? (unsigned)(cpus + 0.999) : 1;
	cc->cpu_quota = cpus > 0 ? (uint64_t)(cpus * 100000) : 0;
}

int engine_net_config(const struct net_config *flags, bool publish_all, const struct image_config *ic,
		      struct net_config *out, struct error *e)
{
	struct net_config n;
	char mode[32];
	int ret = netcfg_copy(&n, flags);

	if (ret)
		return err_set(e, ret, "out of memory");
	netcfg_mode_string(&n, mode, sizeof(mode));
	if (n.nports && n.mode != NET_MODE_SLIRP)
		ret = err_set(e, -EINVAL, "-p: ports are published only with slirp networking, not with "
			      "--network %s%s", mode, n.mode == NET_MODE_TAP ? " (the guest is on the tap's network)" : "");
	else if (publish_all && n.mode != NET_MODE_SLIRP)
		ret = err_set(e, -EINVAL, "-P: ports are published only with slirp networking, not with --network %s",
			      mode);
	else if (n.links && !n.network)
		ret = err_set(e, -EINVAL, "--link: only between containers on a network of 'vmm network create' "
			      "(on the default network each container is alone behind its own NAT)");
	else if (n.aliases && !n.network)
		ret = err_set(e, -EINVAL, "--network-alias: only for a container on a network of 'vmm network create'");
	else if (n.network && n.gateway)
		ret = err_set(e, -EINVAL, "--gateway: the network %s has its own gateway", n.network);
	else if (n.network && n.egress_allow)
		ret = err_set(e, -EINVAL, "--egress-allow: only with the default slirp network, not on network %s",
			      n.network);
	else if ((n.ip || n.gateway) && n.mode != NET_MODE_TAP && !n.network)
		ret = err_set(e, -EINVAL, "--ip/--gateway: only with --network tap:NAME (%s)",
			      n.mode == NET_MODE_SLIRP ? "slirp gives the guest 10.0.2.15/24, gateway 10.0.2.2" :
			      "--network none has no interface");
	else if (n.gateway && !n.ip)
		ret = err_set(e, -EINVAL, "--gateway needs --ip");
	else if (n.mac[0] && n.mode == NET_MODE_NONE)
		ret = err_set(e, -EINVAL, "--mac-address: --network none has no interface");
	else if (n.egress_allow && n.mode != NET_MODE_SLIRP)
		ret = err_set(e, -EINVAL, "--egress-allow: only with slirp networking, not with --network %s%s", mode,
			      n.mode == NET_MODE_TAP ? " (a tap's traffic is the host firewall's to filter)" :
			      " (it has no way out at all)");
	for (size_t i = 0; !ret && publish_all && ic && i < ic->n_ports; i++) {
		const struct image_port *p = &ic->ports[i];
		bool udp = !strcmp(p->proto, "udp");
		struct port_binding *nb;

		if (strcmp(p->proto, "tcp") && !udp) {
			pr_warn("-P: exposed port %u/%s not published (only tcp and udp)", p->port, p->proto);
			continue;
		}
		if (published(&n, p->port, udp))
			continue;
		if (n.nports >= NETCFG_MAX_PORTS) {
			ret = err_set(e, -E2BIG, "-P: more than 256 published ports");
			break;
		}
		nb = realloc(n.ports, (n.nports + 1) * sizeof(*nb));
		if (!nb) {
			ret = err_set(e, -ENOMEM, "out of memory");
			break;
		}
		n.ports = nb;
		memset(&nb[n.nports], 0, sizeof(*nb));
		nb[n.nports].container_port = p->port;
		nb[n.nports].udp = udp;
		n.nports++;
	}
	if (!ret && !n.mac[0] && n.mode != NET_MODE_NONE)
		netcfg_random_mac(n.mac);
	if (ret) {
		netcfg_free(&n);
		return ret;
	}
	*out = n;
	return 0;
}

static int build_config(const struct create_config *c, const struct image *img,
			struct container_config *cc, struct error *e)
{
	const struct image_config *ic = &img->config;
	int ret;

	memset(cc, 0, sizeof(*cc));
	if (c->name && !container_name_valid(c->name))
		return err_set(e, -EINVAL, "name %s: invalid (use [a-zA-Z0-9][a-zA-Z0-9_.-]+)", c->name);
	if (c->memory && c->memory < CREATE_MEMORY_MIN)
		return err_set(e, -EINVAL, "memory limit of %llu bytes: the least is 6 MiB",
			       (unsigned long long)c->memory);
	if (c->cpus < 0 || c->cpus > VM_MAX_CPUS)
		return err_set(e, -EINVAL, "%g CPUs: give 0.01 to %d", c->cpus, VM_MAX_CPUS);
	if (c->auto_remove && c->restart.mode != RESTART_NO)
		return err_set(e, -EINVAL, "conflicting options: cannot specify both --restart and --rm");
	ret = container_new_id(cc->id);
	if (ret)
		return err_sys(e, ret, "container ID");
	if (c->name) {
		cc->name = strdup(c->name);
	} else {
		char buf[64];

		container_new_name(buf, sizeof(buf));
		cc->name = strdup(buf);
	}
	cc->image = strdup(img->config_digest);
	cc->image_name = strdup(c->image);
	cc->created = time(NULL);
	if (!cc->name || !cc->image || !cc->image_name || resolve_argv(c, ic, &cc->argv))
		return err_set(e, -ENOMEM, "out of memory");
	if (!cc->argv || !cc->argv[0])
		return err_set(e, -EINVAL, "%s: no command specified (the image has no Entrypoint or Cmd: "
			       "give one after the image name)", c->image);
	ret = build_env(c, ic, &cc->env, e);
	if (ret)
		return ret;
	cc->workdir = strdup(c->workdir ? c->workdir : ic->working_dir && *ic->working_dir ? ic->working_dir : "/");
	cc->user = c->user ? strdup(c->user) : ic->user && *ic->user ? strdup(ic->user) : NULL;
	cc->hostname = strndup(c->hostname ? c->hostname : cc->id, c->hostname ? 64 : 12);
	if (c->labels && c->labels[0]) {
		/* through JSON: checked, and a key given twice keeps its last value */
		json_object *l = labels_to_json((const char *const *)c->labels, e);

		if (!l)
			return e->code;
		ret = labels_from_json(l, "--label", &cc->labels, e);
		json_object_put(l);
		if (ret)
			return ret;
	}
	cc->tty = c->tty;
	cc->interactive = c->interactive;
	cc->stdin_once = c->interactive && c->stdin_once;
	cc->read_only = c->read_only;
	cc->auto_remove = c->auto_remove;
	cc->restart = c->restart;
	cc->init = c->init;
	create_set_memory(cc, c->memory);
	create_set_cpus(cc, c->cpus);
	cc->pids_limit = c->pids_limit;
	cc->timeout_ns = c->timeout_ns;
	cc->storage_size = c->storage_size;
	cc->log = c->log;
	return engine_net_config(c->net, c->publish_all, ic, &cc->net, e);
}

int storage_opt_set(const char *key, const char *value, uint64_t *size, struct error *e)
{
	if (strcmp(key, "size"))
		return err_set(e, -EINVAL, "--storage-opt %s: unknown option; size=SIZE (e.g. size=10g) is the one there is",
			       key);
	if (parse_size(value, 1, size) || *size < STORAGE_SIZE_MIN || *size > STORAGE_SIZE_MAX)
		return err_set(e, -EINVAL, "--storage-opt size=%s: want a size from 16m to 16t (e.g. 10g)", value);
	return 0;
}

int engine_image_disk(const struct image *img, uint64_t size, char *path, size_t len, struct error *e)
{
	struct rootfs_layer *layers;
	struct rootfs_opts ro = { .size = size };
	int ret = image_disk_path(img, size, path, len);

	if (ret)
		return err_sys(e, ret, "%.19s: its root disk", img->config_digest);
	if (access(path, F_OK) == 0)
		return 0;
	ret = mkdir_parent(path, 0700);
	if (ret)
		return err_sys(e, ret, "%s", path);
	layers = calloc(img->n_layers ? img->n_layers : 1, sizeof(*layers));
	if (!layers)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < img->n_layers; i++) {
		ret = image_layer_verify(img, i, e);
		if (ret)
			goto out;
		layers[i].path = img->layers[i].path;
		layers[i].media_type = img->layers[i].media_type;
	}
	pr_info("building the root disk of %.19s", img->config_digest);
	ret = rootfs_build(layers, img->n_layers, path, &ro, NULL, e);
	if (ret == -ENOSPC && size)
		err_wrap(e, ret, "--storage-opt size=%" PRIu64 "m is too small for the image", size >> 20);
out:
	free(layers);
	return ret;
}

static int create_overlay(struct container *ct, const char *base, struct error *e)
{
	struct qcow2_create_opts q = { .backing_file = base, .backing_fmt = "raw" };
	struct stat st;
	char path[4096];
	int ret;

	if (stat(base, &st) < 0)
		return err_sys(e, -errno, "%s", base);
	q.size = st.st_size;
	ret = container_path(ct, "disk.qcow2", path, sizeof(path));
	if (!ret)
		ret = qcow2_create(path, &q, e);
	else
		err_sys(e, ret, "%s", path);
	return ret;
}

void create_config_options(struct create_config *c, const struct run_net_opts *net,
			   const struct run_mount_opts *mounts)
{
	c->net = &net->net;
	c->publish_all = net->publish_all;
	c->mounts = mounts->specs;
	c->nmounts = mounts->nspecs;
	c->volumes_from = mounts->volumes_from;
	c->virtiofsd = mounts->virtiofsd;
}

int engine_create(const struct paths *p, const struct create_config *c, struct container **out,
		  struct error *e)
{
	struct container_config cfg = { 0 };
	struct mounts_made made = { 0 };
	struct container *ct = NULL;
	struct store *store = NULL;
	struct image *img = NULL;
	char base[4096];
	int ret;

	ret = store_open(p->root, &store, e);
	if (!ret)
		ret = image_open(store, c->image, &img, e);
	if (!ret)
		ret = build_config(c, img, &cfg, e);
	/* Before anything exists: a taken name or port, or a missing tap, leaves nothing behind. */
	if (!ret)
		ret = container_name_free(p->root, cfg.name, e);
	if (!ret)
		ret = engine_mounts_plan(p, c->mounts, c->nmounts, c->volumes_from, c->virtiofsd, &img->config,
					 &cfg, e);
	if (!ret)
		ret = runner_net_check(p->root, &cfg.net, e);
	if (!ret && (ret = engine_image_disk(img, c->storage_size, base, sizeof(base), e)))
		err_wrap(e, ret, "%s: cannot build its root disk", c->image);
	image_close(img);
	if (store)
		store_close(store);	/* an open store would block blob deletion */
	if (!ret)
		ret = engine_mounts_make(p, &cfg, &made, e);
	/* the name can still be taken meanwhile: then undo what this call made, and only that */
	if (!ret && (ret = container_create(p->root, &cfg, &ct, e)))
		engine_mounts_undo(p, &made);
	if (!ret && (ret = create_overlay(ct, base, e))) {
		err_wrap(e, ret, "container %s: cannot create its disk", ct->cfg.name);
		container_remove(ct);
		engine_mounts_undo(p, &made);
		container_free(ct);
		ct = NULL;
	}
	engine_mounts_made_free(&made);
	container_config_free(&cfg);
	*out = ct;
	return ret;
}
