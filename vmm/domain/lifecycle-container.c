/*
 * A domain that is a container (lifecycle.h): found by its ID, then by its
 * name; made again from the metadata when it is gone, through the same
 * engine_create as `vmm run`, with the flags the metadata stands for.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "images/oci/image.h"
#include "images/oci/store.h"
#include "vmm/base/util.h"
#include "vmm/domain/lifecycle-internal.h"
#include "vmm/engine/client.h"
#include "vmm/engine/container.h"
#include "vmm/engine/create.h"
#include "vmm/engine/lifecycle.h"
#include "vmm/engine/run-mounts.h"
#include "vmm/engine/run-net.h"

int dc_find(const struct paths *p, const struct domain_container *m, struct container **ct)
{
	struct error ignored = { 0 };

	if (!container_open(p->root, m->id, ct, &ignored))
		return 0;
	err_clear(&ignored);
	if (!container_open(p->root, m->name, ct, &ignored))
		return 0;
	err_clear(&ignored);
	return -ENOENT;
}

void dc_state(const struct paths *p, const struct domain_container *m, struct domain_state *st)
{
	struct container *ct;
	struct container_state cs;

	st->container = true;
	if (dc_find(p, m, &ct))
		return;
	snprintf(st->container_name, sizeof(st->container_name), "%s", ct->cfg.name);
	container_effective_state(ct, &cs);
	st->running = cs.status == CONTAINER_RUNNING;
	st->pid = st->running ? cs.pid : 0;
	container_free(ct);
}

/* The flags the domain and its metadata stand for, decoded as the CLI decodes them. */
static int flags(const struct domain_def *d, const struct domain_container *m, struct run_net_opts *net,
		 struct run_mount_opts *mnt, struct error *e)
{
	char arg[300];
	int ret = 0;

	if (!d->nnics) {
		ret = run_net_option(net, RUN_NET_OPT_NETWORK, "none", e);
	} else if (d->nics[0].type == DOMAIN_NET_ETHERNET) {
		snprintf(arg, sizeof(arg), "tap:%s", d->nics[0].tap);
		ret = run_net_option(net, RUN_NET_OPT_NETWORK, arg, e);
	}
	if (!ret && d->nnics && d->nics[0].has_mac) {
		const uint8_t *a = d->nics[0].mac;

		snprintf(arg, sizeof(arg), "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5]);
		ret = run_net_option(net, RUN_NET_OPT_MAC, arg, e);
	}
	for (char **v = m->ports; !ret && v && *v; v++)
		ret = run_net_option(net, RUN_NET_OPT_PUBLISH, *v, e);
	for (char **v = m->volumes; !ret && v && *v; v++)
		ret = run_mount_option(mnt, RUN_MOUNT_OPT_VOLUME, *v, e);
	for (char **v = m->tmpfs; !ret && v && *v; v++)
		ret = run_mount_option(mnt, RUN_MOUNT_OPT_TMPFS, *v, e);
	return ret;
}

/* The image's name when it still stands for the same image, else its ID. */
static const char *image_ref(const struct paths *p, const struct domain_container *m)
{
	struct error ignored = { 0 };
	struct store *s = NULL;
	struct image *img = NULL;
	bool same = false;

	if (m->image && !store_open(p->root, &s, &ignored) && !image_open(s, m->image, &img, &ignored))
		same = !strcmp(img->config_digest, m->image_id);
	image_close(img);
	store_close(s);
	return same ? m->image : m->image_id;
}

/* The container again, from the metadata: the same image, the command line as it was. */
static int create(const struct paths *p, const struct domain_def *d, const struct domain_container *m,
		  struct container **ct, struct error *e)
{
	struct run_net_opts net = { 0 };
	struct run_mount_opts mnt = { 0 };
	struct create_config c = {
		.image = image_ref(p, m), .cmd = m->argv, .entrypoint = "", .name = m->name,
		.workdir = m->workdir, .user = m->user, .hostname = m->hostname, .env = m->env,
		.read_only = d->ndisks && d->disks[0].read_only,
		/* The VM's RAM is the limit plus the overhead; ceil(--cpus) vCPUs. */
		.memory = d->memory > VM_MEMORY_DEFAULT ? d->memory - VM_MEMORY_OVERHEAD : 0,
		.cpus = d->vcpus > 1 ? d->vcpus : 0,
	};
	int ret = flags(d, m, &net, &mnt, e);

	if (!ret) {
		create_config_options(&c, &net, &mnt);
		ret = engine_create(p, &c, ct, e);
	}
	run_net_opts_free(&net);
	run_mount_opts_free(&mnt);
	return ret ? err_wrap(e, ret, "domain %s: container %s from its metadata", d->name, m->name) : 0;
}

int dc_start(const struct paths *p, const struct domain_def *d, const struct domain_container *m,
	     bool foreground, int *status, struct error *e)
{
	struct start_opts o = { .attach = foreground };
	struct container *ct;
	int ret;

	if (dc_find(p, m, &ct)) {
		if ((ret = create(p, d, m, &ct, e)))
			return ret;
		o.fresh = true;
	} else if (container_is_running(ct)) {
		container_free(ct);
		return err_set(e, -EBUSY, "domain %s is already running", d->name);
	}
	ret = engine_start(p, ct, &o, status, e);
	container_free(ct);
	return ret ? err_wrap(e, ret, "domain %s", d->name) : 0;
}

int dc_stop(const struct paths *p, const struct domain_def *d, const struct domain_container *m,
	    uint64_t timeout, struct error *e)
{
	struct domain_state st = { 0 };
	int ret;

	dc_state(p, m, &st);
	if (!st.running)
		return err_set(e, -ESRCH, "domain %s is not running", d->name);
	ret = engine_stop(p, st.container_name, timeout, e);
	return ret ? err_wrap(e, ret, "domain %s", d->name) : 0;
}
