#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/hex.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"
#include "vmm/engine/lan.h"
#include "vmm/engine/paths.h"

#define RECORD_MAX	4096
#define HOSTS_MAX	65536	/* addresses looked at in one network */

static bool is_record_name(const char *s)
{
	return strlen(s) == CONTAINER_ID_LEN && hex_valid(s, CONTAINER_ID_LEN);
}

/* $VMM_RUNTIME/networks/<short network ID>: the ports and records of n's running containers. */
static void net_dir(const char *runtime, const struct network *n, char *buf, size_t len)
{
	snprintf(buf, len, "%s/networks/%.12s", runtime, n->id);
}

/* A record, "IP MAC ID NAME [ALIAS...]": its fields, the aliases left as one string. */
struct record {
	char text[RECORD_MAX];	/* the line as read */
	char ip[16], mac[13], id[CONTAINER_ID_LEN + 1], name[256];
	const char *aliases;	/* in text: space-separated, maybe "" */
};

typedef bool (*record_fn)(void *arg, const struct record *r);

static bool parse_record(struct record *r)
{
	int end = 0;

	if (sscanf(r->text, "%15s %12s %64s %255s%n", r->ip, r->mac, r->id, r->name, &end) != 4 ||
	    strlen(r->mac) != 12)
		return false;
	r->aliases = r->text + end;
	return true;
}

/*
 * A live record (its vmm holds its lock) parsed into r; false for a stale
 * one, which is removed with its port when remove is set.
 */
static bool read_record(int dirfd, const char *name, bool remove, struct record *r)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	bool stale, parsed;
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, r->text, sizeof(r->text) - 1);
	r->text[n > 0 ? n : 0] = '\0';
	stale = flock(fd, LOCK_SH | LOCK_NB) == 0;	/* nobody holds it: its vmm is gone */
	close(fd);
	parsed = parse_record(r);
	if (stale && remove) {
		if (parsed)
			unlinkat(dirfd, r->mac, 0);
		unlinkat(dirfd, name, 0);
	}
	return !stale && parsed;
}

/* Every live record, one callback each; stop when it returns true. */
static bool each_record(int dirfd, bool remove_stale, record_fn fn, void *arg)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	struct record r;
	bool found = false;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	rewinddir(d);
	while (!found && (de = readdir(d)))
		if (is_record_name(de->d_name) && read_record(dirfd, de->d_name, remove_stale, &r))
			found = fn(arg, &r);
	closedir(d);
	return found;
}

/* Every live record of network n's folder, one callback each, until one returns true. */
static bool each_of(const char *runtime, const struct network *n, record_fn fn, void *arg)
{
	char dir[4096];
	int dirfd;
	bool found;

	net_dir(runtime, n, dir, sizeof(dir));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd < 0)
		return false;
	found = each_record(dirfd, false, fn, arg);
	close(dirfd);
	return found;
}

struct used {
	const struct lan_endpoint *ep;
	char mac[13];		/* ours, as ports and records name it: hex without colons */
	char subnet[24];	/* the network's CIDR, for the errors */
	uint8_t *bits;		/* host numbers in use */
	uint32_t hosts;		/* the subnet's addresses (the first HOSTS_MAX of a larger one) */
	bool mac_taken;
};

static bool mark_used(void *arg, const struct record *r)
{
	struct used *u = arg;
	struct in_addr a;
	uint32_t h;

	if (inet_pton(AF_INET, r->ip, &a) != 1)
		return false;
	if (!strcmp(r->mac, u->mac))
		u->mac_taken = true;
	h = ntohl(a.s_addr) - u->ep->net.subnet;
	if (h < u->hosts)
		u->bits[h / 8] |= (uint8_t)(1u << (h % 8));
	return false;
}

static bool host_free(const struct used *u, uint32_t h, uint32_t gw)
{
	return h > 0 && h < u->hosts - 1 && h != gw && !(u->bits[h / 8] & (1u << (h % 8)));
}

/* The address: asked for, else the last one when free, else the lowest free. */
static int pick(struct lan_endpoint *ep, const char *want, const char *last_ip, struct used *u, uint32_t *out,
		struct error *e)
{
	uint32_t size = u->hosts, gw = ep->net.gateway - ep->net.subnet, h;
	struct in_addr a;
	char ip[20];

