/*
 * Which containers use a volume or a network: their config.json, read as
 * data (every container's, running or not), answers. Also the "k=v" labels
 * that volumes, networks and containers carry.
 */
#ifndef VMM_ENGINE_CONFIG_SCAN_H
#define VMM_ENGINE_CONFIG_SCAN_H

#include <json-c/json.h>
#include <stdbool.h>

#include "vmm/base/error.h"

#define LABELS_MAX	64

/*
 * IDs of the containers whose config.json makes match() true: a malloc'd
 * NULL-terminated vector (empty when there are no containers).
 */
int config_scan(const char *root, bool (*match)(json_object *config, const void *arg), const void *arg,
		char ***ids, struct error *e);
/* "k=v" (or "k") strings as a JSON object; NULL with e for a bad one. */
json_object *labels_to_json(const char *const *labels, struct error *e);
/* o's "Labels" object ({"k": "v"}) as "k=v" strings (*out NULL when none). 0 or -EINVAL with e naming ctx. */
int labels_parse(json_object *o, const char *ctx, char ***out, struct error *e);
/* A labels object ({"k": "v"}) as "k=v" strings. The same errors. */
int labels_from_json(json_object *labels, const char *ctx, char ***out, struct error *e);
/* docker's label filter: does labels hold "k" (any value) or exactly "k=v"? */
bool labels_match(char *const *labels, const char *filter);
/* "IDs: a, b" shortened to docker's 12 characters, for messages. */
void config_ids_line(char *const *ids, char *buf, size_t len);

#endif
