/*
 * A running container joins or leaves a user network (vmm network connect and
 * disconnect, docs/network.md): a record and an address on the network
 * (lan.c), a port of the VM's interface there (devices/net-lan.c), and the
 * address on eth0:N in the guest (the agent). The interface stays: a guest
 * on several networks has one address on each.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/engine/container.h"
#include "vmm/engine/runner-internal.h"
#include "vmm/machine/machine.h"

static int save_state(struct runner *r, struct error *e)
{
	int ret;

	runner_net_state(r);
	ret = container_save_state(r->ct);
	return ret ? err_sys(e, ret, "container %s: cannot save its state", r->ct->cfg.name) : 0;
}

/* The slot of network n, or -1. */
static int slot_of(const struct runner *r, const struct network *n)
{
	for (int i = 0; i < NETCFG_MAX_NETWORKS; i++)
		if (r->lan[i].fd >= 0 && !strcmp(r->lan[i].net.id, n->id))
			return i;
	return -1;
}

int runner_lan_connect(struct runner *r, const char *network, const char *ip, char *const *aliases, int *slot,
		       struct error *e)
{
	struct container_config *c = &r->ct->cfg;
	struct machine_lan_config mc;
	struct network n;
	int i, ret;

	if (r->lan[0].fd < 0)
		return err_set(e, -EINVAL, "container %s is running on %s, whose interface cannot join a network "
			       "while it runs: stop it, connect it, and start it again", c->name,
			       netcfg_network_name(&c->net));
	if ((ret = network_get(r->paths->root, network, &n, e)))
		return ret;
	i = slot_of(r, &n);
	if (i >= 0)
		err_set(e, -EEXIST, "container %s is already connected to network %s", c->name, n.name);
	network_free(&n);
	if (i >= 0)
		return -EEXIST;
	for (i = 1; i < NETCFG_MAX_NETWORKS && r->lan[i].fd >= 0; i++)
		;
	if (i == NETCFG_MAX_NETWORKS)
		return err_set(e, -ENOSPC, "container %s is on %d networks, the most it can be on", c->name,
			       NETCFG_MAX_NETWORKS);
	for (size_t k = 0; aliases && aliases[k]; k++)	/* its record on the network names them */
		if (!netcfg_domain_valid(aliases[k]))
			return err_set(e, -EINVAL, "--alias %s: not a host name", aliases[k]);
		else if (strv_add_once(&c->net.aliases, aliases[k]))
			return err_set(e, -ENOMEM, "out of memory");
	if ((ret = lan_join_to(r->paths, c, network, ip, NULL, &r->lan[i], e)))	/* it checks ip too */
		return ret;
	runner_lan_config(&r->lan[i], &mc);
	if ((ret = machine_net_attach(r->m, &mc, e))) {
		lan_leave(r->paths, &r->lan[i]);
		return ret;
	}
	*slot = i;
	return save_state(r, e);
}

int runner_lan_disconnect(struct runner *r, const char *network, struct error *e)
{
	struct network n;
	int i, ret;

	if ((ret = network_get(r->paths->root, network, &n, e)))
		return ret;
	i = slot_of(r, &n);
	if (i < 0)
		ret = err_set(e, -EINVAL, "container %s is not connected to network %s", r->ct->cfg.name, n.name);
	else if (i == 0)
		ret = err_set(e, -EBUSY, "network %s is container %s's first network, which holds its default "
			      "route and published ports: stop it, disconnect it, and start it again", n.name,
			      r->ct->cfg.name);
	network_free(&n);
	if (ret)
		return ret;
	return runner_lan_leave_slot(r, i, e);
}

int runner_lan_leave_slot(struct runner *r, int slot, struct error *e)
{
	machine_net_detach(r->m, r->lan[slot].dir);
	lan_leave(r->paths, &r->lan[slot]);
	return save_state(r, e);
}
