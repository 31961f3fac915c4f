#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/strv.h"

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

char **strv_dup(char *const *v)
{
	size_t n = strv_len(v);
	char **out;

	if (!v)
		return NULL;
	out = calloc(n + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		out[i] = strdup(v[i]);
		if (!out[i]) {
			strv_free(out);
			return NULL;
		}
	}
	return out;
}

int strv_push(char ***v, const char *s)
{
	size_t n = strv_len(*v);
	char **nv, *copy = strdup(s);

	if (!copy)
		return -ENOMEM;
	nv = realloc(*v, (n + 2) * sizeof(*nv));
	if (!nv) {
		free(copy);
		return -ENOMEM;
	}
	nv[n] = copy;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

bool strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

int strv_add_once(char ***v, const char *s)
{
	return strv_contains(*v, s) ? 0 : strv_push(v, s);
}

char *strv_remove(char **v, size_t i)
{
	char *s = v[i];

	for (; v[i]; i++)
		v[i] = v[i + 1];
	return s;
}

json_object *strv_to_json(char *const *v)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; v && v[i]; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}
