/* Image configs (OCI and docker): what to run, and the layers' diff_ids. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "images/oci/spec.h"
#include "vmm/base/strv.h"

#define STRV_MAX	65536	/* entries in Env, Cmd, ... */
#define HISTORY_MAX	4096

static int two(const char *s, int *out)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -EINVAL;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

int rfc3339_parse(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	int year = 0, mon, mday, hour, min, sec, oh, om;
	int64_t t;

	for (int i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		year = year * 10 + (s[i] - '0');
	}
	s += 4;
	if (*s++ != '-' || two(s, &mon) || s[2] != '-' || two(s + 3, &mday) ||
	    (s[5] != 'T' && s[5] != 't' && s[5] != ' ') || two(s + 6, &hour) || s[8] != ':' ||
	    two(s + 9, &min) || s[11] != ':' || two(s + 12, &sec))
		return -EINVAL;
	s += 14;
	if (mon < 1 || mon > 12 || mday < 1 || mday > 31 || hour > 23 || min > 59 || sec > 60)
		return -EINVAL;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		while (isdigit((unsigned char)*s))
			s++;
	}
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm);
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s == '-' ? -1 : 1;

		if (two(s + 1, &oh) || s[3] != ':' || two(s + 4, &om) || oh > 23 || om > 59)
			return -EINVAL;
		t -= sign * (oh * 3600 + om * 60);
		s += 6;
	} else {
		return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	*out = t;
	return 0;
}

void config_free(struct image_config *c)
{
	free(c->architecture);
	free(c->os);
	free(c->variant);
	free(c->created);
	free(c->author);
	strv_free(c->entrypoint);
	strv_free(c->cmd);
	strv_free(c->env);
	free(c->working_dir);
	free(c->user);
	free(c->stop_signal);
	free(c->ports);
	strv_free(c->volumes);
	strv_free(c->label_keys);
	strv_free(c->label_values);
	strv_free(c->diff_ids);
	for (size_t i = 0; i < c->n_history; i++) {
		free(c->history[i].created);
		free(c->history[i].created_by);
		free(c->history[i].author);
		free(c->history[i].comment);
	}
	free(c->history);
	memset(c, 0, sizeof(*c));
}

/* Copy an optional string field. */
static int str_field(json_object *o, const char *key, bool required, const char *ctx,
		     char **out, struct error *e)
{
	const char *s;
	int ret = jget_string(o, key, required, ctx, &s, e);

	*out = NULL;
	if (ret || !s)
		return ret;
	if (!(*out = strdup(s)))
		return err_set(e, -ENOMEM, "out of memory");
	return 0;
}

/* "80/tcp", "53/udp", "80" (tcp). */
static int port_parse(const char *key, struct image_port *p, struct error *e)
{
	const char *slash = strchr(key, '/');
	size_t n = slash ? (size_t)(slash - key) : strlen(key);
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return err_set(e, -EINVAL, "config.ExposedPorts: invalid port '%.32s'", key);
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)key[i]))
			return err_set(e, -EINVAL, "config.ExposedPorts: invalid port '%.32s'", key);
		v = v * 10 + (key[i] - '0');
	}
	if (v < 1 || v > 65535)
		return err_set(e, -EINVAL, "config.ExposedPorts: port out of range in '%.32s'", key);
	p->port = (uint16_t)v;
	if (!slash) {
		strcpy(p->proto, "tcp");
	} else if (!strcmp(slash + 1, "tcp") || !strcmp(slash + 1, "udp") ||
		   !strcmp(slash + 1, "sctp")) {
		strcpy(p->proto, slash + 1);
	} else {
		return err_set(e, -EINVAL, "config.ExposedPorts: unknown protocol in '%.32s'", key);
	}
	return 0;
}

static int object_keys(json_object *o, char ***out, struct error *e)
{
	size_t n = json_object_object_length(o), i = 0;
	char **v = calloc(n + 1, sizeof(*v));

	if (!v)
		return err_set(e, -ENOMEM, "out of memory");
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (!(v[i++] = strdup(key))) {
			strv_free(v);
			return err_set(e, -ENOMEM, "out of memory");
		}
	}
	*out = v;
	return 0;
}

