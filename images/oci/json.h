/*
 * json-c helpers for documents from images, which are hostile: bounded size and
 * depth, exact types, no NUL bytes hidden in strings. Errors are written into
 * a caller's buffer ("config.Env[2]: want a string") for the caller to log once.
 */
#ifndef VMM_IMAGES_OCI_JSON_H
#define VMM_IMAGES_OCI_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH_MAX	64

struct jerr {
	char msg[256];
};

/* Set e->msg printf-style; returns -EINVAL for "return jfail(...)". */
int jfail(struct jerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a whole buffer that must hold exactly one JSON object. NULL on error. */
json_object *json_parse_object(const char *buf, size_t len, struct jerr *e);
/* The same for any JSON value (docker's manifest.json is an array). */
json_object *json_parse_any(const char *buf, size_t len, struct jerr *e);

/* Serialize compactly (no spaces, "/" unescaped): the form we hash. */
const char *json_compact(json_object *o);

/*
 * Typed field access. Absent (or JSON null when allow_null) gives 0 with *out
 * left NULL unless the field is required; a wrong type is an error naming ctx.key.
 */
int jget_string(json_object *o, const char *key, bool required, const char *ctx,
		const char **out, struct jerr *e);
int jget_u64(json_object *o, const char *key, bool required, uint64_t max, const char *ctx,
	     uint64_t *out, bool *present, struct jerr *e);
int jget_bool(json_object *o, const char *key, const char *ctx, bool *out, struct jerr *e);
int jget_object(json_object *o, const char *key, bool required, const char *ctx,
		json_object **out, struct jerr *e);
int jget_array(json_object *o, const char *key, bool required, size_t max, const char *ctx,
	       json_object **out, struct jerr *e);
/* A string value without embedded NULs. */
int jstring(json_object *v, const char *ctx, const char **out, struct jerr *e);
/*
 * An array of strings (or null/absent: *out = NULL) as a malloc'd NULL-terminated
 * vector of strdup'd strings.
 */
int jget_strv(json_object *o, const char *key, size_t max, const char *ctx, char ***out,
	      struct jerr *e);

void strv_free(char **v);
size_t strv_len(char *const *v);
char **strv_dup(char *const *v);

#endif
