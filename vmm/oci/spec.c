#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "vmm/base/error.h"
#include "vmm/base/json.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/oci/spec.h"

/* Capabilities by number (linux/capability.h), as config.json names them. */
static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
	"CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};
static const char *const cap_sets[OCI_CAP_SETS] = { "bounding", "effective", "inheritable", "permitted", "ambient" };

static const struct { const char *name; int resource; } rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA }, { "RLIMIT_FSIZE", RLIMIT_FSIZE }, { "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE }, { "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS }, { "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static const char *const hook_names[OCI_HOOK_KINDS] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

/* What a guest makes itself; a bind is a shared folder. */
static const char *const mount_types[] = {
	"bind", "tmpfs", "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2", "shm",
};

/* sysctls of the guest kernel's own namespaces (what runc accepts in a container's) */
static const char *const sysctl_prefixes[] = { "net.", "kernel.shm", "kernel.msg", "fs.mqueue." };

#define MIN_MEMORY	(6ULL << 20)

static bool absolute_clean(const char *p)
{
	if (p[0] != '/' || strlen(p) > 4095)
		return false;
	for (const char *s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || !s[2]))
			return false;
	return true;
}

static int note(struct oci_spec *s, const char *what, struct error *e)
{
	return strv_push(&s->ignored, what) ? err_set(e, -ENOMEM, "out of memory") : 0;
}

/* s's place in a table of n names, or n when it is not there. */
static size_t index_of(const char *s, const char *const *names, size_t n)
{
	size_t i = 0;

	while (i < n && strcmp(names[i], s))
		i++;
	return i;
}

static int strings(json_object *o, const char *key, size_t max, const char *ctx, char ***out, struct error *e)
{
	*out = NULL;
	return jget_strv(o, key, max, ctx, out, e);
}

static int process_user(json_object *p, struct oci_spec *s, struct error *e)
{
	json_object *u, *gids;
	uint64_t uid, gid, umask;
	bool present;
	int ret;

	if ((ret = jget_object(p, "user", true, "process", &u, e)) ||
	    (ret = jget_u64(u, "uid", true, UINT32_MAX, "process.user", &uid, &present, e)) ||
	    (ret = jget_u64(u, "gid", true, UINT32_MAX, "process.user", &gid, &present, e)) ||
	    (ret = jget_u64(u, "umask", false, 0777, "process.user", &umask, &present, e)) ||
	    (ret = jget_array(u, "additionalGids", false, OCI_MAX_GIDS, "process.user", &gids, e)))
		return ret;
	if (present && umask != 022 && (ret = note(s, "process.user.umask", e)))	/* the guest's 022 */
		return ret;
	s->uid = (uint32_t)uid;
	s->gid = (uint32_t)gid;
	for (size_t i = 0; gids && i < json_object_array_length(gids); i++) {
		json_object *g = json_object_array_get_idx(gids, i);
		int64_t n = json_object_get_int64(g);

		if (!json_object_is_type(g, json_type_int) || n < 0 || n > UINT32_MAX)
			return err_set(e, -EINVAL, "process.user.additionalGids[%zu]: want a group ID", i);
		s->gids[s->ngids++] = (uint32_t)n;
	}
	return 0;
}

static int capabilities(json_object *p, struct oci_spec *s, struct error *e)
{
	json_object *caps;
	int ret = jget_object(p, "capabilities", false, "process", &caps, e);

	s->has_caps = caps != NULL;
	for (int set = 0; !ret && caps && set < OCI_CAP_SETS; set++) {
		json_object *list;

		if ((ret = jget_array(caps, cap_sets[set], false, 64, "process.capabilities", &list, e)))
			break;
		for (size_t i = 0; list && i < json_object_array_length(list); i++) {
			const char *name;
			size_t c;

			if ((ret = jstring(json_object_array_get_idx(list, i), "process.capabilities", &name, e)))
				return ret;
			if ((c = index_of(name, cap_names, ARRAY_SIZE(cap_names))) == ARRAY_SIZE(cap_names))
				return err_set(e, -EINVAL, "process.capabilities.%s[%zu]: unknown capability %.64s",
					       cap_sets[set], i, name);
			s->caps[set] |= 1ULL << c;
		}
	}
	return ret;
}

