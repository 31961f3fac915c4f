/*
 * docker rmi's rules: a name removes that tag (and the image with its last
 * tag); an image ID removes the image with all its tags (several only with
 * force); an image a container uses goes only with force. Blobs nothing needs
 * any more are collected at the end.
 */
#ifndef VMM_ENGINE_IMAGE_REMOVE_H
#define VMM_ENGINE_IMAGE_REMOVE_H

#include <stdbool.h>

#include "vmm/base/error.h"

struct store;

struct image_removal {
	bool force;
	/* Each step: what "Untagged" (a short name) or "Deleted" (an image ID). */
	void (*report)(void *arg, const char *what, const char *name);
	void *arg;
	/* Set by begin: */
	struct store *s;
	char **used, **containers;	/* config digests containers use, and who */
	bool deleted;
};

/* Open the store and note which images containers use. 0 or -errno with e. */
int image_removal_begin(struct image_removal *r, const char *root, struct error *e);
/* Remove one name or ID. -ENOENT, -EEXIST (several tags), -EBUSY (in use), or other -errno. */
int image_removal_one(struct image_removal *r, const char *name, struct error *e);
/* Collect unneeded blobs (when something was deleted) and close. -EBUSY: other vmm processes use the store. */
int image_removal_end(struct image_removal *r, struct error *e);

#endif
