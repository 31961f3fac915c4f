/* User-defined networks in the store (see network.h); messages follow docker's. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "vmm/base/digest.h"
#include "vmm/base/hex.h"
#include "vmm/base/json.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/config-scan.h"
#include "vmm/engine/container.h"
#include "vmm/engine/network.h"

#define NETWORK_JSON_MAX	(64 << 10)
#define AUTO_BASE		0x0a590000u	/* 10.89.0.0: podman's range for new networks */
#define AUTO_MAX		256

static const char *const predefined[] = { "bridge", "none" };

static bool name_valid(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > NETWORK_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (const char *c = name; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') && !(*c >= '0' && *c <= '9') &&
		    !strchr("_.-", *c))
			return false;
	return true;
}

void network_format_ip(uint32_t addr, char out[16])
{
	struct in_addr a = { .s_addr = htonl(addr) };

	inet_ntop(AF_INET, &a, out, 16);
}

static uint32_t mask(unsigned prefix)
{
	return prefix ? ~0u << (32 - prefix) : 0;
}

int network_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix, struct error *e)
{
	char ip[32], want[16];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	uint64_t p;

	if (!slash || (size_t)(slash - s) >= sizeof(ip) || parse_uint(slash + 1, 8, 30, &p))
		return err_set(e, -EINVAL, "invalid subnet %s: use an IPv4 CIDR such as 10.89.1.0/24 "
			       "(prefix 8 to 30)", s);
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - s), s);
	if (inet_pton(AF_INET, ip, &a) != 1)
		return err_set(e, -EINVAL, "invalid subnet %s: '%s' is not an IPv4 address", s, ip);
	*addr = ntohl(a.s_addr);
	*prefix = p;
	if (*addr & ~mask(*prefix)) {
		network_format_ip(*addr & mask(*prefix), want);
		return err_set(e, -EINVAL, "invalid subnet %s: it should be %s/%u", s, want, *prefix);
	}
	return 0;
}

static int json_path(const char *root, const char *name, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/networks/%s.json", root, name) >= len ? -ENAMETOOLONG : 0;
}

bool network_is_host(const struct network *n, uint32_t addr)
{
	uint32_t m = mask(n->prefix);

	return (addr & m) == n->subnet && addr != n->subnet && addr != (n->subnet | ~m) && addr != n->gateway;
}

int network_lock(const char *root, const struct network *n)
{
	char path[4096];
	int ret = json_path(root, n->name, path, sizeof(path));

	return ret ? ret : open_locked(path, O_RDONLY | O_NOFOLLOW);
}

void network_free(struct network *n)
{
	json_object_put(n->labels);
	n->labels = NULL;
}

json_object *network_to_json(const struct network *n)
{
	json_object *o = json_object_new_object(), *ipam = json_object_new_object();
	json_object *configs = json_object_new_array(), *c = json_object_new_object();
	char when[64], net[16], gw[16], cidr[24];
	time_t t = n->created;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	network_format_ip(n->subnet, net);
	network_format_ip(n->gateway, gw);
	snprintf(cidr, sizeof(cidr), "%s/%u", net, n->prefix);
	json_object_object_add(o, "Name", json_object_new_string(n->name));
	json_object_object_add(o, "Id", json_object_new_string(n->id));
	json_object_object_add(o, "Created", json_object_new_string(when));
	json_object_object_add(o, "Scope", json_object_new_string("local"));
	json_object_object_add(o, "Driver", json_object_new_string(strcmp(n->name, "none") ? "bridge" : "null"));
	json_object_object_add(o, "Internal", json_object_new_boolean(n->internal));
	if (strcmp(n->name, "none")) {
		json_object_object_add(c, "Subnet", json_object_new_string(cidr));
		json_object_object_add(c, "Gateway", json_object_new_string(gw));
		json_object_array_add(configs, c);
	} else {
		json_object_put(c);
	}
	json_object_object_add(ipam, "Driver", json_object_new_string("default"));
	json_object_object_add(ipam, "Config", configs);
	json_object_object_add(o, "IPAM", ipam);
	json_object_object_add(o, "Labels", n->labels ? json_object_get(n->labels) : json_object_new_object());
	return o;
}