static int rlimits(json_object *p, struct oci_spec *s, struct error *e)
{
	json_object *list;
	int ret = jget_array(p, "rlimits", false, OCI_MAX_RLIMITS, "process", &list, e);

	for (size_t i = 0; !ret && list && i < json_object_array_length(list); i++) {
		json_object *r = json_object_array_get_idx(list, i);
		struct oci_rlimit *l = &s->rlimits[s->nrlimits];
		const char *type;
		char ctx[48];
		bool present;
		size_t k = 0;

		snprintf(ctx, sizeof(ctx), "process.rlimits[%zu]", i);
		if (!json_object_is_type(r, json_type_object))
			return err_set(e, -EINVAL, "%s: want an object", ctx);
		if ((ret = jget_string(r, "type", true, ctx, &type, e)) ||
		    (ret = jget_u64(r, "soft", true, UINT64_MAX, ctx, &l->soft, &present, e)) ||
		    (ret = jget_u64(r, "hard", true, UINT64_MAX, ctx, &l->hard, &present, e)))
			return ret;
		while (k < ARRAY_SIZE(rlimit_names) && strcmp(rlimit_names[k].name, type))
			k++;
		if (k == ARRAY_SIZE(rlimit_names))
			return err_set(e, -EINVAL, "%s.type: unknown resource %.64s", ctx, type);
		if (l->soft > l->hard)
			return err_set(e, -EINVAL, "%s: soft %llu above hard %llu", ctx, (unsigned long long)l->soft,
				       (unsigned long long)l->hard);
		l->resource = rlimit_names[k].resource;
		s->nrlimits++;
	}
	return ret;
}

static int process_fields(json_object *p, struct oci_spec *s, struct error *e)
{
	const char *cwd;
	int ret;

	if ((ret = strings(p, "args", OCI_MAX_ARGS, "process", &s->args, e)) ||
	    (ret = strings(p, "env", OCI_MAX_ARGS, "process", &s->env, e)) ||
	    (ret = jget_string(p, "cwd", true, "process", &cwd, e)) ||
	    (ret = jget_bool(p, "terminal", "process", &s->terminal, e)) ||
	    (ret = jget_bool(p, "noNewPrivileges", "process", &s->no_new_privileges, e)))
		return ret;
	if (!s->args || !s->args[0] || !s->args[0][0])
		return err_set(e, -EINVAL, "process.args: want the command to run (at least one argument)");
	if (!absolute_clean(cwd))
		return err_set(e, -EINVAL, "process.cwd: want an absolute path without '..'");
	for (size_t i = 0; s->env && s->env[i]; i++)
		if (s->env[i][0] == '=' || !strchr(s->env[i], '='))
			return err_set(e, -EINVAL, "process.env[%zu]: want KEY=VALUE", i);
	if (!(s->cwd = strdup(cwd)))
		return err_set(e, -ENOMEM, "out of memory");
	if ((ret = process_user(p, s, e)) || (ret = capabilities(p, s, e)) || (ret = rlimits(p, s, e)))
		return ret;
	if (json_object_object_get_ex(p, "apparmorProfile", NULL) && (ret = note(s, "process.apparmorProfile", e)))
		return ret;
	if (json_object_object_get_ex(p, "selinuxLabel", NULL) && (ret = note(s, "process.selinuxLabel", e)))
		return ret;
	return 0;
}

static int process(json_object *root, struct oci_spec *s, struct error *e)
{
	json_object *p;
	int ret = jget_object(root, "process", true, "", &p, e);

	return ret ? ret : process_fields(p, s, e);
}

int oci_process_parse(const char *buf, size_t len, struct oci_spec *out, struct error *e)
{
	json_object *o;
	int ret;

	memset(out, 0, sizeof(*out));
	if (len > OCI_SPEC_MAX)
		return err_set(e, -E2BIG, "process.json: over %d bytes", OCI_SPEC_MAX);
	if (!(o = json_parse_object(buf, len, e)))
		return err_wrap(e, -EINVAL, "process.json");
	ret = process_fields(o, out, e);
	json_object_put(o);
	if (ret) {
		oci_spec_free(out);
		return err_wrap(e, ret, "--process");
	}
	return 0;
}

