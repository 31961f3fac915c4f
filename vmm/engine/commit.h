/*
 * docker commit: a container's changes as a new image. The layer is what
 * changed on its disk against its image's (a stopped container: its disk is
 * read only while no guest writes it); the config is its image's with the
 * container's command, environment, working folder, user and labels, then
 * the --change instructions.
 */
#ifndef VMM_ENGINE_COMMIT_H
#define VMM_ENGINE_COMMIT_H

#include "images/oci/compose.h"
#include "vmm/engine/paths.h"

struct error;

struct commit_opts {
	const char *container;
	const char *ref;		/* REPO[:TAG], or NULL: untagged */
	char *const *changes;		/* -c, NULL-terminated or NULL */
	const char *message;		/* -m, or NULL */
	const char *author;		/* -a, or NULL */
};

int engine_commit(const struct paths *p, const struct commit_opts *o, struct image_made *out,
		  struct error *e);

#endif
