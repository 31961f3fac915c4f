/* NULL-terminated vectors of malloc'd strings (argv, env, tags). */
#ifndef VMM_BASE_STRV_H
#define VMM_BASE_STRV_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

void strv_free(char **v);
size_t strv_len(char *const *v);
/* A deep copy; NULL for NULL (and on allocation failure). */
char **strv_dup(char *const *v);
/* Append a copy of s (*v may be NULL). 0 or -ENOMEM. */
int strv_push(char ***v, const char *s);
/* The same unless s is there already. */
bool strv_contains(char *const *v, const char *s);
int strv_add_once(char ***v, const char *s);
/* Take out v[i] (i < strv_len(v)), the rest moving up: it is the caller's now. */
char *strv_remove(char **v, size_t i);
/* A JSON array of the strings (an empty array for NULL). */
json_object *strv_to_json(char *const *v);

#endif
