/* docker's -v, --mount and --tmpfs (see mount-spec.h); the messages follow docker's. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/path.h"
#include "vmm/base/util.h"
#include "vmm/engine/mount-spec.h"

bool mount_volume_name_valid(const char *name)
{
	if (!name || !isalnum((unsigned char)name[0]) || !name[1] || strlen(name) > 255)
		return false;
	for (const char *c = name + 1; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_.-", *c))
			return false;
	return true;
}

void mount_spec_free(struct mount_spec *m)
{
	free(m->source);
	free(m->target);
	free(m->spec);
	for (char **o = m->volume_opts; *o; o++)
		free(*o);
	memset(m, 0, sizeof(*m));
}

/* The container side: absolute, cleaned, not the root itself. */
static int set_target(struct mount_spec *m, const char *spec, const char *t, struct error *e)
{
	char clean[MOUNT_TARGET_MAX];

	if (!t || !*t)
		return err_set(e, -EINVAL, "invalid mount config: target is required in '%s'", spec);
	if (t[0] != '/')
		return err_set(e, -EINVAL, "invalid mount config for '%s': mount path '%s' must be absolute",
			       spec, t);
	if (path_clean(t, PATH_DOTDOT_REJECT, clean + 1, sizeof(clean) - 1))
		return err_set(e, -EINVAL, "invalid mount config for '%s': mount path '%s' must not "
			       "contain '..' and must be shorter than %d bytes", spec, t, MOUNT_TARGET_MAX);
	if (!clean[1])
		return err_set(e, -EINVAL, "invalid mount config for '%s': the destination can't be '/'",
			       spec);
	clean[0] = '/';
	free(m->target);
	m->target = strdup(clean);
	return m->target ? 0 : err_set(e, -ENOMEM, "out of memory");
}

static int set_source(struct mount_spec *m, const char *s, struct error *e)
{
	free(m->source);
	m->source = strdup(s);
	return m->source ? 0 : err_set(e, -ENOMEM, "out of memory");
}