	if (want) {
		snprintf(ip, sizeof(ip), "%s", want);
		ip[strcspn(ip, "/")] = '\0';
		if (inet_pton(AF_INET, ip, &a) != 1)
			return err_set(e, -EINVAL, "--ip %s: not an IPv4 address", want);
		h = ntohl(a.s_addr) - ep->net.subnet;
		if (!network_is_host(&ep->net, ntohl(a.s_addr)) || h >= size)	/* beyond the first HOSTS_MAX: not given */
			return err_set(e, -EINVAL, "--ip %s: not a host address of network %s (%s)", ip,
				       ep->net.name, u->subnet);
		if (!host_free(u, h, gw))
			return err_set(e, -EADDRINUSE, "--ip %s: the address is already in use on network %s",
				       ip, ep->net.name);
		*out = ep->net.subnet + h;
		return 0;
	}
	if (last_ip && inet_pton(AF_INET, last_ip, &a) == 1) {
		h = ntohl(a.s_addr) - ep->net.subnet;
		if (h < size && host_free(u, h, gw)) {
			*out = ep->net.subnet + h;
			return 0;
		}
	}
	for (h = 1; h + 1 < size; h++)
		if (host_free(u, h, gw)) {
			*out = ep->net.subnet + h;
			return 0;
		}
	return err_set(e, -ENOSPC, "network %s (%s) has no free address: remove a container from it, or "
		       "use a larger --subnet", ep->net.name, u->subnet);
}

static int write_record(struct lan_endpoint *ep, int dirfd, const struct container_config *c, const char *mac,
			struct error *e)
{
	char text[RECORD_MAX], tmp[80];
	size_t n = (size_t)snprintf(text, sizeof(text), "%s %s %s %s", ep->ip_str, mac, c->id, c->name);

	for (char **a = c->net.aliases; a && *a && n < sizeof(text); a++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " %s", *a);
	if (n >= sizeof(text) - 1)
		return err_set(e, -E2BIG, "network %s: too many aliases", ep->net.name);
	text[n++] = '\n';
	snprintf(tmp, sizeof(tmp), ".%s.tmp", c->id);
	ep->fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (ep->fd < 0)
		return err_sys(e, -errno, "network %s: %s/%s", ep->net.name, ep->dir, tmp);
	if (flock(ep->fd, LOCK_EX) < 0 || write(ep->fd, text, n) != (ssize_t)n ||
	    renameat(dirfd, tmp, dirfd, c->id) < 0) {
		int ret = -errno;

		unlinkat(dirfd, tmp, 0);
		close(ep->fd);
		ep->fd = -1;
		return err_sys(e, ret ? ret : -EIO, "network %s: cannot write %s", ep->net.name, ep->record);
	}
	return 0;
}

int lan_join(const struct paths *p, const struct container_config *c, const char *last_ip,
	     struct lan_endpoint *ep, struct error *e)
{
	return lan_join_to(p, c, c->net.network, c->net.ip, last_ip, ep, e);
}

