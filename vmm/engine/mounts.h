/*
 * A new container's mounts, from the user's -v/--mount/--tmpfs/--volumes-from
 * and the image's VOLUME list (docs/volumes.md): first checked without
 * touching anything, then made (volumes created, missing -v folders made),
 * and the anonymous volumes dropped again when the container goes (--rm, rm -v).
 */
#ifndef VMM_ENGINE_MOUNTS_H
#define VMM_ENGINE_MOUNTS_H

#include "vmm/base/error.h"
#include "vmm/engine/container.h"
#include "vmm/engine/mount-spec.h"
#include "vmm/engine/paths.h"

struct image_config;

/*
 * The mounts cc will have, checked: absolute targets used once, bind folders
 * that exist (or that -v will create), volume names, --volumes-from sources,
 * the image's volumes, virtiofsd present (virtiofsd: --virtiofsd, kept in cc
 * as an absolute path for every start). Volumes are not created yet.
 * 0, or -errno with e (docker's messages).
 */
int engine_mounts_plan(const struct paths *p, const struct mount_spec *specs, unsigned nspecs,
		       char *const *volumes_from, const char *virtiofsd, const struct image_config *ic,
		       struct container_config *cc, struct error *e);
/* What one engine_mounts_make made, so that a failed create removes that and nothing else. */
struct mounts_made {
	char *volumes[CONTAINER_MOUNTS_MAX];	/* volumes it created (not those that existed) */
	unsigned nvolumes;
	char *dirs[CONTAINER_MOUNTS_MAX];	/* -v folders it made... */
	size_t dir_top[CONTAINER_MOUNTS_MAX];	/* ...and the length of the first missing folder on the path */
	unsigned ndirs;
};

/*
 * Create what the plan needs: volumes (named on first use, anonymous), -v
 * folders; recorded in made. On failure, what it made is removed again.
 */
int engine_mounts_make(const struct paths *p, struct container_config *cc, struct mounts_made *made,
		       struct error *e);
/* Remove what made records (a create that failed after engine_mounts_make), and free it. */
void engine_mounts_undo(const struct paths *p, struct mounts_made *made);
void engine_mounts_made_free(struct mounts_made *made);
/* Remove the container's anonymous volumes (--rm, rm -v, a create that failed). */
void engine_mounts_drop_anonymous(const struct paths *p, const struct container_config *cc);

#endif