static int mount_one(json_object *m, size_t i, struct oci_mount *out, struct error *e)
{
	const char *dest, *type = NULL, *source = NULL;
	char ctx[32];
	int ret;

	snprintf(ctx, sizeof(ctx), "mounts[%zu]", i);
	if (!json_object_is_type(m, json_type_object))
		return err_set(e, -EINVAL, "%s: want an object", ctx);
	if ((ret = jget_string(m, "destination", true, ctx, &dest, e)) ||
	    (ret = jget_string(m, "type", false, ctx, &type, e)) ||
	    (ret = jget_string(m, "source", false, ctx, &source, e)) ||
	    (ret = strings(m, "options", 64, ctx, &out->options, e)))
		return ret;
	if (!absolute_clean(dest))
		return err_set(e, -EINVAL, "%s.destination: want an absolute path without '..'", ctx);
	for (char **o = out->options; o && *o; o++) {
		out->bind |= !strcmp(*o, "bind") || !strcmp(*o, "rbind");
		out->readonly |= !strcmp(*o, "ro");
	}
	if (!type || !*type)
		type = out->bind ? "bind" : "";
	out->bind |= !strcmp(type, "bind");
	if (index_of(type, mount_types, ARRAY_SIZE(mount_types)) == ARRAY_SIZE(mount_types))
		return err_set(e, -EINVAL, "%s: type '%.32s' cannot be mounted in a micro-VM (bind, tmpfs, proc, "
			       "sysfs, devpts, mqueue, cgroup, cgroup2)", ctx, type);
	if (out->bind && (!source || !*source || strstr(source, "..")))
		return err_set(e, -EINVAL, "%s.source: a bind mount wants a host path without '..'", ctx);
	out->destination = strdup(dest);
	out->type = strdup(type);
	out->source = source ? strdup(source) : NULL;
	if (!out->destination || !out->type || (source && !out->source))
		return err_set(e, -ENOMEM, "out of memory");
	return 0;
}

static int mounts(json_object *root, struct oci_spec *s, struct error *e)
{
	json_object *list;
	int ret = jget_array(root, "mounts", false, OCI_MAX_MOUNTS, "", &list, e);
	size_t n = list ? json_object_array_length(list) : 0;

	if (ret || !n)
		return ret;
	if (!(s->mounts = calloc(n, sizeof(*s->mounts))))
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		s->nmounts++;
		if ((ret = mount_one(json_object_array_get_idx(list, i), i, &s->mounts[i], e)))
			return ret;
	}
	return 0;
}

const char *oci_hook_name(enum oci_hook_kind k)
{
	return hook_names[k];
}

static int hook_list(json_object *hooks, enum oci_hook_kind k, struct oci_spec *s, struct error *e)
{
	json_object *list;
	char ctx[48];
	size_t n;
	int ret;

	snprintf(ctx, sizeof(ctx), "hooks.%s", hook_names[k]);
	if ((ret = jget_array(hooks, hook_names[k], false, OCI_MAX_HOOKS, "hooks", &list, e)) || !list)
		return ret;
	n = json_object_array_length(list);
	if (n && !(s->hooks[k] = calloc(n, sizeof(struct oci_hook))))
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *h = json_object_array_get_idx(list, i);
		struct oci_hook *o = &s->hooks[k][i];
		const char *path;
		uint64_t t;
		bool present;

		s->nhooks[k]++;
		if (!json_object_is_type(h, json_type_object))
			return err_set(e, -EINVAL, "%s[%zu]: want an object", ctx, i);
		if ((ret = jget_string(h, "path", true, ctx, &path, e)) ||
		    (ret = strings(h, "args", OCI_MAX_ARGS, ctx, &o->args, e)) ||
		    (ret = strings(h, "env", OCI_MAX_ARGS, ctx, &o->env, e)) ||
		    (ret = jget_u64(h, "timeout", false, 86400, ctx, &t, &present, e)))
			return ret;
		if (present && !t)
			return err_set(e, -EINVAL, "%s[%zu].timeout: want at least 1 second", ctx, i);
		if (!absolute_clean(path))
			return err_set(e, -EINVAL, "%s[%zu].path: want an absolute path", ctx, i);
		o->timeout = present ? (unsigned)t : 0;
		if (!(o->path = strdup(path)))
			return err_set(e, -ENOMEM, "out of memory");
	}
	return 0;
}