/* bridge: every container's own user-mode network (10.0.2.0/24 behind 10.0.2.2); none: no network. */
static void predefined_network(const char *name, struct network *n)
{
	char d[DIGEST_BUF];

	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	digest_buf(name, strlen(name), d);
	snprintf(n->id, sizeof(n->id), "%s", d + strlen(DIGEST_PREFIX));
	if (!strcmp(name, "bridge")) {
		n->subnet = 0x0a000200u;
		n->prefix = 24;
		n->gateway = 0x0a000202u;
	}
	n->predefined = true;
	n->labels = json_object_new_object();
}

static int load(const char *root, const char *name, struct network *n, struct error *e)
{
	char path[4096], *data;
	const char *id = NULL, *subnet = NULL, *gw = NULL, *created = NULL;
	json_object *o, *ipam, *configs, *c, *labels = NULL;
	struct tm tm = { 0 };
	struct in_addr a;
	size_t len;
	int ret;

	memset(n, 0, sizeof(*n));
	if (json_path(root, name, path, sizeof(path)))
		return err_set(e, -ENAMETOOLONG, "store path %s: too long", root);
	if ((ret = read_file(AT_FDCWD, path, NETWORK_JSON_MAX, &data, &len)))
		return ret == -ENOENT ? err_set(e, ret, "network %s not found", name) : err_sys(e, ret, "%s", path);
	o = json_parse_object(data, len, e);
	free(data);
	if (!o)
		return err_wrap(e, -EINVAL, "network %s", name);
	ret = jget_string(o, "Id", true, "network", &id, e);
	if (!ret)
		ret = jget_string(o, "Created", false, "network", &created, e);
	if (!ret)
		ret = jget_bool(o, "Internal", "network", &n->internal, e);
	if (!ret)
		ret = jget_object(o, "Labels", false, "network", &labels, e);
	if (!ret && (!json_object_object_get_ex(o, "IPAM", &ipam) ||
		     !json_object_object_get_ex(ipam, "Config", &configs) ||
		     !(c = json_object_array_get_idx(configs, 0)) ||
		     jget_string(c, "Subnet", true, "network.IPAM.Config[0]", &subnet, e) ||
		     jget_string(c, "Gateway", true, "network.IPAM.Config[0]", &gw, e)))
		ret = err_set(e, -EINVAL, "network %s: no IPAM.Config", name);
	if (!ret)
		ret = network_parse_cidr(subnet, &n->subnet, &n->prefix, e);
	if (!ret && inet_pton(AF_INET, gw, &a) != 1)
		ret = err_set(e, -EINVAL, "network %s: bad gateway", name);
	if (!ret) {
		n->gateway = ntohl(a.s_addr);
		snprintf(n->name, sizeof(n->name), "%s", name);
		snprintf(n->id, sizeof(n->id), "%s", id);
		if (created && strptime(created, "%Y-%m-%dT%H:%M:%SZ", &tm))
			n->created = timegm(&tm);
		n->labels = labels ? json_object_get(labels) : json_object_new_object();
	}
	json_object_put(o);
	return ret;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int network_list(const char *root, char ***names, struct error *e)
{
	char path[4096], **v = calloc(1, sizeof(char *));
	struct dirent *de;
	size_t npre = ARRAY_SIZE(predefined);
	DIR *d;

	if (!v)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < npre; i++)
		strv_push(&v, predefined[i]);
	*names = v;
	snprintf(path, sizeof(path), "%s/networks", root);
	if (!(d = opendir(path)))
		return errno == ENOENT ? 0 : err_sys(e, -errno, "%s", path);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char name[NETWORK_NAME_MAX + 1];

		if (len <= 5 || len - 5 > NETWORK_NAME_MAX || strcmp(de->d_name + len - 5, ".json"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 5), de->d_name);
		if (name_valid(name) && strv_push(names, name)) {
			closedir(d);
			return err_set(e, -ENOMEM, "out of memory");
		}
	}
	closedir(d);
	qsort(*names + npre, strv_len(*names) - npre, sizeof(char *), name_cmp);
	return 0;
}

