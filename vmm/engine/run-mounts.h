/* The docker run mount options (-v, --mount, --tmpfs, --volumes-from, docs/volumes.md): the CLI
 * flags and the Engine API's HostConfig (Binds, Mounts, Tmpfs, VolumesFrom) both decode here. */
#ifndef VMM_ENGINE_RUN_MOUNTS_H
#define VMM_ENGINE_RUN_MOUNTS_H

#include <getopt.h>

#include "vmm/engine/container-mounts.h"
#include "vmm/engine/mount-spec.h"

struct error;

enum { RUN_MOUNT_OPT_MOUNT = 640, RUN_MOUNT_OPT_TMPFS, RUN_MOUNT_OPT_VOLUMES_FROM, RUN_MOUNT_OPT_VIRTIOFSD,
       RUN_MOUNT_OPT_VOLUME = 'v' };

#define RUN_MOUNT_LONG_OPTIONS \
	{ "volume", required_argument, NULL, RUN_MOUNT_OPT_VOLUME }, \
	{ "mount", required_argument, NULL, RUN_MOUNT_OPT_MOUNT }, \
	{ "tmpfs", required_argument, NULL, RUN_MOUNT_OPT_TMPFS }, \
	{ "volumes-from", required_argument, NULL, RUN_MOUNT_OPT_VOLUMES_FROM }, \
	{ "virtiofsd", required_argument, NULL, RUN_MOUNT_OPT_VIRTIOFSD }

#define RUN_MOUNT_SHORT_OPTIONS "v:"

#define RUN_MOUNT_USAGE \
	"  -v, --volume SPEC        /host:/ctr[:ro] (bind), NAME:/ctr[:ro] (volume), /ctr (anonymous)\n" \
	"      --mount SPEC         type=bind|volume|tmpfs,source=...,target=...[,readonly]\n" \
	"      --tmpfs /ctr[:OPTS]  a tmpfs in the guest (size=64m,mode=1777)\n" \
	"      --volumes-from CTR[:ro|:rw]  the mounts of another container\n" \
	"      --virtiofsd PATH     the virtiofsd that serves its shares (kept for restarts)\n"

struct run_mount_opts {
	struct mount_spec specs[CONTAINER_MOUNTS_MAX];
	unsigned nspecs;
	char **volumes_from;
	const char *virtiofsd;	/* --virtiofsd PATH (borrowed), or NULL */
};

/* One flag: 0 taken, 1 not a mount flag, -errno with e for bad input. */
int run_mount_option(struct run_mount_opts *o, int c, const char *arg, struct error *e);
void run_mount_opts_free(struct run_mount_opts *o);

#endif
