/*
 * Named and anonymous volumes: $VMM_ROOT/volumes/NAME/_data is the folder a
 * container sees (shared through virtio-fs, as docker's local driver keeps
 * /var/lib/docker/volumes/NAME/_data), volume.json beside it says what it is.
 * docs/volumes.md says why volumes are host folders.
 */
#ifndef VMM_ENGINE_VOLUME_H
#define VMM_ENGINE_VOLUME_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/base/error.h"

struct volume {
	char name[256];
	char mountpoint[4096];	/* the _data folder */
	int64_t created;	/* seconds since the epoch */
	bool anonymous;		/* made for one container (-v /ctr, image VOLUME); rm -v and prune take it */
	char size[32];		/* --opt size as given ("" : none): a disk of that size behind _data */
	json_object *labels;	/* object of strings; owned */
};

struct volume_create_opts {
	const char *name;	/* NULL: a random 64-hex name (anonymous) */
	const char *const *labels;	/* "k=v", NULL-terminated, or NULL */
	const char *const *opts;	/* driver options "k=v": size=SIZE (volume-disk.h) */
	bool anonymous;
};

/* Create a volume, or return the existing one of that name (docker's create is idempotent). */
int volume_create(const char *root, const struct volume_create_opts *o, struct volume *v,
		  struct error *e);
/* -ENOENT with "no such volume: NAME" when there is none. */
int volume_get(const char *root, const char *name, struct volume *v, struct error *e);
/* Names of every volume, sorted; malloc'd NULL-terminated vector. */
int volume_list(const char *root, char ***names, struct error *e);
/*
 * Remove a volume and its data. Refused (-EBUSY, the containers named) while
 * a container, running or not, mounts it.
 */
int volume_remove(const char *root, const char *name, struct error *e);
/* IDs of the containers whose config mounts the volume: malloc'd NULL-terminated vector. */
int volume_users(const char *root, const char *name, char ***ids, struct error *e);
/* docker's inspect object for v (new reference). */
/*
 * docker volume prune: remove the anonymous volumes (all volumes with all) no
 * container uses, telling removed each name; *reclaimed: the bytes they held.
 */
int volume_prune(const char *root, bool all, void (*removed)(void *arg, const char *name), void *arg,
		 uint64_t *reclaimed, struct error *e);
json_object *volume_to_json(const struct volume *v);
void volume_free(struct volume *v);

#endif
