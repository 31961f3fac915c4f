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
 * the image's volumes, virtiofsd present. Volumes are not created yet.
 * 0, or -errno with e (docker's messages).
 */
int engine_mounts_plan(const struct paths *p, const struct mount_spec *specs, unsigned nspecs,
		       char *const *volumes_from, const struct image_config *ic, struct container_config *cc,
		       struct error *e);
/* Create what the plan needs: volumes (named on first use, anonymous), -v folders. */
int engine_mounts_make(const struct paths *p, struct container_config *cc, struct error *e);
/* Remove the container's anonymous volumes (--rm, rm -v, a create that failed). */
void engine_mounts_drop_anonymous(const struct paths *p, const struct container_config *cc);

#endif