int lan_join_to(const struct paths *p, const struct container_config *c, const char *network, const char *ip,
		const char *last_ip, struct lan_endpoint *ep, struct error *e)
{
	struct used u = { .ep = ep };
	char subnet[16];
	uint32_t addr = 0;
	int lock = -1, dirfd = -1, ret;

	memset(ep, 0, sizeof(*ep));
	ep->fd = -1;
	ep->runtime = p->runtime;
	if ((ret = network_get(p->root, network, &ep->net, e)))
		return ret;
	network_format_ip(ep->net.subnet, subnet);
	snprintf(u.subnet, sizeof(u.subnet), "%s/%u", subnet, ep->net.prefix);
	network_format_ip(ep->net.gateway, ep->gateway);
	net_dir(p->runtime, &ep->net, ep->dir, sizeof(ep->dir));
	snprintf(ep->record, sizeof(ep->record), "%s/%s", ep->dir, c->id);
	for (size_t i = 0, n = 0; c->net.mac[i] && n < 12; i++)
		if (c->net.mac[i] != ':')
			u.mac[n++] = c->net.mac[i];
	u.hosts = ep->net.prefix <= 16 ? HOSTS_MAX : 1u << (32 - ep->net.prefix);
	u.bits = calloc(u.hosts / 8 + 1, 1);
	lock = network_lock(p->root, &ep->net);
	if (!u.bits || lock < 0) {
		ret = err_sys(e, lock < 0 ? lock : -ENOMEM, "network %s: cannot lock it", ep->net.name);
		goto out;
	}
	if ((ret = mkdir_p(AT_FDCWD, ep->dir, 0700)) ||
	    (dirfd = open(ep->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		ret = err_sys(e, ret ? ret : -errno, "network %s: %s", ep->net.name, ep->dir);
		goto out;
	}
	unlinkat(dirfd, c->id, 0);	/* ours, from a run that crashed */
	each_record(dirfd, true, mark_used, &u);
	if (u.mac_taken) {
		ret = err_set(e, -EADDRINUSE, "--mac-address %s: a running container on network %s has it",
			      c->net.mac, ep->net.name);
		goto out;
	}
	if ((ret = pick(ep, ip, last_ip, &u, &addr, e)))
		goto out;
	ep->ip.s_addr = htonl(addr);
	network_format_ip(addr, ep->ip_str);
	snprintf(ep->cidr, sizeof(ep->cidr), "%s/%u", ep->ip_str, ep->net.prefix);
	ret = write_record(ep, dirfd, c, u.mac, e);
out:
	if (dirfd >= 0)
		close(dirfd);
	if (lock >= 0)
		close(lock);
	free(u.bits);
	if (ret)
		network_free(&ep->net);
	return ret;
}

/* The network's folder and the networks folder go when they are empty (under the network's lock). */
static void remove_empty(const struct paths *p, const char *dir)
{
	char top[4096];

	rmdir(dir);
	snprintf(top, sizeof(top), "%s/networks", p->runtime);
	rmdir(top);
}

void lan_leave(const struct paths *p, struct lan_endpoint *ep)
{
	int lock;

	if (ep->fd < 0)
		return;
	lock = network_lock(p->root, &ep->net);
	unlink(ep->record);
	close(ep->fd);
	ep->fd = -1;
	remove_empty(p, ep->dir);	/* when we were the last: nothing left behind */
	if (lock >= 0)
		close(lock);
	network_free(&ep->net);
}

static bool keep_going(void *arg, const struct record *r)
{
	(void)arg;
	(void)r;
	return false;
}

void lan_reap(const struct paths *p, const char *network)
{
	struct network n;
	char dir[4096];
	int lock, dirfd;

	if (network_get(p->root, network, &n, NULL))
		return;
	lock = network_lock(p->root, &n);
	net_dir(p->runtime, &n, dir, sizeof(dir));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd >= 0) {
		each_record(dirfd, true, keep_going, NULL);
		close(dirfd);
		remove_empty(p, dir);
	}
	if (lock >= 0)
		close(lock);
	network_free(&n);
}

struct lookup {
	const char *name;
	struct in_addr *out;
};

/* A container's names: its ID, the ID's first 12, its name and every alias. */
static bool match(void *arg, const struct record *r)
{
	struct lookup *l = arg;
	size_t n = strlen(l->name);
	bool named = !strcasecmp(r->id, l->name) || (n == 12 && !strncmp(r->id, l->name, 12)) ||
		     !strcasecmp(r->name, l->name);

	for (const char *a = r->aliases; !named && *a; a += strcspn(a, " \n")) {
		a += strspn(a, " \n");
		named = n && !strncasecmp(a, l->name, n) && (!a[n] || a[n] == ' ' || a[n] == '\n');
	}
	return named && inet_pton(AF_INET, r->ip, l->out) == 1;
}

bool lan_resolve(void *opaque, const char *name, struct in_addr *out)
{
	const struct lan_endpoint *ep = opaque;
	struct lookup l = { .name = name, .out = out };

	return each_of(ep->runtime, &ep->net, match, &l);
}

struct by_id {
	const char *id;
	char *ip;
};

static bool match_id(void *arg, const struct record *r)
{
	struct by_id *b = arg;

	if (strcmp(r->id, b->id))
		return false;
	memcpy(b->ip, r->ip, sizeof(r->ip));
	return true;
}

int lan_address(const char *runtime, const struct network *n, const char *id, char ip[16])
{
	struct by_id b = { .id = id, .ip = ip };

	return each_of(runtime, n, match_id, &b) ? 0 : -ENOENT;
}

struct endpoints {
	json_object *o;
	unsigned prefix;
};

/* docker's Containers entry: {"<id>": {"Name", "MacAddress", "IPv4Address", "IPv6Address"}} */
static bool add_endpoint(void *arg, const struct record *r)
{
	struct endpoints *eps = arg;
	const char *mac = r->mac;
	char cidr[24], colons[18];
	json_object *ep;

	snprintf(cidr, sizeof(cidr), "%s/%u", r->ip, eps->prefix);
	snprintf(colons, sizeof(colons), "%.2s:%.2s:%.2s:%.2s:%.2s:%.2s", mac, mac + 2, mac + 4, mac + 6, mac + 8,
		 mac + 10);
	ep = json_object_new_object();
	json_object_object_add(ep, "Name", json_object_new_string(r->name));
	json_object_object_add(ep, "MacAddress", json_object_new_string(colons));
	json_object_object_add(ep, "IPv4Address", json_object_new_string(cidr));
	json_object_object_add(ep, "IPv6Address", json_object_new_string(""));
	json_object_object_add(eps->o, r->id, ep);
	return false;
}

json_object *lan_endpoints_json(const char *runtime, const struct network *n)
{
	struct endpoints eps = { .o = json_object_new_object(), .prefix = n->prefix };

	if (!n->predefined)
		each_of(runtime, n, add_endpoint, &eps);
	return eps.o;
}