static int namespaces(json_object *lx, struct oci_spec *s, struct error *e)
{
	static const char *const types[] = { "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time" };
	json_object *list;
	bool seen[ARRAY_SIZE(types)] = { false };
	int ret = jget_array(lx, "namespaces", false, 16, "linux", &list, e);

	for (size_t i = 0; !ret && list && i < json_object_array_length(list); i++) {
		json_object *ns = json_object_array_get_idx(list, i);
		const char *type, *path = NULL;
		char ctx[40];
		size_t t;

		snprintf(ctx, sizeof(ctx), "linux.namespaces[%zu]", i);
		if (!json_object_is_type(ns, json_type_object))
			return err_set(e, -EINVAL, "%s: want an object", ctx);
		if ((ret = jget_string(ns, "type", true, ctx, &type, e)) ||
		    (ret = jget_string(ns, "path", false, ctx, &path, e)))
			return ret;
		if ((t = index_of(type, types, ARRAY_SIZE(types))) == ARRAY_SIZE(types))
			return err_set(e, -EINVAL, "%s.type: unknown namespace %.32s", ctx, type);
		seen[t] = true;
		if (path && *path && t == 1) {
			if (!absolute_clean(path))
				return err_set(e, -EINVAL, "%s.path: want an absolute path", ctx);
			if (!(s->netns = strdup(path)))
				return err_set(e, -ENOMEM, "out of memory");
		} else if (path && *path) {
			return err_set(e, -EINVAL, "%s: joining the %s namespace at %.200s: a micro-VM has its own "
				       "kernel, it shares no namespace but the network's", ctx, type, path);
		}
	}
	if (ret)
		return ret;
	if (!seen[0])
		return err_set(e, -EINVAL, "linux.namespaces: no pid namespace asks for the host's (--pid host), "
			       "which a micro-VM cannot share");
	if (!seen[1])
		return err_set(e, -EINVAL, "linux.namespaces: no network namespace asks for the host's "
			       "(--network host), which a micro-VM cannot share");
	for (size_t t = 2; t < ARRAY_SIZE(types); t++) {	/* user and time: none is the host's */
		char what[64];

		snprintf(what, sizeof(what), "linux.namespaces (no %s: the VM's own)", types[t]);
		if (!seen[t] && strcmp(types[t], "user") && strcmp(types[t], "time") && (ret = note(s, what, e)))
			return ret;
	}
	return 0;
}

static int sysctls(json_object *lx, struct oci_spec *s, struct error *e)
{
	json_object *o;
	int ret = jget_object(lx, "sysctl", false, "linux", &o, e);

	if (ret || !o)
		return ret;
	json_object_object_foreach(o, key, val) {
		bool ours = false;
		char *kv;

		if (!json_object_is_type(val, json_type_string))
			return err_set(e, -EINVAL, "linux.sysctl.%.64s: want a string", key);
		for (size_t i = 0; i < ARRAY_SIZE(sysctl_prefixes); i++)
			ours |= !strncmp(key, sysctl_prefixes[i], strlen(sysctl_prefixes[i]));
		ours |= !strcmp(key, "kernel.sem");
		if (!ours || strchr(key, '/') || strstr(key, ".."))
			return err_set(e, -EINVAL, "linux.sysctl.%.64s: not a sysctl of the container's own "
				       "(net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)", key);
		if (strchr(json_object_get_string(val), '\n') || asprintf(&kv, "%s=%s", key,
									 json_object_get_string(val)) < 0)
			return err_set(e, -EINVAL, "linux.sysctl.%.64s: a value of one line", key);
		ret = strv_push(&s->sysctl, kv);
		free(kv);
		if (ret)
			return err_set(e, -ENOMEM, "out of memory");
	}
	return 0;
}

/* A limit that may be negative (-1: none): its positive value, or 0. */
static int positive(json_object *o, const char *key, const char *ctx, int64_t *out, struct error *e)
{
	json_object *v;

	*out = 0;
	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return err_set(e, -EINVAL, "%s.%s: want an integer", ctx, key);
	*out = json_object_get_int64(v) > 0 ? json_object_get_int64(v) : 0;
	return 0;
}

