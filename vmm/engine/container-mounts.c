/* A container's mounts in its config.json (see container-mounts.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/json.h"
#include "vmm/engine/container-mounts.h"

static const char *const type_names[] = { [MOUNT_BIND] = "bind", [MOUNT_VOLUME] = "volume",
					   [MOUNT_TMPFS] = "tmpfs" };
static const char *const flag_names[] = { [MOUNT_FLAG_NONE] = "", [MOUNT_FLAG_VOLUME] = "volume",
					   [MOUNT_FLAG_MOUNT] = "mount", [MOUNT_FLAG_TMPFS] = "tmpfs" };

json_object *container_mounts_to_json(const struct container_mount *m, unsigned n)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "Type", json_object_new_string(type_names[m[i].type]));
		if (m[i].name)
			json_object_object_add(o, "Name", json_object_new_string(m[i].name));
		json_object_object_add(o, "Source", json_object_new_string(m[i].source ? m[i].source : ""));
		json_object_object_add(o, "Destination", json_object_new_string(m[i].target));
		json_object_object_add(o, "Driver", json_object_new_string(m[i].type == MOUNT_VOLUME ? "local" : ""));
		json_object_object_add(o, "Mode", json_object_new_string(m[i].read_only ? "ro" : ""));
		json_object_object_add(o, "RW", json_object_new_boolean(!m[i].read_only));
		json_object_object_add(o, "Propagation", json_object_new_string(m[i].type == MOUNT_BIND ? "rprivate" : ""));
		if (m[i].anonymous)
			json_object_object_add(o, "Anonymous", json_object_new_boolean(true));
		if (m[i].nocopy)
			json_object_object_add(o, "NoCopy", json_object_new_boolean(true));
		if (m[i].type == MOUNT_TMPFS) {
			json_object_object_add(o, "TmpfsSize", json_object_new_int64(m[i].tmpfs_size));
			json_object_object_add(o, "TmpfsMode", json_object_new_int64(m[i].tmpfs_mode));
		}
		if (m[i].flag != MOUNT_FLAG_NONE)
			json_object_object_add(o, "VmmFlag", json_object_new_string(flag_names[m[i].flag]));
		if (m[i].spec)
			json_object_object_add(o, "VmmSpec", json_object_new_string(m[i].spec));
		if (m[i].image_volume)
			json_object_object_add(o, "VmmImageVolume", json_object_new_boolean(true));
		json_object_array_add(a, o);
	}
	return a;
}

json_object *container_mounts_docker_json(const struct container_mount *m, unsigned n)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; i < n; i++) {
		json_object *o;

		if (m[i].flag == MOUNT_FLAG_TMPFS)
			continue;	/* docker shows --tmpfs in HostConfig.Tmpfs only */
		o = json_object_new_object();
		json_object_object_add(o, "Type", json_object_new_string(type_names[m[i].type]));
		if (m[i].name)
			json_object_object_add(o, "Name", json_object_new_string(m[i].name));
		json_object_object_add(o, "Source", json_object_new_string(m[i].source ? m[i].source : ""));
		json_object_object_add(o, "Destination", json_object_new_string(m[i].target));
		if (m[i].type == MOUNT_VOLUME)
			json_object_object_add(o, "Driver", json_object_new_string("local"));
		json_object_object_add(o, "Mode", json_object_new_string(m[i].read_only ? "ro" : ""));
		json_object_object_add(o, "RW", json_object_new_boolean(!m[i].read_only));
		json_object_object_add(o, "Propagation", json_object_new_string(m[i].type == MOUNT_BIND ? "rprivate" : ""));
		json_object_array_add(a, o);
	}
	return a;
}

/* One HostConfig.Mounts entry, docker's mount.Mount. */
static json_object *host_mount_json(const struct container_mount *m)
{
	json_object *o = json_object_new_object(), *opts;

	json_object_object_add(o, "Type", json_object_new_string(type_names[m->type]));
	if (m->type == MOUNT_BIND || (m->type == MOUNT_VOLUME && !m->anonymous))
		json_object_object_add(o, "Source", json_object_new_string(m->type == MOUNT_BIND ? m->source : m->name));
	json_object_object_add(o, "Target", json_object_new_string(m->target));
	if (m->read_only)
		json_object_object_add(o, "ReadOnly", json_object_new_boolean(true));
	if (m->type == MOUNT_VOLUME && m->nocopy) {
		opts = json_object_new_object();
		json_object_object_add(opts, "NoCopy", json_object_new_boolean(true));
		json_object_object_add(o, "VolumeOptions", opts);
	}
	if (m->type == MOUNT_TMPFS && (m->tmpfs_size || m->tmpfs_mode)) {
		opts = json_object_new_object();
		if (m->tmpfs_size)
			json_object_object_add(opts, "SizeBytes", json_object_new_int64(m->tmpfs_size));
		if (m->tmpfs_mode)
			json_object_object_add(opts, "Mode", json_object_new_int64(m->tmpfs_mode));
		json_object_object_add(o, "TmpfsOptions", opts);
	}
	return o;
}

