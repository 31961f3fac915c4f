/* `vmm cp`: files between the host and a running container, as tar streams. */
#ifndef VMM_ENGINE_COPY_H
#define VMM_ENGINE_COPY_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/engine/paths.h"

struct error;

/*
 * into: the host path src into the container ref at dst (into the
 * directory dst, else to the name dst, as docker cp); else the container's
 * src to the host path dst. What comes out belongs to the invoking user
 * unless archive_owners (cp -a). 0, or -errno with e.
 */
int engine_copy(const struct paths *p, const char *ref, bool into, const char *src, const char *dst,
		bool archive_owners, struct error *e);
/*
 * docker cp through the Engine API: into, the tar read from fd is extracted
 * into the container's folder path; else the container's path is written
 * to fd as a tar (its top entry named as the path's last part). The caller
 * keeps fd. 0, or -errno with e (the agent's message).
 */
int engine_copy_stream(const struct paths *p, const char *ref, bool into, const char *path, int fd,
		       struct error *e);
/*
 * Extract a tar from a container (fd) into dir: entries must be top or below
 * it, and come out renamed from top to as. Hardlinks stay inside; device
 * nodes, FIFOs and sockets are skipped; setuid and setgid bits dropped; no
 * xattrs. 0, or -errno with e naming the offending entry.
 */
int engine_copy_extract(int fd, const char *dir, const char *top, const char *as, bool archive_owners,
			struct error *e);

#endif