static int resources(json_object *lx, struct oci_spec *s, struct error *e)
{
	json_object *r, *mem, *cpu, *pids;
	int64_t memory, quota;
	uint64_t period = 0;
	bool present;
	int ret;

	if ((ret = jget_object(lx, "resources", false, "linux", &r, e)) || !r)
		return ret;
	if ((ret = jget_object(r, "memory", false, "linux.resources", &mem, e)) ||
	    (ret = jget_object(r, "cpu", false, "linux.resources", &cpu, e)) ||
	    (ret = jget_object(r, "pids", false, "linux.resources", &pids, e)))
		return ret;
	if ((ret = positive(mem, "limit", "linux.resources.memory", &memory, e)) ||
	    (ret = positive(cpu, "quota", "linux.resources.cpu", &quota, e)) ||
	    (ret = positive(pids, "limit", "linux.resources.pids", &s->pids, e)))
		return ret;
	if (memory && (uint64_t)memory < MIN_MEMORY)
		return err_set(e, -EINVAL, "linux.resources.memory.limit: the least is 6 MiB");
	s->memory = (uint64_t)memory;
	if (mem && (json_object_object_get_ex(mem, "swap", NULL) || json_object_object_get_ex(mem, "reservation", NULL)) &&
	    (ret = note(s, "linux.resources.memory.swap/reservation", e)))
		return ret;
	if (cpu) {
		if ((ret = jget_u64(cpu, "period", false, 1000000, "linux.resources.cpu", &period, &present, e)))
			return ret;
		if (quota) {
			if (!period)
				period = 100000;
			if (period < 1000)
				return err_set(e, -EINVAL, "linux.resources.cpu.period: the least is 1000 microseconds");
			s->cpus = (double)quota / (double)period;
			if (s->cpus > 64)
				return err_set(e, -EINVAL, "linux.resources.cpu: quota/period above 64 CPUs");
		}
		if ((json_object_object_get_ex(cpu, "shares", NULL) || json_object_object_get_ex(cpu, "cpus", NULL)) &&
		    (ret = note(s, "linux.resources.cpu.shares/cpus", e)))
			return ret;
	}
	if (json_object_object_get_ex(r, "devices", NULL) && (ret = note(s, "linux.resources.devices", e)))
		return ret;
	return 0;
}

static int linux_section(json_object *root, struct oci_spec *s, struct error *e)
{
	static const char *const ignored[] = {
		"seccomp", "maskedPaths", "readonlyPaths", "uidMappings", "gidMappings", "mountLabel",
		"rootfsPropagation", "cgroupsPath", "intelRdt", "personality",
	};
	json_object *lx, *devs;
	int ret;

	if ((ret = jget_object(root, "linux", true, "", &lx, e)) ||
	    (ret = jget_array(lx, "devices", false, 1024, "linux", &devs, e)))
		return ret;
	if (devs && json_object_array_length(devs))
		return err_set(e, -EINVAL, "linux.devices: a micro-VM passes no host device through");
	if ((ret = namespaces(lx, s, e)) || (ret = sysctls(lx, s, e)) || (ret = resources(lx, s, e)))
		return ret;
	for (size_t i = 0; i < ARRAY_SIZE(ignored); i++) {
		char what[48];

		snprintf(what, sizeof(what), "linux.%s", ignored[i]);
		if (json_object_object_get_ex(lx, ignored[i], NULL) && (ret = note(s, what, e)))
			return ret;
	}
	return 0;
}