void container_mounts_docker_config(const struct container_mount *m, unsigned n, json_object *host,
				    json_object *config)
{
	json_object *binds = NULL, *mounts = NULL, *tmpfs = NULL, *volumes = NULL;

	for (unsigned i = 0; i < n; i++) {
		const char *colon;

		switch (m[i].flag) {
		case MOUNT_FLAG_VOLUME:
			if (m[i].anonymous)
				break;	/* -v /path: docker's Config.Volumes, not a bind */
			if (!binds)
				binds = json_object_new_array();
			json_object_array_add(binds, json_object_new_string(m[i].spec ? m[i].spec : m[i].target));
			break;
		case MOUNT_FLAG_MOUNT:
			if (!mounts)
				mounts = json_object_new_array();
			json_object_array_add(mounts, host_mount_json(&m[i]));
			break;
		case MOUNT_FLAG_TMPFS:
			if (!tmpfs)
				tmpfs = json_object_new_object();
			colon = m[i].spec ? strchr(m[i].spec, ':') : NULL;
			json_object_object_add(tmpfs, m[i].target, json_object_new_string(colon ? colon + 1 : ""));
			break;
		case MOUNT_FLAG_NONE:
			break;
		}
		if (m[i].image_volume || (m[i].anonymous && m[i].flag != MOUNT_FLAG_MOUNT)) {
			if (!volumes)
				volumes = json_object_new_object();
			json_object_object_add(volumes, m[i].target, json_object_new_object());
		}
	}
	json_object_object_add(host, "Binds", binds);
	if (mounts)
		json_object_object_add(host, "Mounts", mounts);
	if (tmpfs)
		json_object_object_add(host, "Tmpfs", tmpfs);
	json_object_object_add(config, "Volumes", volumes);
}

static int parse_one(json_object *o, struct container_mount *m, struct error *e)
{
	const char *type = NULL, *name = NULL, *source = NULL, *target = NULL, *flag = NULL, *spec = NULL;
	bool rw = true;
	uint64_t v;
	bool present;
	int ret;

	if ((ret = jget_string(o, "Type", true, "config.Mounts[]", &type, e)) ||
	    (ret = jget_string(o, "Name", false, "config.Mounts[]", &name, e)) ||
	    (ret = jget_string(o, "Source", false, "config.Mounts[]", &source, e)) ||
	    (ret = jget_string(o, "Destination", true, "config.Mounts[]", &target, e)) ||
	    (ret = jget_bool(o, "RW", "config.Mounts[]", &rw, e)) ||
	    (ret = jget_bool(o, "Anonymous", "config.Mounts[]", &m->anonymous, e)) ||
	    (ret = jget_bool(o, "NoCopy", "config.Mounts[]", &m->nocopy, e)) ||
	    (ret = jget_u64(o, "TmpfsSize", false, UINT64_MAX, "config.Mounts[]", &m->tmpfs_size, &present, e)) ||
	    (ret = jget_u64(o, "TmpfsMode", false, 07777, "config.Mounts[]", &v, &present, e)) ||
	    (ret = jget_string(o, "VmmFlag", false, "config.Mounts[]", &flag, e)) ||
	    (ret = jget_string(o, "VmmSpec", false, "config.Mounts[]", &spec, e)) ||
	    (ret = jget_bool(o, "VmmImageVolume", "config.Mounts[]", &m->image_volume, e)))
		return ret;
	/* absent in configs older than it: MOUNT_FLAG_NONE */
	for (m->flag = MOUNT_FLAG_NONE; flag && m->flag <= MOUNT_FLAG_TMPFS && strcmp(flag_names[m->flag], flag); m->flag++)
		;
	if (m->flag > MOUNT_FLAG_TMPFS)
		return err_set(e, -EINVAL, "config.Mounts[].VmmFlag: '%s' unknown", flag);
	m->tmpfs_mode = present ? v : 0;
	for (m->type = 0; m->type < 3 && strcmp(type_names[m->type], type); m->type++)
		;
	if (m->type == 3)
		return err_set(e, -EINVAL, "config.Mounts[].Type: '%s' unknown", type);
	if (target[0] != '/' || strstr(target, ".."))
		return err_set(e, -EINVAL, "config.Mounts[].Destination: '%s' not absolute", target);
	if (m->type != MOUNT_TMPFS && (!source || source[0] != '/'))
		return err_set(e, -EINVAL, "config.Mounts[].Source: '%s' not absolute", source ? source : "");
	m->read_only = !rw;
	m->target = strdup(target);
	m->source = source ? strdup(source) : NULL;
	m->name = name ? strdup(name) : NULL;
	m->spec = spec ? strdup(spec) : NULL;
	return m->target ? 0 : err_set(e, -ENOMEM, "out of memory");
}

int container_mounts_parse(json_object *config, struct container_mount **out, unsigned *n,
			   struct error *e)
{
	json_object *a;
	struct container_mount *m;
	int ret = jget_array(config, "Mounts", false, CONTAINER_MOUNTS_MAX, "config", &a, e);

	*out = NULL;
	*n = 0;
	if (ret || !a)
		return ret;
	m = calloc(json_object_array_length(a) + 1, sizeof(*m));
	if (!m)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		if ((ret = parse_one(json_object_array_get_idx(a, i), &m[i], e))) {
			container_mounts_free(m, i + 1);
			return ret;
		}
	}
	*out = m;
	*n = json_object_array_length(a);
	return 0;
}

void container_mounts_free(struct container_mount *m, unsigned n)
{
	for (unsigned i = 0; m && i < n; i++) {
		free(m[i].name);
		free(m[i].source);
		free(m[i].target);
		free(m[i].spec);
	}
	free(m);
}

struct container_mount *container_mounts_copy(const struct container_mount *m, unsigned n)
{
	struct container_mount *c = calloc(n + 1, sizeof(*c));

	for (unsigned i = 0; c && i < n; i++) {
		c[i] = m[i];
		c[i].name = m[i].name ? strdup(m[i].name) : NULL;
		c[i].source = m[i].source ? strdup(m[i].source) : NULL;
		c[i].target = strdup(m[i].target);
		c[i].spec = m[i].spec ? strdup(m[i].spec) : NULL;
		if (!c[i].target || (m[i].name && !c[i].name) || (m[i].source && !c[i].source) ||
		    (m[i].spec && !c[i].spec)) {
			container_mounts_free(c, i + 1);
			return NULL;
		}
	}
	return c;
}
