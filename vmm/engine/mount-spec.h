/*
 * What a container mounts besides its root: docker's -v, --mount and --tmpfs
 * (docs/volumes.md). Parsing only checks the syntax and the container side;
 * the host side (does the folder exist, is the volume there) is checked when
 * the container is created.
 */
#ifndef VMM_ENGINE_MOUNT_SPEC_H
#define VMM_ENGINE_MOUNT_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/base/error.h"

#define MOUNT_TARGET_MAX	4096
#define MOUNT_VOLUME_OPTS_MAX	16

enum mount_type { MOUNT_BIND, MOUNT_VOLUME, MOUNT_TMPFS };
/* Which flag asked for a mount: docker's inspect shows each in its own place (Binds, Mounts, Tmpfs). */
enum mount_flag { MOUNT_FLAG_NONE, MOUNT_FLAG_VOLUME, MOUNT_FLAG_MOUNT, MOUNT_FLAG_TMPFS };

struct mount_spec {
	enum mount_type type;
	char *source;		/* bind: absolute host path; volume: its name, NULL: anonymous */
	char *target;		/* absolute path in the container, cleaned */
	bool read_only;
	bool create_source;	/* -v: a missing host folder is created (--mount refuses it) */
	bool nocopy;		/* volume: do not copy the image's content into a new volume */
	uint64_t tmpfs_size;	/* bytes, 0: the guest kernel's default (half of RAM) */
	unsigned tmpfs_mode;	/* 0: 01777 */
	char *volume_opts[MOUNT_VOLUME_OPTS_MAX + 1];	/* "k=v", NULL-terminated */
	enum mount_flag flag;	/* set by run_mount_option; NONE: the image's VOLUME */
	char *spec;		/* the flag's argument as given (run_mount_option), or NULL */
};

/* -v /host:/ctr[:opts], -v NAME:/ctr[:opts], -v /ctr */
int mount_parse_volume(const char *arg, struct mount_spec *m, struct error *e);
/* --mount type=bind|volume|tmpfs,source=...,target=...,readonly,... */
int mount_parse_mount(const char *arg, struct mount_spec *m, struct error *e);
/* --tmpfs /path[:size=...,mode=...] */
int mount_parse_tmpfs(const char *arg, struct mount_spec *m, struct error *e);
void mount_spec_free(struct mount_spec *m);

/* docker's rule for volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool mount_volume_name_valid(const char *name);

#endif