static int container_config(json_object *cc, struct image_config *c, struct error *e)
{
	const char *ctx = "config";
	json_object *ports, *vols, *labels;
	int ret;

	if ((ret = str_field(cc, "User", false, ctx, &c->user, e)) ||
	    (ret = str_field(cc, "WorkingDir", false, ctx, &c->working_dir, e)) ||
	    (ret = str_field(cc, "StopSignal", false, ctx, &c->stop_signal, e)) ||
	    (ret = jget_strv(cc, "Entrypoint", STRV_MAX, ctx, &c->entrypoint, e)) ||
	    (ret = jget_strv(cc, "Cmd", STRV_MAX, ctx, &c->cmd, e)) ||
	    (ret = jget_strv(cc, "Env", STRV_MAX, ctx, &c->env, e)) ||
	    (ret = jget_object(cc, "ExposedPorts", false, ctx, &ports, e)) ||
	    (ret = jget_object(cc, "Volumes", false, ctx, &vols, e)) ||
	    (ret = jget_object(cc, "Labels", false, ctx, &labels, e)))
		return ret;
	for (size_t i = 0; c->env && c->env[i]; i++) {
		const char *eq = strchr(c->env[i], '=');

		if (!eq || eq == c->env[i])
			return err_set(e, -EINVAL, "config.Env[%zu]: want KEY=value, got '%.64s'", i, c->env[i]);
	}
	if (ports) {
		size_t n = json_object_object_length(ports), i = 0;

		if (n > 65536)
			return err_set(e, -EINVAL, "config.ExposedPorts: too many ports");
		c->ports = calloc(n + 1, sizeof(*c->ports));
		if (!c->ports)
			return err_set(e, -ENOMEM, "out of memory");
		json_object_object_foreach(ports, key, val) {
			(void)val;
			if ((ret = port_parse(key, &c->ports[i], e)))
				return ret;
			c->n_ports = ++i;
		}
	}
	if (vols && (ret = object_keys(vols, &c->volumes, e)))
		return ret;
	if (labels) {
		size_t n = json_object_object_length(labels), i = 0;

		c->label_keys = calloc(n + 1, sizeof(char *));
		c->label_values = calloc(n + 1, sizeof(char *));
		if (!c->label_keys || !c->label_values)
			return err_set(e, -ENOMEM, "out of memory");
		json_object_object_foreach(labels, key, val) {
			char name[96];
			const char *s;

			snprintf(name, sizeof(name), "config.Labels[\"%.64s\"]", key);
			if ((ret = jstring(val, name, &s, e)))
				return ret;
			c->label_keys[i] = strdup(key);
			c->label_values[i] = strdup(s);
			if (!c->label_keys[i++] || !c->label_values[i - 1])
				return err_set(e, -ENOMEM, "out of memory");
		}
	}
	return 0;
}

static int history_parse(json_object *arr, struct image_config *c, struct error *e)
{
	size_t n = json_object_array_length(arr);

	c->history = calloc(n + 1, sizeof(*c->history));
	if (!c->history)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *h = json_object_array_get_idx(arr, i);
		struct image_history *out = &c->history[i];
		char ctx[32];
		int ret;

		snprintf(ctx, sizeof(ctx), "history[%zu]", i);
		if (!json_object_is_type(h, json_type_object))
			return err_set(e, -EINVAL, "%s: want an object", ctx);
		c->n_history = i + 1;
		if ((ret = str_field(h, "created", false, ctx, &out->created, e)) ||
		    (ret = str_field(h, "created_by", false, ctx, &out->created_by, e)) ||
		    (ret = str_field(h, "author", false, ctx, &out->author, e)) ||
		    (ret = str_field(h, "comment", false, ctx, &out->comment, e)) ||
		    (ret = jget_bool(h, "empty_layer", ctx, &out->empty_layer, e)))
			return ret;
	}
	return 0;
}

int config_parse(const char *buf, size_t len, struct image_config *c, struct error *e)
{
	json_object *root, *cc, *rootfs, *hist;
	const char *type;
	int ret;

	memset(c, 0, sizeof(*c));
	if (len > CONFIG_MAX_SIZE)
		return err_set(e, -EINVAL, "config larger than %u bytes", CONFIG_MAX_SIZE);
	root = json_parse_object(buf, len, e);
	if (!root)
		return -EINVAL;
	if ((ret = str_field(root, "architecture", true, "", &c->architecture, e)) ||
	    (ret = str_field(root, "os", true, "", &c->os, e)) ||
	    (ret = str_field(root, "variant", false, "", &c->variant, e)) ||
	    (ret = str_field(root, "created", false, "", &c->created, e)) ||
	    (ret = str_field(root, "author", false, "", &c->author, e)) ||
	    (ret = jget_object(root, "config", false, "", &cc, e)) ||
	    (ret = jget_object(root, "rootfs", true, "", &rootfs, e)) ||
	    (ret = jget_array(root, "history", false, HISTORY_MAX, "", &hist, e)))
		goto out;
	if (c->created && rfc3339_parse(c->created, &c->created_time)) {
		ret = err_set(e, -EINVAL, "created: not an RFC 3339 time: '%.40s'", c->created);
		goto out;
	}
	if (c->created_time < 0)
		c->created_time = 0;
	if (cc && (ret = container_config(cc, c, e)))
		goto out;
	if ((ret = jget_string(rootfs, "type", true, "rootfs", &type, e)))
		goto out;
	if (strcmp(type, "layers")) {
		ret = err_set(e, -EINVAL, "rootfs.type: want \"layers\", got '%.32s'", type);
		goto out;
	}
	if ((ret = jget_strv(rootfs, "diff_ids", LAYERS_MAX, "rootfs", &c->diff_ids, e)))
		goto out;
	if (!c->diff_ids && !(c->diff_ids = calloc(1, sizeof(char *)))) {
		ret = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; c->diff_ids[i]; i++) {
		if (!digest_valid(c->diff_ids[i])) {
			ret = err_set(e, -EINVAL, "rootfs.diff_ids[%zu]: invalid digest '%.80s'", i, c->diff_ids[i]);
			goto out;
		}
	}
	if (hist)
		ret = history_parse(hist, c, e);
out:
	json_object_put(root);
	if (ret)
		config_free(c);
	return ret;
}
