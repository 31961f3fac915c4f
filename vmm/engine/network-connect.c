#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/engine/container.h"
#include "vmm/engine/network-connect.h"
#include "vmm/engine/network.h"
#include "vmm/engine/paths.h"
#include "vmm/engine/runner.h"

/* The container, stopped, and the network, user-defined: what both verbs need. */
static int open_both(const struct paths *p, const char *network, const char *ref, const char *verb,
		     struct network *n, struct container **ct, struct error *e)
{
	int ret = network_get(p->root, network, n, e);

	if (ret)
		return ret;
	if (n->predefined) {
		network_free(n);
		return err_set(e, -EINVAL, "network %s is predefined: choose it with 'vmm run --network %s'",
			       network, network);
	}
	if ((ret = container_open(p->root, ref, ct, e))) {
		network_free(n);
		return ret;
	}
	if (container_is_running(*ct)) {
		container_free(*ct);
		network_free(n);
		return err_set(e, -EBUSY, "container %s is running: a running micro-VM keeps its network; "
			       "stop it, %s it, and start it again", ref, verb);
	}
	return 0;
}

/* Is the container's network (a name or ID as given at create) n? */
static bool on(const struct paths *p, const struct container *ct, const struct network *n)
{
	struct network cur;
	bool same;

	if (!ct->cfg.net.network || network_get(p->root, ct->cfg.net.network, &cur, NULL))
		return false;
	same = !strcmp(cur.id, n->id);
	network_free(&cur);
	return same;
}

int engine_network_connect(const struct paths *p, const char *network, const char *ref,
			   const struct network_connect_opts *o, struct error *e)
{
	struct net_config nc;
	struct container *ct;
	struct network n;
	char cidr[32];
	int ret = open_both(p, network, ref, "connect", &n, &ct, e);

	if (ret)
		return ret;
	if (on(p, ct, &n))
		ret = err_set(e, -EEXIST, "container %s is already connected to network %s", ref, n.name);
	else if (ct->cfg.net.network)
		ret = err_set(e, -EBUSY, "container %s is on network %s: a micro-VM has one interface, so "
			      "disconnect it from there first", ref, ct->cfg.net.network);
	else if (ct->cfg.net.egress_allow)	/* they would be dropped without a word */
		ret = err_set(e, -EINVAL, "container %s has --egress-allow rules, which only the default network "
			      "enforces: it cannot join network %s", ref, n.name);
	else if (ct->cfg.net.mode == NET_MODE_TAP)
		ret = err_set(e, -EINVAL, "container %s uses the tap device %s: it cannot join a network", ref,
			      ct->cfg.net.tap);
	else if (o->ip && netcfg_parse_cidr(o->ip, cidr, sizeof(cidr)))
		ret = err_set(e, -EINVAL, "--ip %s: not an IPv4 address", o->ip);
	for (size_t i = 0; !ret && o->aliases && o->aliases[i]; i++)
		if (!netcfg_domain_valid(o->aliases[i]))
			ret = err_set(e, -EINVAL, "--alias %s: not a host name", o->aliases[i]);
	if (!ret && (ret = netcfg_copy(&nc, &ct->cfg.net)))
		err_set(e, ret, "out of memory");
	if (!ret) {
		nc.mode = NET_MODE_SLIRP;
		free(nc.ip);
		nc.ip = o->ip ? strdup(cidr) : NULL;
		strv_free(nc.aliases);
		nc.aliases = o->aliases ? strv_dup(o->aliases) : NULL;
		nc.network = strdup(n.name);
		if (!nc.network || (o->ip && !nc.ip) || (o->aliases && !nc.aliases))
			ret = err_set(e, -ENOMEM, "out of memory");
		else
			ret = runner_net_check(p->root, &nc, e);	/* --ip in its subnet, no -p on an internal one */
		if (!ret) {
			netcfg_free(&ct->cfg.net);
			ct->cfg.net = nc;
			if ((ret = container_save_config(ct)))
				err_sys(e, ret, "container %s: cannot write its configuration", ref);
		} else {
			netcfg_free(&nc);
		}
	}
	container_free(ct);
	network_free(&n);
	return ret;
}

int engine_network_disconnect(const struct paths *p, const char *network, const char *ref, struct error *e)
{
	struct container *ct;
	struct network n;
	int ret = open_both(p, network, ref, "disconnect", &n, &ct, e);

	if (ret)
		return ret;
	if (!on(p, ct, &n)) {
		ret = err_set(e, -EINVAL, "container %s is not connected to network %s", ref, n.name);
	} else {
		struct net_config *c = &ct->cfg.net;

		free(c->network);
		free(c->ip);
		strv_free(c->aliases);
		strv_free(c->links);
		c->network = c->ip = NULL;
		c->aliases = c->links = NULL;
		c->mode = NET_MODE_NONE;
		if ((ret = container_save_config(ct)))
			err_sys(e, ret, "container %s: cannot write its configuration", ref);
	}
	container_free(ct);
	network_free(&n);
	return ret;
}
