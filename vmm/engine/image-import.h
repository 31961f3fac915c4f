/*
 * docker import: a root filesystem tarball (plain or compressed) becomes a
 * one-layer image, its config made from --change instructions alone.
 */
#ifndef VMM_ENGINE_IMAGE_IMPORT_H
#define VMM_ENGINE_IMAGE_IMPORT_H

#include "images/oci/compose.h"
#include "vmm/engine/paths.h"

struct error;

struct import_opts {
	int fd;			/* the tarball */
	const char *label;	/* its name in messages and history: a path or "-" */
	const char *ref;	/* REPO[:TAG], or NULL: untagged */
	char *const *changes;	/* -c instructions, NULL-terminated or NULL */
	const char *message;	/* -m: the history comment, or NULL */
};

/* 0 with out naming the new image, or -errno with e; a failure leaves the store as it was. */
int engine_import(const struct paths *p, const struct import_opts *o, struct image_made *out,
		  struct error *e);

#endif