int network_get(const char *root, const char *name, struct network *n, struct error *e)
{
	char **names;
	int ret, found = 0;

	for (size_t i = 0; i < ARRAY_SIZE(predefined); i++)
		if (!strcmp(name, predefined[i])) {
			predefined_network(name, n);
			return 0;
		}
	if (name_valid(name) && (ret = load(root, name, n, e)) != -ENOENT)
		return ret;
	/* An ID or a unique prefix of one, as docker takes. */
	if (strlen(name) < 3 || !hex_valid(name, strlen(name)) || network_list(root, &names, e))
		return err_set(e, -ENOENT, "network %s not found", name);
	for (char **c = names; *c; c++) {
		struct network cand;

		if (network_get(root, *c, &cand, NULL))
			continue;
		if (strncmp(cand.id, name, strlen(name))) {
			network_free(&cand);
			continue;
		}
		if (found++)
			network_free(n);
		*n = cand;
	}
	strv_free(names);
	if (found == 1)
		return 0;
	if (found)
		network_free(n);
	return err_set(e, -ENOENT, found ? "network %s is ambiguous (several IDs start with it)" :
		       "network %s not found", name);
}

static bool overlaps(uint32_t a, unsigned pa, uint32_t b, unsigned pb)
{
	unsigned p = pa < pb ? pa : pb;

	return (a & mask(p)) == (b & mask(p));
}

/* The existing network whose subnet overlaps, if any (its name into who). */
static bool taken(const char *root, uint32_t subnet, unsigned prefix, char *who, size_t len)
{
	char **names;
	bool hit = false;

	if (network_list(root, &names, NULL))
		return false;
	for (char **c = names; *c && !hit; c++) {
		struct network n;

		/* The predefined bridge is private to each container: it overlaps nothing. */
		if (network_get(root, *c, &n, NULL) == 0) {
			hit = !n.predefined && overlaps(n.subnet, n.prefix, subnet, prefix);
			if (hit)
				snprintf(who, len, "%s", n.name);
			network_free(&n);
		}
	}
	strv_free(names);
	return hit;
}

static int pick_subnet(const char *root, const struct network_create_opts *o, struct network *n,
		       struct error *e)
{
	char who[NETWORK_NAME_MAX + 1];
	int ret;

	if (o->subnet) {
		if ((ret = network_parse_cidr(o->subnet, &n->subnet, &n->prefix, e)))
			return ret;
		if (taken(root, n->subnet, n->prefix, who, sizeof(who)))
			return err_set(e, -EEXIST, "invalid pool request: Pool overlaps with other one on this "
				       "address space (network %s)", who);
		return 0;
	}
	for (unsigned i = 1; i < AUTO_MAX; i++)
		if (!taken(root, AUTO_BASE + (i << 8), 24, who, sizeof(who))) {
			n->subnet = AUTO_BASE + (i << 8);
			n->prefix = 24;
			return 0;
		}
	return err_set(e, -ENOSPC, "no free subnet in 10.89.0.0/16: give --subnet");
}

static int set_gateway(const struct network_create_opts *o, struct network *n, struct error *e)
{
	struct in_addr a;
	uint32_t gw;

	if (!o->gateway) {
		n->gateway = n->subnet + 1;
		return 0;
	}
	if (inet_pton(AF_INET, o->gateway, &a) != 1)
		return err_set(e, -EINVAL, "invalid gateway %s: not an IPv4 address", o->gateway);
	gw = ntohl(a.s_addr);
	if ((gw & mask(n->prefix)) != n->subnet || gw == n->subnet || gw == (n->subnet | ~mask(n->prefix)))
		return err_set(e, -EINVAL, "no matching subnet for gateway %s", o->gateway);
	n->gateway = gw;
	return 0;
}

int network_create(const char *root, const struct network_create_opts *o, struct network *n,
		   struct error *e)
{
	char path[4096];
	uint8_t rnd[32];
	const char *text;
	json_object *j;
	struct network other;
	int ret;

