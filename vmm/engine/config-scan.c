/* Reading every container's config for what it uses (see config-scan.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/base/json.h"
#include "vmm/engine/config-scan.h"

#define CONFIG_MAX	(1 << 20)

static bool config_matches(const char *root, const char *id,
			   bool (*match)(json_object *, const void *), const void *arg)
{
	char path[4096], *data;
	json_object *o;
	bool found;
	size_t len;

	if ((size_t)snprintf(path, sizeof(path), "%s/containers/%s/config.json", root, id) >= sizeof(path) ||
	    read_file(AT_FDCWD, path, CONFIG_MAX, &data, &len))
		return false;
	o = json_tokener_parse(data);
	free(data);
	found = o && match(o, arg);
	json_object_put(o);
	return found;
}

int config_scan(const char *root, bool (*match)(json_object *config, const void *arg), const void *arg,
		char ***ids, struct error *e)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	*ids = calloc(1, sizeof(char *));
	if (!*ids)
		return err_set(e, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/containers", root);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : err_sys(e, -errno, "%s", path);
	while (!ret && (de = readdir(d)))
		if (de->d_name[0] != '.' && config_matches(root, de->d_name, match, arg) &&
		    strv_push(ids, de->d_name))
			ret = err_set(e, -ENOMEM, "out of memory");
	closedir(d);
	return ret;
}

json_object *labels_to_json(const char *const *labels, struct error *e)
{
	json_object *o = json_object_new_object();

	for (const char *const *l = labels; o && l && *l; l++) {
		const char *eq = strchr(*l, '=');
		size_t klen = eq ? (size_t)(eq - *l) : strlen(*l);
		char key[256];

		if (!klen || klen >= sizeof(key) || json_object_object_length(o) == LABELS_MAX) {
			json_object_put(o);
			err_set(e, -EINVAL, "bad label '%s' (KEY=VALUE, at most %d labels)", *l, LABELS_MAX);
			return NULL;
		}
		snprintf(key, sizeof(key), "%.*s", (int)klen, *l);
		json_object_object_add(o, key, json_object_new_string(eq ? eq + 1 : ""));
	}
	return o;
}

int labels_parse(json_object *o, const char *ctx, char ***out, struct error *e)
{
	json_object *l;
	int ret = jget_object(o, "Labels", false, ctx, &l, e);

	*out = NULL;
	return ret || !l ? ret : labels_from_json(l, ctx, out, e);
}

int labels_from_json(json_object *l, const char *ctx, char ***out, struct error *e)
{
	*out = NULL;
	if (json_object_object_length(l) > LABELS_MAX)
		return err_set(e, -EINVAL, "%s.Labels: more than %d", ctx, LABELS_MAX);
	json_object_object_foreach(l, k, v) {
		const char *val;
		char *kv = NULL;
		int ret;

		if (!*k || strlen(k) > 255)
			ret = err_set(e, -EINVAL, "%s.Labels: a key empty or over 255 bytes", ctx);
		else if (!(ret = jstring(v, "Labels", &val, e)) && asprintf(&kv, "%s=%s", k, val) < 0)
			kv = NULL, ret = err_set(e, -ENOMEM, "out of memory");
		else if (!ret && strv_push(out, kv))
			ret = err_set(e, -ENOMEM, "out of memory");
		free(kv);
		if (ret) {
			strv_free(*out);
			*out = NULL;
			return ret;
		}
	}
	return 0;
}

bool labels_match(char *const *labels, const char *filter)
{
	const char *eq = strchr(filter, '=');
	size_t klen = eq ? (size_t)(eq - filter) : strlen(filter);

	for (char *const *l = labels; l && *l; l++) {
		if (strncmp(*l, filter, klen) || (*l)[klen] != '=')
			continue;
		if (!eq || !strcmp(*l + klen + 1, eq + 1))
			return true;
	}
	return false;
}

void config_ids_line(char *const *ids, char *buf, size_t len)
{
	buf[0] = '\0';
	for (char *const *id = ids; *id; id++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%.12s", id == ids ? "" : ", ", *id);
}
