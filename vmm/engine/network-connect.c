/*
 * vmm network connect / disconnect (docs/network.md): a container's user
 * networks, for its next start and, while it runs, at once (runner-lan.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/engine/client.h"
#include "vmm/engine/container.h"
#include "vmm/engine/network-connect.h"
#include "vmm/engine/network.h"
#include "vmm/engine/paths.h"
#include "vmm/engine/runner.h"

/* The container and the network, user-defined: what both verbs need. */
static int open_both(const struct paths *p, const char *network, const char *ref, struct network *n,
		     struct container **ct, struct error *e)
{
	int ret = network_get(p->root, network, n, e);

	if (ret)
		return ret;
	if (n->predefined) {
		network_free(n);
		return err_set(e, -EINVAL, "network %s is predefined: choose it with 'vmm run --network %s'",
			       network, network);
	}
	if ((ret = container_open(p->root, ref, ct, e)))
		network_free(n);
	return ret;
}

/* Is the network named s (a name or ID as configured) n? */
static bool same(const struct paths *p, const char *s, const struct network *n)
{
	struct network cur;
	bool is;

	if (!s || network_get(p->root, s, &cur, NULL))
		return false;
	is = !strcmp(cur.id, n->id);
	network_free(&cur);
	return is;
}

/* Where n is among the container's networks: 0 the first, 1... net.more's, -1 none. */
static int place(const struct paths *p, const struct container *ct, const struct network *n)
{
	char name[65];

	if (same(p, ct->cfg.net.network, n))
		return 0;
	for (size_t i = 0; ct->cfg.net.more && ct->cfg.net.more[i]; i++) {
		netcfg_more_split(ct->cfg.net.more[i], name);
		if (same(p, name, n))
			return (int)i + 1;
	}
	return -1;
}

/* The running container's vmm process joins or leaves the network now. */
static int live(const struct paths *p, const char *ref, bool join, const struct network *n,
		const struct network_connect_opts *o, struct error *e)
{
	json_object *req = json_object_new_object(), *rep = NULL;
	struct container *ct;
	int fd, ret = engine_connect(p, ref, &ct, &fd, e);

	if (ret) {
		json_object_put(req);
		return ret;
	}
	container_free(ct);
	json_object_object_add(req, "op", json_object_new_string(join ? "net_connect" : "net_disconnect"));
	json_object_object_add(req, "network", json_object_new_string(n->name));
	if (o && o->ip)
		json_object_object_add(req, "ip", json_object_new_string(o->ip));
	if (o && o->aliases)
		json_object_object_add(req, "aliases", strv_to_json(o->aliases));
	ret = engine_call(fd, req, NULL, 0, &rep, e);
	json_object_put(rep);
	close(fd);
	return ret;
}

/* The first user network of a container on the default one (or none): as run --network would make it. */
static int first_network(const struct paths *p, struct container *ct, const struct network *n, const char *ip,
			 char *const *aliases, const char *ref, struct error *e)
{
	struct net_config nc;
	int ret;

	if (ct->cfg.net.egress_allow)	/* they would be dropped without a word */
		return err_set(e, -EINVAL, "container %s has --egress-allow rules, which only the default network "
			       "enforces: it cannot join network %s", ref, n->name);
	if (ct->cfg.net.mode == NET_MODE_TAP)
		return err_set(e, -EINVAL, "container %s uses the tap device %s: it cannot join a network", ref,
			       ct->cfg.net.tap);
	if (netcfg_copy(&nc, &ct->cfg.net))
		return err_set(e, -ENOMEM, "out of memory");
	nc.mode = NET_MODE_SLIRP;
	free(nc.ip);
	nc.ip = ip ? strdup(ip) : NULL;
	strv_free(nc.aliases);
	nc.aliases = aliases ? strv_dup(aliases) : NULL;
	nc.network = strdup(n->name);
	if (!nc.network || (ip && !nc.ip) || (aliases && !nc.aliases))
		ret = err_set(e, -ENOMEM, "out of memory");
	else
		ret = runner_net_check(p->root, &nc, e);	/* --ip in its subnet, no -p on an internal one */
	if (ret) {
		netcfg_free(&nc);
		return ret;
	}
	netcfg_free(&ct->cfg.net);
	ct->cfg.net = nc;
	return 0;
}