static int top(json_object *o, struct oci_spec *s, struct error *e)
{
	json_object *root, *hooks;
	const char *version, *path, *host = NULL;
	int ret;

	if ((ret = jget_string(o, "ociVersion", true, "", &version, e)))
		return ret;
	if (strncmp(version, "1.", 2))
		return err_set(e, -EINVAL, "ociVersion %.32s: vmm runs runtime spec 1.x bundles", version);
	if ((ret = jget_object(o, "root", true, "", &root, e)) ||
	    (ret = jget_string(root, "path", true, "root", &path, e)) ||
	    (ret = jget_bool(root, "readonly", "root", &s->root_readonly, e)))
		return ret;
	if (!*path || strlen(path) > 4095)
		return err_set(e, -EINVAL, "root.path: want the bundle's root folder");
	if (!(s->root = strdup(path)))
		return err_set(e, -ENOMEM, "out of memory");
	if ((ret = jget_string(o, "hostname", false, "", &host, e)))
		return ret;
	if (host && *host) {
		if (strlen(host) > 64 || strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
		    strlen(host))
			return err_set(e, -EINVAL, "hostname: want up to 64 of a-z A-Z 0-9 . -");
		if (!(s->hostname = strdup(host)))
			return err_set(e, -ENOMEM, "out of memory");
	}
	if ((ret = process(o, s, e)) || (ret = mounts(o, s, e)) || (ret = linux_section(o, s, e)) ||
	    (ret = jget_object(o, "hooks", false, "", &hooks, e)))
		return ret;
	for (int k = 0; hooks && k < OCI_HOOK_KINDS; k++)
		if ((ret = hook_list(hooks, (enum oci_hook_kind)k, s, e)))
			return ret;
	return 0;
}

int oci_spec_parse(const char *buf, size_t len, struct oci_spec *out, struct error *e)
{
	json_object *o;
	int ret;

	memset(out, 0, sizeof(*out));
	if (len > OCI_SPEC_MAX)
		return err_set(e, -E2BIG, "config.json: over %d bytes", OCI_SPEC_MAX);
	if (!(o = json_parse_object(buf, len, e)))
		return err_wrap(e, -EINVAL, "config.json");
	ret = top(o, out, e);
	json_object_put(o);
	if (ret) {
		oci_spec_free(out);
		return err_wrap(e, ret, "config.json");
	}
	return 0;
}

void oci_spec_free(struct oci_spec *s)
{
	free(s->root);
	strv_free(s->args);
	strv_free(s->env);
	free(s->cwd);
	free(s->hostname);
	for (size_t i = 0; i < s->nmounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		strv_free(s->mounts[i].options);
	}
	free(s->mounts);
	for (int k = 0; k < OCI_HOOK_KINDS; k++) {
		for (size_t i = 0; i < s->nhooks[k]; i++) {
			free(s->hooks[k][i].path);
			strv_free(s->hooks[k][i].args);
			strv_free(s->hooks[k][i].env);
		}
		free(s->hooks[k]);
	}
	strv_free(s->sysctl);
	free(s->netns);
	strv_free(s->ignored);
	memset(s, 0, sizeof(*s));
}

static json_object *names(const char *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

json_object *oci_features_json(void)
{
	static const char *const ns[] = { "cgroup", "ipc", "mount", "network", "pid", "uts" };
	static const char *const options[] = {
		"bind", "rbind", "ro", "rw", "nosuid", "nodev", "noexec", "relatime", "strictatime", "mode", "size",
	};
	json_object *o = json_object_new_object(), *lx = json_object_new_object(), *cg = json_object_new_object();
	json_object *off = json_object_new_object(), *ann = json_object_new_object();

	json_object_object_add(o, "ociVersionMin", json_object_new_string("1.0.0"));
	json_object_object_add(o, "ociVersionMax", json_object_new_string(OCI_SPEC_VERSION));
	json_object_object_add(o, "hooks", names(hook_names, OCI_HOOK_KINDS));
	json_object_object_add(o, "mountOptions", names(options, ARRAY_SIZE(options)));
	json_object_object_add(lx, "namespaces", names(ns, ARRAY_SIZE(ns)));
	json_object_object_add(lx, "capabilities", names(cap_names, ARRAY_SIZE(cap_names)));
	json_object_object_add(cg, "v1", json_object_new_boolean(false));
	json_object_object_add(cg, "v2", json_object_new_boolean(true));
	json_object_object_add(cg, "systemd", json_object_new_boolean(false));
	json_object_object_add(cg, "systemdUser", json_object_new_boolean(false));
	json_object_object_add(lx, "cgroup", cg);
	json_object_object_add(off, "enabled", json_object_new_boolean(false));
	json_object_object_add(lx, "seccomp", json_object_get(off));
	json_object_object_add(lx, "apparmor", json_object_get(off));
	json_object_object_add(lx, "selinux", off);
	json_object_object_add(o, "linux", lx);
	json_object_object_add(ann, "io.github.vmm.isolation", json_object_new_string("micro-VM"));
	json_object_object_add(o, "annotations", ann);
	return o;
}
