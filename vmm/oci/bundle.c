/*
 * A bundle's config.json as an engine container (oci.h): what a micro-VM
 * honours, by the rules of docs/oci-runtime.md.
 *
 * Mounts: the guest makes its own /proc, /sys, /sys/fs/cgroup, /dev,
 * /dev/pts, /dev/shm and /dev/mqueue, so those entries are taken as made. A
 * bind of a folder is a shared folder. A bind of a single file cannot be
 * shared (virtio-fs shares folders): /etc/hosts, /etc/resolv.conf and
 * /etc/hostname, which engines write for the container, are read here and
 * given to the guest's own; podman's /run/.containerenv marker is left out;
 * any other file is refused with one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"
#include "vmm/engine/create.h"
#include "vmm/oci/oci.h"

#define FILE_BIND_MAX	(64 * 1024)	/* the /etc files read from a bind */

/* Made by the guest for every container: their entries are taken as made. */
static const char *const guest_made[] = {
	"/proc", "/sys", "/sys/fs/cgroup", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue",
};

static bool is_guest_made(const char *dest)
{
	for (size_t i = 0; i < ARRAY_SIZE(guest_made); i++)
		if (!strcmp(dest, guest_made[i]))
			return true;
	return false;
}

/* path, or bundle/path when relative, resolved: out (PATH_MAX). 0 or -errno with e. */
static int resolve(const char *bundle, const char *path, const char *what, char *out, struct error *e)
{
	char joined[PATH_MAX];

	if ((size_t)snprintf(joined, sizeof(joined), "%s%s%s", path[0] == '/' ? "" : bundle,
			     path[0] == '/' ? "" : "/", path) >= sizeof(joined))
		return err_set(e, -ENAMETOOLONG, "%s %s: too long", what, path);
	if (!realpath(joined, out))
		return err_sys(e, -errno, "%s %s", what, joined);
	return 0;
}

/*
 * /etc/hosts from the engine (text is ours to cut up): its lines as extra
 * hosts ("NAME:IP", checked as --add-host's are); loopback and IPv6 are the
 * guest's own to write.
 */
static int hosts_file(char *text, struct net_config *n)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ip, *name, *s2 = NULL;

		*strchrnul(line, '#') = '\0';
		ip = strtok_r(line, " \t", &s2);
		if (!ip || !netcfg_ipv4_valid(ip) || str_has_prefix(ip, "127."))
			continue;
		while ((name = strtok_r(NULL, " \t", &s2))) {
			char entry[320];

			snprintf(entry, sizeof(entry), "%.255s:%.45s", name, ip);
			if (netcfg_host_entry_valid(entry) && strv_push(&n->extra_hosts, entry))
				return -ENOMEM;
		}
	}
	return 0;
}

/* /etc/resolv.conf from the engine (text is ours to cut up): the nameservers a guest can use, the search domains. */
static int resolv_file(char *text, struct net_config *n)
{
	char *save = NULL;
	int ret = 0;

	for (char *line = strtok_r(text, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save)) {
		char *key, *val, *s2 = NULL;
		bool search;

		key = strtok_r(line, " \t", &s2);
		if (!key || (strcmp(key, "nameserver") && strcmp(key, "search")))
			continue;
		search = !strcmp(key, "search");
		while (!ret && (val = strtok_r(NULL, " \t", &s2)))
			if (search ? netcfg_domain_valid(val) : netcfg_resolver_usable(val))
				ret = strv_push(search ? &n->dns_search : &n->dns, val);
	}
	return ret;
}

/* A bind of one file: its content for the guest's own, left out, or refused. */
static int file_bind(const struct oci_mount *m, size_t i, const char *src, struct container_config *c,
		     struct error *e)
{
	char *text = NULL, *nl;
	size_t len;
	int ret;

