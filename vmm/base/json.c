/* Strict, bounded reading of JSON documents that may be hostile. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/json.h"
#include "vmm/base/strv.h"

json_object *json_parse_any(const char *buf, size_t len, struct error *e)
{
	struct json_tokener *tok;
	json_object *o;
	size_t end;

	if (len > INT32_MAX) {
		err_set(e, -EINVAL, "document too large");
		return NULL;
	}
	tok = json_tokener_new_ex(JSON_DEPTH_MAX);
	if (!tok) {
		err_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (!o) {
		enum json_tokener_error err = json_tokener_get_error(tok);

		err_set(e, -EINVAL, "malformed JSON: %s", err == json_tokener_continue ?
		      "unexpected end of data" : json_tokener_error_desc(err));
		json_tokener_free(tok);
		return NULL;
	}
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	for (; end < len; end++) {
		if (buf[end] != ' ' && buf[end] != '\n' && buf[end] != '\r' && buf[end] != '\t') {
			err_set(e, -EINVAL, "malformed JSON: data after the document");
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

json_object *json_parse_object(const char *buf, size_t len, struct error *e)
{
	json_object *o = json_parse_any(buf, len, e);

	if (o && !json_object_is_type(o, json_type_object)) {
		err_set(e, -EINVAL, "want a JSON object");
		json_object_put(o);
		return NULL;
	}
	return o;
}

const char *json_compact(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

int jstring(json_object *v, const char *ctx, const char **out, struct error *e)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return err_set(e, -EINVAL, "%s: want a string", ctx);
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return err_set(e, -EINVAL, "%s: string contains a NUL byte", ctx);
	*out = s;
	return 0;
}

/* Look up key; *v NULL when absent or null. */
static int field(json_object *o, const char *key, bool required, const char *ctx,
		 json_object **v, struct error *e)
{
	*v = NULL;
	json_object_object_get_ex(o, key, v);
	if (!*v && required)
		return err_set(e, -EINVAL, "%s%s%s: missing", ctx, *ctx ? "." : "", key);
	return 0;
}

/* Field key of type t (want: its name for the error), or NULL when absent and not required. */
static int typed_field(json_object *o, const char *key, bool required, const char *ctx, json_type t,
		       const char *want, json_object **out, struct error *e)
{
	json_object *v;
	int ret;

	*out = NULL;
	ret = field(o, key, required, ctx, &v, e);
	if (ret || !v)
		return ret;
	if (!json_object_is_type(v, t))
		return err_set(e, -EINVAL, "%s%s%s: want %s", ctx, *ctx ? "." : "", key, want);
	*out = v;
	return 0;
}

int jget_string(json_object *o, const char *key, bool required, const char *ctx,
		const char **out, struct error *e)
{
	char name[160];
	json_object *v;
	int ret;

	*out = NULL;
	ret = field(o, key, required, ctx, &v, e);
	if (ret || !v)
		return ret;
	snprintf(name, sizeof(name), "%s%s%s", ctx, *ctx ? "." : "", key);
	return jstring(v, name, out, e);
}

int jget_u64(json_object *o, const char *key, bool required, uint64_t max, const char *ctx,
	     uint64_t *out, bool *present, struct error *e)
{
	json_object *v;
	int64_t n;
	int ret;

	if (present)
		*present = false;
	ret = typed_field(o, key, required, ctx, json_type_int, "an integer", &v, e);
	if (ret || !v)
		return ret;
	errno = 0;
	n = json_object_get_int64(v);
	/* json-c clamps out-of-range numbers; a uint64 above INT64_MAX is refused too */
	if (n < 0 || (uint64_t)n > max || n == INT64_MAX)
		return err_set(e, -EINVAL, "%s%s%s: out of range", ctx, *ctx ? "." : "", key);
	*out = (uint64_t)n;
	if (present)
		*present = true;
	return 0;
}

int jget_bool(json_object *o, const char *key, const char *ctx, bool *out, struct error *e)
{
	json_object *v;
	int ret = typed_field(o, key, false, ctx, json_type_boolean, "true or false", &v, e);

	*out = v && json_object_get_boolean(v);
	return ret;
}

int jget_object(json_object *o, const char *key, bool required, const char *ctx,
		json_object **out, struct error *e)
{
	return typed_field(o, key, required, ctx, json_type_object, "an object", out, e);
}

int jget_array(json_object *o, const char *key, bool required, size_t max, const char *ctx,
	       json_object **out, struct error *e)
{
	int ret = typed_field(o, key, required, ctx, json_type_array, "an array", out, e);

	if (!ret && *out && json_object_array_length(*out) > max) {
		*out = NULL;
		return err_set(e, -EINVAL, "%s%s%s: more than %zu entries", ctx, *ctx ? "." : "", key, max);
	}
	return ret;
}

int jget_strv(json_object *o, const char *key, size_t max, const char *ctx, char ***out,
	      struct error *e)
{
	json_object *arr;
	char **v;
	size_t n;
	int ret;

	*out = NULL;
	ret = jget_array(o, key, false, max, ctx, &arr, e);
	if (ret || !arr)
		return ret;
	n = json_object_array_length(arr);
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char name[160];
		const char *s;

		snprintf(name, sizeof(name), "%s%s%s[%zu]", ctx, *ctx ? "." : "", key, i);
		ret = jstring(json_object_array_get_idx(arr, i), name, &s, e);
		if (!ret && !(v[i] = strdup(s)))
			ret = err_set(e, -ENOMEM, "out of memory");
		if (ret) {
			strv_free(v);
			return ret;
		}
	}
	*out = v;
	return 0;
}

void json_copy_field(json_object *to, const char *key, json_object *from, const char *from_key)
{
	json_object *v;

	if (json_object_object_get_ex(from, from_key, &v))
		json_object_object_add(to, key, json_object_get(v));
}

void json_add_u64(json_object *to, const char *key, uint64_t v)
{
	json_object_object_add(to, key, json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v));
}
