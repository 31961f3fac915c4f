/*
 * json-c helpers for documents that may be hostile (images, state files,
 * control requests): bounded size and depth, exact types, no NUL bytes
 * hidden in strings. Errors fill a struct error ("config.Env[2]: want a
 * string", -EINVAL) for the caller to report with its context.
 */
#ifndef VMM_BASE_JSON_H
#define VMM_BASE_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/base/error.h"

#define JSON_DEPTH_MAX	64

/* Parse a whole buffer that must hold exactly one JSON object. NULL on error. */
json_object *json_parse_object(const char *buf, size_t len, struct error *e);
/* The same for any JSON value (docker's manifest.json is an array). */
json_object *json_parse_any(const char *buf, size_t len, struct error *e);

/* Serialize compactly (no spaces, "/" unescaped): the form we hash. */
const char *json_compact(json_object *o);
/* Copy from's field from_key into to as key (nothing when from has none). */
void json_copy_field(json_object *to, const char *key, json_object *from, const char *from_key);
/* to[key] = v as a JSON integer (INT64_MAX above it). */
void json_add_u64(json_object *to, const char *key, uint64_t v);

/*
 * Typed field access. Absent (or JSON null when allow_null) gives 0 with *out
 * left NULL unless the field is required; a wrong type is an error naming ctx.key.
 */
int jget_string(json_object *o, const char *key, bool required, const char *ctx,
		const char **out, struct error *e);
int jget_u64(json_object *o, const char *key, bool required, uint64_t max, const char *ctx,
	     uint64_t *out, bool *present, struct error *e);
int jget_bool(json_object *o, const char *key, const char *ctx, bool *out, struct error *e);
int jget_object(json_object *o, const char *key, bool required, const char *ctx,
		json_object **out, struct error *e);
int jget_array(json_object *o, const char *key, bool required, size_t max, const char *ctx,
	       json_object **out, struct error *e);
/* A string value without embedded NULs. */
int jstring(json_object *v, const char *ctx, const char **out, struct error *e);
/*
 * An array of strings (or null/absent: *out = NULL) as a malloc'd NULL-terminated
 * vector of strdup'd strings.
 */
int jget_strv(json_object *o, const char *key, size_t max, const char *ctx, char ***out,
	      struct error *e);

#endif