	memset(n, 0, sizeof(*n));
	if (!name_valid(o->name))
		return err_set(e, -EINVAL, "invalid network name '%s': use up to %d of a-z A-Z 0-9 _ . -",
			       o->name, NETWORK_NAME_MAX);
	if (network_get(root, o->name, &other, NULL) == 0) {
		network_free(&other);
		return err_set(e, -EEXIST, "network with name %s already exists", o->name);
	}
	if ((ret = pick_subnet(root, o, n, e)) || (ret = set_gateway(o, n, e)))
		return ret;
	if (!(n->labels = labels_to_json(o->labels, e)))
		return -EINVAL;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		network_free(n);
		return err_sys(e, -errno, "getrandom");
	}
	hex_encode(rnd, sizeof(rnd), n->id);
	snprintf(n->name, sizeof(n->name), "%s", o->name);
	n->internal = o->internal;
	n->created = time(NULL);
	json_path(root, n->name, path, sizeof(path));
	j = network_to_json(n);
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	ret = mkdir_parent(path, 0700);
	if (!ret)
		ret = write_file_atomic(AT_FDCWD, path, text, strlen(text), 0600);
	json_object_put(j);
	if (ret) {
		network_free(n);
		return err_sys(e, ret, "create network %s", o->name);
	}
	return 0;
}

/* Does a container's config join the network? ("Networks": ["NAME", ...]) */
static bool joins(json_object *config, const void *arg)
{
	const struct network *n = arg;
	json_object *nets;

	if (!json_object_object_get_ex(config, "Networks", &nets) || !json_object_is_type(nets, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(nets); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(nets, i));

		if (s && (!strcmp(s, n->name) || !strcmp(s, n->id)))
			return true;
	}
	return false;
}

int network_users(const char *root, const struct network *n, char ***ids, struct error *e)
{
	return config_scan(root, joins, n, ids, e);
}

/* moby's list of a network's users: name:"web" id:"0123456789ab", ... */
static void users_line(const char *root, char *const *ids, char *buf, size_t len)
{
	buf[0] = '\0';
	for (char *const *id = ids; *id; id++) {
		struct container *c = NULL;
		struct error ignored = { 0 };

		container_open(root, *id, &c, &ignored);
		snprintf(buf + strlen(buf), len - strlen(buf), "%sname:\"%s\" id:\"%.12s\"",
			 id == ids ? "" : ", ", c && c->cfg.name ? c->cfg.name : "", *id);
		if (c)
			container_free(c);
	}
}

int network_remove(const char *root, const char *name, struct error *e)
{
	struct network n;
	char path[4096], **users, list[512];
	int ret = network_get(root, name, &n, e);

	if (ret)
		return ret;
	if (n.predefined) {
		network_free(&n);
		return err_set(e, -EPERM, "%s is a pre-defined network and cannot be removed", name);
	}
	ret = network_users(root, &n, &users, e);
	if (!ret && users[0]) {
		users_line(root, users, list, sizeof(list));
		ret = err_set(e, -EBUSY, "error while removing network: network %s id %.12s has active "
			      "endpoints (%s)", n.name, n.id, list);
	}
	if (!ret) {
		json_path(root, n.name, path, sizeof(path));
		if (unlink(path) < 0)
			ret = err_sys(e, -errno, "remove network %s", n.name);
	}
	if (users)
		strv_free(users);
	network_free(&n);
	return ret;
}

int network_prune(const char *root, void (*removed)(void *arg, const char *name), void *arg, struct error *e)
{
	char **names = NULL;
	int ret = network_list(root, &names, e);

	if (ret)
		return ret;
	for (char **name = names; *name; name++) {
		struct network net;
		bool custom;

		if (network_get(root, *name, &net, NULL))
			continue;
		custom = !net.predefined;
		network_free(&net);
		if (custom && network_remove(root, *name, NULL) == 0)	/* in use: kept */
			removed(arg, *name);
	}
	strv_free(names);
	return 0;
}
