/* Containers as docker shows them in JSON: inspect (CLI and API). */
#ifndef VMM_ENGINE_CONTAINER_JSON_H
#define VMM_ENGINE_CONTAINER_JSON_H

#include <json-c/json.h>
#include <stdint.h>

struct container;
struct container_state;

/* docker inspect's object: Id, Created, State, Config, HostConfig, Mounts, NetworkSettings. */
json_object *container_to_json(const struct container *ct);
/* NetworkSettings.Networks as inspect shows it (docker's container list has it too). */
struct container_state;
json_object *container_networks_json(const struct container *ct, const struct container_state *st);
/* A realtime in ns as docker's RFC 3339 string ("0001-01-01T00:00:00Z" for 0). */
json_object *json_time_ns(int64_t ns);
/* docker ps's STATUS: "Created", "Up 5 minutes", "Exited (0) 2 hours ago". */
void container_status_text(const struct container_state *st, char *buf, size_t len);

#endif
