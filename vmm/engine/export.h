/*
 * `vmm diff` and `vmm export`: a stopped container's filesystem read from its disk
 * (the qcow2 overlay and the image's base disk below it) with images/rootfs, never
 * through a guest. A running container is refused: its disk is read only while no guest
 * writes it, and it cannot start while it is read.
 */
#ifndef VMM_ENGINE_EXPORT_H
#define VMM_ENGINE_EXPORT_H

#include "images/rootfs/diff.h"
#include "vmm/engine/paths.h"

struct error;

/* docker diff: what changed in container ref against its image, each change passed to fn. */
int engine_diff(const struct paths *p, const char *ref, rootfs_change_fn fn, void *arg,
		struct error *e);
/* docker export: the container's whole filesystem as a tar written to fd. */
int engine_export(const struct paths *p, const char *ref, int fd, struct error *e);

/*
 * The layer of what changed in container ref against its image: an uncompressed tar to
 * fd. flags: rootfs_diff_flags' (ROOTFS_DIFF_NO_MOUNT_STUBS for docker commit; a build's
 * RUN keeps them, as buildah's does).
 */
int engine_diff_tar(const struct paths *p, const char *ref, unsigned flags, int fd,
		    struct error *e);

#endif