	if (!strcmp(m->destination, "/run/.containerenv"))
		return 0;	/* podman's "in a container" marker: a VM is not one */
	if (strcmp(m->destination, "/etc/hosts") && strcmp(m->destination, "/etc/resolv.conf") &&
	    strcmp(m->destination, "/etc/hostname"))
		return err_set(e, -EINVAL, "mounts[%zu]: %s is a file: a micro-VM shares folders only; bind its "
			       "folder instead", i, m->source);
	if ((ret = read_file(AT_FDCWD, src, FILE_BIND_MAX, &text, &len)))
		return err_sys(e, ret, "mounts[%zu]: %s", i, src);
	if (strlen(text) != len)
		ret = err_set(e, -EINVAL, "mounts[%zu]: %s: not a text file", i, src);
	else if (!strcmp(m->destination, "/etc/hosts"))
		ret = hosts_file(text, &c->net);
	else if (!strcmp(m->destination, "/etc/resolv.conf"))
		ret = resolv_file(text, &c->net);
	else if (!c->hostname && text[0]) {
		if ((nl = strchr(text, '\n')))
			*nl = '\0';
		c->hostname = strdup(text);
		ret = c->hostname ? 0 : -ENOMEM;
	}
	if (ret == -ENOMEM)
		err_set(e, ret, "out of memory");
	free(text);
	return ret;
}

/* tmpfs options the guest takes: size= and mode=; the rest are the guest's defaults. */
static int tmpfs_options(const struct oci_mount *m, size_t i, struct container_mount *cm, struct error *e)
{
	for (char **o = m->options; o && *o; o++) {
		uint64_t v;

		if (!strncmp(*o, "size=", 5)) {
			if (parse_size(*o + 5, 1, &v) || v == 0)
				return err_set(e, -EINVAL, "mounts[%zu].options: %s: want a size", i, *o);
			cm->tmpfs_size = v;
		} else if (!strncmp(*o, "mode=", 5)) {
			char *end;

			errno = 0;
			v = strtoull(*o + 5, &end, 8);
			if (errno || *end || end == *o + 5 || v > 07777)
				return err_set(e, -EINVAL, "mounts[%zu].options: %s: want an octal mode", i, *o);
			cm->tmpfs_mode = (unsigned)v;
		}
	}
	return 0;
}

static int add_mount(const char *bundle, const struct oci_mount *m, size_t i, struct container_config *c,
		     struct error *e)
{
	struct container_mount cm = { .read_only = m->readonly };
	char src[PATH_MAX];
	struct stat st;
	int ret;

	if (!m->bind && is_guest_made(m->destination))
		return 0;
	if (m->bind && !strcmp(m->destination, "/dev/shm"))
		return 0;	/* the engine's shm folder: the guest has its own */
	if (!m->bind && strcmp(m->type, "tmpfs"))
		return err_set(e, -EINVAL, "mounts[%zu]: %s at %s: the guest makes its own %s only at its usual place",
			       i, m->type, m->destination, m->type);
	if (m->bind) {
		char what[48];

		snprintf(what, sizeof(what), "mounts[%zu]: source", i);
		if ((ret = resolve(bundle, m->source, what, src, e)))
			return ret;
		if (stat(src, &st) < 0)
			return err_sys(e, -errno, "mounts[%zu]: %s", i, src);
		if (S_ISREG(st.st_mode))
			return file_bind(m, i, src, c, e);
		if (!S_ISDIR(st.st_mode))
			return err_set(e, -EINVAL, "mounts[%zu]: %s: want a folder", i, src);
	} else if ((ret = tmpfs_options(m, i, &cm, e))) {
		return ret;
	}
	if (c->nmounts >= CONTAINER_MOUNTS_MAX)
		return err_set(e, -E2BIG, "mounts[%zu]: at most %d bind and tmpfs mounts in a micro-VM", i,
			       CONTAINER_MOUNTS_MAX);
	cm.type = m->bind ? MOUNT_BIND : MOUNT_TMPFS;
	cm.source = m->bind ? strdup(src) : NULL;
	cm.target = strdup(m->destination);
	if (!cm.target || (m->bind && !cm.source)) {
		free(cm.source);
		free(cm.target);
		return err_set(e, -ENOMEM, "out of memory");
	}
	c->mounts[c->nmounts++] = cm;
	return 0;
}

