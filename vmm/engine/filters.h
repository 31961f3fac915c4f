/*
 * docker's --filter KEY=VALUE sets, for ps, events (and their Engine API
 * forms): values of one key are alternatives, different keys must all hold.
 */
#ifndef VMM_ENGINE_FILTERS_H
#define VMM_ENGINE_FILTERS_H

#include <stdbool.h>

struct error;

#define FILTER_KEYS_MAX 8

struct filters {
	const char *const *keys;	/* the keys allowed, NULL-terminated (at most FILTER_KEYS_MAX) */
	char **vals[FILTER_KEYS_MAX];	/* per key: its values, NULL-terminated, or NULL */
};

enum filter_match { FILTER_EXACT, FILTER_PREFIX, FILTER_SUBSTRING };

/* Add KEY=VALUE. 0, or -EINVAL with e naming the allowed keys. */
int filters_add(struct filters *f, const char *kv, struct error *e);
/* Add key's value (the API's JSON form). The same errors. */
int filters_add_value(struct filters *f, const char *key, const char *value, struct error *e);
/* Is key one of f's keys? */
bool filters_has_key(const struct filters *f, const char *key);
/* The values given for key, NULL when none. */
char *const *filters_get(const struct filters *f, const char *key);
/* No values for key, or one of them matches s. */
bool filters_allow(const struct filters *f, const char *key, const char *s, enum filter_match how);
/* docker's label filter: every label=KEY or label=KEY=VALUE holds for labels ("k=v" strings). */
bool filters_allow_labels(const struct filters *f, char *const *labels);
void filters_free(struct filters *f);

#endif
