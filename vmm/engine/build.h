/*
 * vmm build: a Dockerfile made into an image. Config instructions change the
 * image config; COPY and ADD write a layer from the build context (or from an
 * earlier stage or image); each RUN runs in a micro-VM whose root disk is an
 * overlay on the previous step's, and its layer is the difference between the
 * two disks. Steps are cached: a step whose parent and instruction (and, for
 * COPY/ADD, content) are the same reuses the earlier result.
 */
#ifndef VMM_ENGINE_BUILD_H
#define VMM_ENGINE_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "vmm/base/digest.h"
#include "vmm/engine/paths.h"

struct error;

struct build_opts {
	const char *context;		/* the context folder, or NULL: none (a Dockerfile on stdin) */
	const char *dockerfile;		/* its text (not NUL-terminated) */
	size_t dockerfile_len;
	const char *dockerfile_name;	/* for messages */
	char *const *tags;		/* -t, NULL-terminated or NULL */
	char *const *build_args;	/* --build-arg K=V, or K: taken from our environment */
	char *const *labels;		/* --label K=V: added to the image's labels */
	const char *target;		/* --target STAGE, or NULL: the last stage */
	const char *network;		/* RUN's network: NULL/"default", "none", "host"... */
	bool no_cache, pull;
	FILE *out;			/* progress, docker's style; NULL: quiet */
};

/* Build; image_id receives the image ID (sha256:...). 0, or -errno with e (a RUN's failure: -ECHILD, *status). */
int engine_build(const struct paths *p, const struct build_opts *o, char image_id[DIGEST_BUF],
		 int *run_status, struct error *e);

#endif
