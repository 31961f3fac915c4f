/* docker's filter sets (filters.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/engine/config-scan.h"
#include "vmm/engine/filters.h"

static int key_index(const struct filters *f, const char *key, size_t len)
{
	for (int i = 0; i < FILTER_KEYS_MAX && f->keys[i]; i++)
		if (strlen(f->keys[i]) == len && !strncmp(f->keys[i], key, len))
			return i;
	return -1;
}

static int refuse(const struct filters *f, const char *what, struct error *e)
{
	char keys[256] = "";

	for (int i = 0; i < FILTER_KEYS_MAX && f->keys[i]; i++)
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%s%s=", i ? ", " : "", f->keys[i]);
	return err_set(e, -EINVAL, "invalid filter '%s' (%s)", what, keys);
}

int filters_add_value(struct filters *f, const char *key, const char *value, struct error *e)
{
	int i = key_index(f, key, strlen(key));

	if (i < 0)
		return refuse(f, key, e);
	return strv_push(&f->vals[i], value) ? err_set(e, -ENOMEM, "out of memory") : 0;
}

int filters_add(struct filters *f, const char *kv, struct error *e)
{
	const char *eq = strchr(kv, '=');
	int i = eq ? key_index(f, kv, eq - kv) : -1;

	if (i < 0)
		return refuse(f, kv, e);
	return strv_push(&f->vals[i], eq + 1) ? err_set(e, -ENOMEM, "out of memory") : 0;
}

bool filters_has_key(const struct filters *f, const char *key)
{
	return key_index(f, key, strlen(key)) >= 0;
}

char *const *filters_get(const struct filters *f, const char *key)
{
	int i = key_index(f, key, strlen(key));

	return i < 0 ? NULL : f->vals[i];
}

bool filters_allow(const struct filters *f, const char *key, const char *s, enum filter_match how)
{
	char *const *v = filters_get(f, key);

	if (!v)
		return true;
	for (; *v; v++)
		if ((how == FILTER_EXACT && !strcmp(s, *v)) || (how == FILTER_PREFIX && !strncmp(s, *v, strlen(*v))) ||
		    (how == FILTER_SUBSTRING && strstr(s, *v)))
			return true;
	return false;
}

bool filters_allow_labels(const struct filters *f, char *const *labels)
{
	for (char *const *l = filters_get(f, "label"); l && *l; l++)
		if (!labels_match(labels, *l))
			return false;
	return true;
}

void filters_free(struct filters *f)
{
	for (int i = 0; i < FILTER_KEYS_MAX; i++) {
		strv_free(f->vals[i]);
		f->vals[i] = NULL;
	}
}
