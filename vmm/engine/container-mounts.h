/*
 * A container's mounts besides its root (docs/volumes.md), as its config.json
 * keeps them: docker's "Mounts" entries (Type, Name, Source, Destination, RW)
 * plus what vmm needs (anonymous, tmpfs size and mode).
 */
#ifndef VMM_ENGINE_CONTAINER_MOUNTS_H
#define VMM_ENGINE_CONTAINER_MOUNTS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/base/error.h"
#include "vmm/engine/mount-spec.h"

#define CONTAINER_MOUNTS_MAX	8	/* the machine's shares, tmpfs included */

struct container_mount {
	enum mount_type type;
	char *name;		/* volume: its name; NULL otherwise */
	char *source;		/* host folder: the bind source, or the volume's _data */
	char *target;		/* absolute path in the container */
	bool read_only;
	bool anonymous;		/* a volume made for this container: rm -v and --rm take it */
	bool nocopy;		/* volume: no copy of the image's content into it while empty */
	uint64_t tmpfs_size;	/* bytes, 0: the guest's default */
	unsigned tmpfs_mode;	/* 0: 01777 */
	enum mount_flag flag;	/* -v, --mount, --tmpfs; NONE: the image's VOLUME, --volumes-from, an old config */
	char *spec;		/* the flag's argument as given (HostConfig.Binds, HostConfig.Tmpfs), or NULL */
	bool image_volume;	/* the target is one of the image's VOLUMEs (Config.Volumes) */
};

/* The "Mounts" array of config.json: docker inspect's form plus what vmm needs (Anonymous, Vmm...). */
json_object *container_mounts_to_json(const struct container_mount *m, unsigned n);
/*
 * What docker shows for them: "Mounts" (its MountPoint keys only; --tmpfs
 * mounts are not there), and into host and config, HostConfig.Binds (-v as
 * given), HostConfig.Mounts (--mount), HostConfig.Tmpfs (--tmpfs) and
 * Config.Volumes (the image's VOLUMEs and -v /path).
 */
json_object *container_mounts_docker_json(const struct container_mount *m, unsigned n);
void container_mounts_docker_config(const struct container_mount *m, unsigned n, json_object *host,
				    json_object *config);
/* Parse it back (absent: none). 0 or -errno with e. */
int container_mounts_parse(json_object *config, struct container_mount **m, unsigned *n,
			   struct error *e);
/* A deep copy (NULL when out of memory). */
struct container_mount *container_mounts_copy(const struct container_mount *m, unsigned n);
void container_mounts_free(struct container_mount *m, unsigned n);

#endif