/* -v's mode: ro, rw, z, Z, nocopy, propagation; comma-separated. */
static int volume_mode(struct mount_spec *m, const char *arg, char *mode, struct error *e)
{
	for (char *save = NULL, *o = strtok_r(mode, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (!strcmp(o, "ro"))
			m->read_only = true;
		else if (!strcmp(o, "rw"))
			m->read_only = false;
		else if (!strcmp(o, "nocopy") && m->type == MOUNT_VOLUME)
			m->nocopy = true;
		else if (strcmp(o, "z") && strcmp(o, "Z") && strcmp(o, "shared") && strcmp(o, "rshared") &&
			 strcmp(o, "slave") && strcmp(o, "rslave") && strcmp(o, "private") &&
			 strcmp(o, "rprivate") && strcmp(o, "delegated") && strcmp(o, "cached") &&
			 strcmp(o, "consistent"))
			return err_set(e, -EINVAL, "invalid mode: %s (in '%s'; use ro or rw)", o, arg);
	}
	return 0;
}

int mount_parse_volume(const char *arg, struct mount_spec *m, struct error *e)
{
	char *copy = strdup(arg), *parts[4] = { 0 };
	unsigned n = 0;
	int ret;

	memset(m, 0, sizeof(*m));
	if (!copy)
		return err_set(e, -ENOMEM, "out of memory");
	for (char *save = NULL, *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
		if (n < 4)
			parts[n++] = p;
		else
			n++;
	if (n == 0 || n > 3 || strstr(arg, "::") || arg[0] == ':' || arg[strlen(arg) - 1] == ':') {
		ret = err_set(e, -EINVAL, "invalid volume specification: '%s'", arg);
		goto out;
	}
	if (n == 1) {		/* -v /ctr: an anonymous volume */
		m->type = MOUNT_VOLUME;
		ret = set_target(m, arg, parts[0], e);
		goto out;
	}
	if (parts[0][0] == '/') {
		m->type = MOUNT_BIND;
		m->create_source = true;
		ret = set_source(m, parts[0], e);
	} else if (mount_volume_name_valid(parts[0])) {
		m->type = MOUNT_VOLUME;
		ret = set_source(m, parts[0], e);
	} else {
		ret = err_set(e, -EINVAL, "create %s: \"%s\" includes invalid characters for a local volume "
			      "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a "
			      "host directory, use absolute path", parts[0], parts[0]);
	}
	if (!ret)
		ret = set_target(m, arg, parts[1], e);
	if (!ret && n == 3)
		ret = volume_mode(m, arg, parts[2], e);
out:
	free(copy);
	if (ret)
		mount_spec_free(m);
	return ret;
}

/* "true", "1", "" (a bare key) or "false", "0". */
static int bool_value(const char *key, const char *v, bool *out, struct error *e)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return err_set(e, -EINVAL, "invalid value for %s: %s (use true or false)", key, v);
	return 0;
}

static int mount_key(struct mount_spec *m, const char *arg, char *key, char *v, char **source,
		     char **target, struct error *e)
{
	uint64_t x;
	unsigned nopts = 0;

	if (!strcmp(key, "type")) {
		if (v && !strcmp(v, "bind"))
			m->type = MOUNT_BIND;
		else if (v && !strcmp(v, "volume"))
			m->type = MOUNT_VOLUME;
		else if (v && !strcmp(v, "tmpfs"))
			m->type = MOUNT_TMPFS;
		else
			return err_set(e, -EINVAL, "invalid mount type '%s' in '%s' (bind, volume or tmpfs)",
				       v ? v : "", arg);
	} else if (!strcmp(key, "source") || !strcmp(key, "src")) {
		*source = v;
	} else if (!strcmp(key, "target") || !strcmp(key, "destination") || !strcmp(key, "dst")) {
		*target = v;
	} else if (!strcmp(key, "readonly") || !strcmp(key, "ro")) {
		return bool_value(key, v, &m->read_only, e);
	} else if (!strcmp(key, "volume-nocopy")) {
		return bool_value(key, v, &m->nocopy, e);
	} else if (!strcmp(key, "volume-opt")) {
		while (m->volume_opts[nopts])
			nopts++;
		if (!v || !strchr(v, '='))
			return err_set(e, -EINVAL, "invalid volume-opt '%s' in '%s' (use volume-opt=KEY=VALUE)",
				       v ? v : "", arg);
		if (nopts == MOUNT_VOLUME_OPTS_MAX)
			return err_set(e, -EINVAL, "at most %d volume-opt in '%s'", MOUNT_VOLUME_OPTS_MAX, arg);
		if (!(m->volume_opts[nopts] = strdup(v)))
			return err_set(e, -ENOMEM, "out of memory");
	} else if (!strcmp(key, "tmpfs-size")) {
		if (!v || parse_size(v, 1, &x) || !x)
			return err_set(e, -EINVAL, "invalid tmpfs-size '%s' in '%s'", v ? v : "", arg);
		m->tmpfs_size = x;
	} else if (!strcmp(key, "tmpfs-mode")) {
		char *end;
		unsigned long mode = v ? strtoul(v, &end, 8) : 0;

		if (!v || !*v || *end || mode > 07777)
			return err_set(e, -EINVAL, "invalid tmpfs-mode '%s' in '%s' (octal, e.g. 1777)",
				       v ? v : "", arg);
		m->tmpfs_mode = mode;
	} else if (strcmp(key, "bind-propagation") && strcmp(key, "consistency") &&
		   strcmp(key, "bind-nonrecursive")) {
		return err_set(e, -EINVAL, "unexpected key '%s' in '%s'", key, arg);
	}
	return 0;
}

int mount_parse_mount(const char *arg, struct mount_spec *m, struct error *e)
{
	char *copy = strdup(arg), *source = NULL, *target = NULL;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	m->type = MOUNT_VOLUME;	/* docker's default */
	if (!copy)
		return err_set(e, -ENOMEM, "out of memory");
	for (char *save = NULL, *kv = strtok_r(copy, ",", &save); kv && !ret;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (eq)
			*eq = 0;
		ret = mount_key(m, arg, kv, eq ? eq + 1 : NULL, &source, &target, e);
	}
	if (!ret)
		ret = set_target(m, arg, target, e);
	if (!ret && m->type == MOUNT_BIND && (!source || source[0] != '/'))
		ret = err_set(e, -EINVAL, "invalid mount config for type \"bind\": %s in '%s'",
			      source ? "the source path must be absolute" : "field Source must not be empty",
			      arg);
	else if (!ret && m->type == MOUNT_VOLUME && source && !mount_volume_name_valid(source))
		ret = err_set(e, -EINVAL, "invalid mount config for type \"volume\": '%s' is not a volume "
			      "name ([a-zA-Z0-9][a-zA-Z0-9_.-])", source);
	else if (!ret && m->type == MOUNT_TMPFS && source)
		ret = err_set(e, -EINVAL, "invalid mount config for type \"tmpfs\": source must not be "
			      "given in '%s'", arg);
	if (!ret && m->type != MOUNT_TMPFS && (m->tmpfs_size || m->tmpfs_mode))
		ret = err_set(e, -EINVAL, "tmpfs options in '%s' need type=tmpfs", arg);
	if (!ret && m->type != MOUNT_VOLUME && (m->volume_opts[0] || m->nocopy))
		ret = err_set(e, -EINVAL, "volume options in '%s' need type=volume", arg);
	if (!ret && source)
		ret = set_source(m, source, e);
	free(copy);
	if (ret)
		mount_spec_free(m);
	return ret;
}

int mount_parse_tmpfs(const char *arg, struct mount_spec *m, struct error *e)
{
	char *copy = strdup(arg), *colon;
	int ret;

	memset(m, 0, sizeof(*m));
	m->type = MOUNT_TMPFS;
	if (!copy)
		return err_set(e, -ENOMEM, "out of memory");
	colon = strchr(copy, ':');
	if (colon)
		*colon++ = 0;
	ret = set_target(m, arg, copy, e);
	for (char *save = NULL, *o = colon ? strtok_r(colon, ",", &save) : NULL; o && !ret;
	     o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		char key[32];

		if (!eq && (!strcmp(o, "ro") || !strcmp(o, "rw"))) {
			m->read_only = o[1] == 'o';
			continue;
		}
		if (!eq && (!strcmp(o, "noexec") || !strcmp(o, "exec") || !strcmp(o, "nosuid") ||
			    !strcmp(o, "suid") || !strcmp(o, "nodev") || !strcmp(o, "dev")))
			continue;	/* the guest mounts tmpfs nosuid,nodev; exec stays allowed */
		snprintf(key, sizeof(key), "tmpfs-%.*s", eq ? (int)(eq - o) : 20, o);
		if (!eq || (strcmp(key, "tmpfs-size") && strcmp(key, "tmpfs-mode")))
			ret = err_set(e, -EINVAL, "invalid tmpfs option '%s' in '%s' (size=, mode=, ro)", o, arg);
		else
			ret = mount_key(m, arg, key, eq + 1, NULL, NULL, e);
	}
	free(copy);
	if (ret)
		mount_spec_free(m);
	return ret;
}
