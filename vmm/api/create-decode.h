/*
 * POST /containers/create's body (docker's ContainerConfig with HostConfig
 * and NetworkingConfig) decoded into the engine's create_config, through the
 * same option decoders as vmm run's flags. The body is hostile: every field
 * has an exact type and the engine's own checks still apply.
 */
#ifndef VMM_API_CREATE_DECODE_H
#define VMM_API_CREATE_DECODE_H

#include <json-c/json.h>

#include "vmm/engine/create.h"
#include "vmm/engine/run-mounts.h"
#include "vmm/engine/run-net.h"

struct error;

struct api_create {
	struct create_config c;		/* points into the fields below */
	char *image, *name, *entrypoint, *workdir, *user, *hostname;
	char **cmd, **env, **labels;
	struct run_net_opts net;
	struct run_mount_opts mounts;
};

/* name: the ?name= query (NULL: a random one). 0, or -EINVAL with e naming the field. */
int api_decode_create(json_object *body, const char *name, struct api_create *out, struct error *e);
void api_create_free(struct api_create *a);

/*
 * RestartPolicy {"Name", "MaximumRetryCount"} of o (HostConfig, an update's body) into out;
 * given: a Name was there (not ""). 0, or -EINVAL with e.
 */
struct restart_policy;
int api_restart_policy(json_object *o, struct restart_policy *out, bool *given, struct error *e);

/* PidsLimit of o (HostConfig, an update's body; ctx names it): a positive limit, else 0 (none). */
int api_pids_limit(json_object *o, const char *ctx, int64_t *out, bool *given, struct error *e);

#endif