static int process_config(const struct oci_spec *s, struct container_config *c)
{
	char buf[64];

	c->argv = strv_dup(s->args);
	c->env = s->env ? strv_dup(s->env) : calloc(1, sizeof(char *));
	c->workdir = strdup(s->cwd);
	snprintf(buf, sizeof(buf), "%u:%u", s->uid, s->gid);
	c->user = strdup(buf);
	if (!c->argv || !c->env || !c->workdir || !c->user)
		return -ENOMEM;
	for (size_t i = 0; i < s->ngids; i++) {
		snprintf(buf, sizeof(buf), "%u", s->gids[i]);
		if (strv_push(&c->groups, buf))
			return -ENOMEM;
	}
	if (s->hostname && !(c->hostname = strdup(s->hostname)))
		return -ENOMEM;
	/* the spec's five sets, in the order the agent takes them */
	_Static_assert(OCI_CAP_SETS == PROTO_CAP_SETS, "capability sets");
	c->caps_set = s->has_caps;
	memcpy(c->caps, s->caps, sizeof(c->caps));
	for (size_t i = 0; i < s->nrlimits; i++) {
		snprintf(buf, sizeof(buf), "%d %llu %llu", s->rlimits[i].resource,
			 (unsigned long long)s->rlimits[i].soft, (unsigned long long)s->rlimits[i].hard);
		if (strv_push(&c->rlimits, buf))
			return -ENOMEM;
	}
	c->no_new_privs = s->no_new_privileges;
	return 0;
}

int oci_bundle_config(const char *bundle, const struct oci_spec *s, struct container_config *c,
		      struct error *e)
{
	char root[PATH_MAX];
	struct stat st;
	int ret;

	memset(c, 0, sizeof(*c));
	if ((ret = resolve(bundle, s->root, "root.path", root, e)))
		return ret;
	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(e, -ENOTDIR, "root.path %s: want the bundle's root folder", root);
	c->rootfs = strdup(root);
	c->image = strdup("");
	c->image_name = strdup(bundle);	/* the bundle, for state */
	c->mounts = calloc(CONTAINER_MOUNTS_MAX, sizeof(*c->mounts));
	if (!c->rootfs || !c->image || !c->image_name || !c->mounts || process_config(s, c)) {
		container_config_free(c);
		return err_set(e, -ENOMEM, "out of memory");
	}
	c->tty = s->terminal;
	c->interactive = true;		/* stdin is the engine's: a pipe, /dev/null or the pty */
	c->read_only = s->root_readonly;
	create_set_memory(c, s->memory);
	create_set_cpus(c, s->cpus);
	c->pids_limit = s->pids;
	c->log.max_size = 1 << 20;	/* the engine keeps the logs; ours is a bounded copy */
	c->log.max_file = 1;
	c->net.mode = NET_MODE_NONE;	/* a namespace of its own: loopback only, as runc makes it */
	if (s->netns)			/* the engine's: the guest takes its interface's place */
		ret = oci_netns_config(s->netns, c, e);
	for (size_t i = 0; i < s->nmounts && !ret; i++)
		ret = add_mount(bundle, &s->mounts[i], i, c, e);
	if (ret) {
		container_config_free(c);
		return err_wrap(e, ret, "config.json");
	}
	for (char **n = s->ignored; n && *n; n++)
		pr_debug("config.json: %s: ignored (docs/oci-runtime.md)", *n);
	if (s->nhooks[OCI_HOOK_CREATE_CONTAINER] || s->nhooks[OCI_HOOK_START_CONTAINER])
		pr_debug("config.json: hooks.createContainer, startContainer: ignored (they run in the guest's namespaces)");
	return 0;
}

int oci_bundle_spec(const char *bundle, struct oci_spec *s, struct error *e)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len;
	int ret;

	if ((size_t)snprintf(path, sizeof(path), "%s/config.json", bundle) >= sizeof(path))
		return err_set(e, -ENAMETOOLONG, "bundle %s: too long", bundle);
	if ((ret = read_file(AT_FDCWD, path, OCI_SPEC_MAX, &buf, &len)))
		return err_sys(e, ret, "%s", path);
	ret = oci_spec_parse(buf, len, s, e);
	free(buf);
	return ret;
}