/* One more network for a container on a user network already: "NAME" or "NAME=IP" in net.more. */
static int more_network(struct container *ct, const struct network *n, const char *ip, char *const *aliases,
			struct error *e)
{
	char entry[96];

	if (strv_len(ct->cfg.net.more) + 1 >= NETCFG_MAX_NETWORKS)
		return err_set(e, -ENOSPC, "container %s is on %d networks, the most it can be on", ct->cfg.name,
			       NETCFG_MAX_NETWORKS);
	snprintf(entry, sizeof(entry), "%s%s%.*s", n->name, ip ? "=" : "", ip ? (int)strcspn(ip, "/") : 0,
		 ip ? ip : "");
	if (strv_push(&ct->cfg.net.more, entry))
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; aliases && aliases[i]; i++)
		if (strv_add_once(&ct->cfg.net.aliases, aliases[i]))
			return err_set(e, -ENOMEM, "out of memory");
	return 0;
}

int engine_network_connect(const struct paths *p, const char *network, const char *ref,
			   const struct network_connect_opts *o, struct error *e)
{
	struct container *ct;
	struct network n;
	char cidr[32];
	bool running;
	int ret = open_both(p, network, ref, &n, &ct, e);

	if (ret)
		return ret;
	running = container_is_running(ct);
	for (size_t i = 0; !ret && o->aliases && o->aliases[i]; i++)
		if (!netcfg_domain_valid(o->aliases[i]))
			ret = err_set(e, -EINVAL, "--alias %s: not a host name", o->aliases[i]);
	if (ret)
		;
	else if (place(p, ct, &n) >= 0)
		ret = err_set(e, -EEXIST, "container %s is already connected to network %s", ref, n.name);
	else if (o->ip && netcfg_parse_cidr(o->ip, cidr, sizeof(cidr)))
		ret = err_set(e, -EINVAL, "--ip %s: not an IPv4 address", o->ip);
	else if (running && !ct->cfg.net.network)
		ret = err_set(e, -EBUSY, "container %s is running on %s, whose interface cannot join a network while "
			      "it runs: stop it, connect it, and start it again", ref, netcfg_network_name(&ct->cfg.net));
	else if (!ct->cfg.net.network)
		ret = first_network(p, ct, &n, o->ip ? cidr : NULL, o->aliases, ref, e);
	else if (!(ret = runner_net_check_one(p->root, n.name, o->ip, e)))
		ret = more_network(ct, &n, o->ip, o->aliases, e);
	if (!ret && running)
		ret = live(p, ref, true, &n, o, e);
	if (!ret && (ret = container_save_config(ct)))
		err_sys(e, ret, "container %s: cannot write its configuration", ref);
	container_free(ct);
	network_free(&n);
	return ret;
}

/* Off its first network: the next one takes its place, else it has no network (docker's). */
static void drop_first(struct net_config *c)
{
	char name[65];
	const char *ip;

	free(c->network);
	free(c->ip);
	c->network = c->ip = NULL;
	strv_free(c->links);
	c->links = NULL;
	if (!c->more || !c->more[0]) {
		strv_free(c->aliases);
		c->aliases = NULL;
		c->mode = NET_MODE_NONE;
		return;
	}
	ip = netcfg_more_split(c->more[0], name);
	c->network = strdup(name);
	c->ip = ip ? strdup(ip) : NULL;
	free(strv_remove(c->more, 0));
}

int engine_network_disconnect(const struct paths *p, const char *network, const char *ref, struct error *e)
{
	struct container *ct;
	struct network n;
	int at, ret = open_both(p, network, ref, &n, &ct, e);

	if (ret)
		return ret;
	at = place(p, ct, &n);
	if (at < 0)
		ret = err_set(e, -EINVAL, "container %s is not connected to network %s", ref, n.name);
	else if (container_is_running(ct))
		ret = live(p, ref, false, &n, NULL, e);	/* the first is refused there, saying what to do */
	if (!ret && at == 0)
		drop_first(&ct->cfg.net);
	else if (!ret)
		free(strv_remove(ct->cfg.net.more, (size_t)at - 1));
	if (!ret && (ret = container_save_config(ct)))
		err_sys(e, ret, "container %s: cannot write its configuration", ref);
	container_free(ct);
	network_free(&n);
	return ret;
}
