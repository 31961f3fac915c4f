/* `vmm cp`: files between the host and a running container, as tar streams. */
#ifndef VMM_ENGINE_COPY_H
#define VMM_ENGINE_COPY_H

#include <stdbool.h>

#include "vmm/engine/paths.h"

struct error;

/*
 * into: the host path src into the container ref at dst (into the
 * directory dst, else to the name dst, as docker cp); else the container's
 * src to the host path dst. 0, or -errno with e.
 */
int engine_copy(const struct paths *p, const char *ref, bool into, const char *src, const char *dst,
		struct error *e);

#endif
