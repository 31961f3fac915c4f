/* Internals of vmm build, shared by its files only. */
#ifndef VMM_ENGINE_BUILD_INTERNAL_H
#define VMM_ENGINE_BUILD_INTERNAL_H

#include <limits.h>

#include "images/oci/store.h"
#include "vmm/engine/build-config.h"
#include "vmm/engine/build.h"
#include "vmm/engine/dockerignore.h"

struct stage {
	struct build_stage st;
	char *name;			/* AS name, or NULL */
	char id[DIGEST_BUF];		/* the current step's result (its config digest) */
	char disk[PATH_MAX];		/* the root disk of id, once one was needed; "" */
	char disk_of[DIGEST_BUF];	/* the layers disk holds (a digest of their diff_ids) */
};

struct builder {
	const struct paths *p;
	const struct build_opts *o;
	struct store *s;
	struct dockerfile df;
	struct dockerignore *ignore;
	int ctxfd;			/* the context folder, or -1 */
	char **build_args;		/* resolved K=V */
	char **used_args;		/* build args some ARG declared */
	char **meta_args;		/* ARGs before the first FROM, K=V */
	struct stage *done;		/* finished stages, for FROM and COPY --from */
	unsigned ndone;
	char **intermediates;		/* manifests committed only for disks: removed at the end */
	char **disks;			/* disks built for them: removed at the end */
	char final_manifest[DIGEST_BUF];	/* the image built: kept */
	char final_config[DIGEST_BUF];		/* its ID: its disk, if a step built it, is kept */
	unsigned step, nsteps;
	FILE *out;
	int *run_status;
	struct error *e;
	char tmp[PATH_MAX];		/* scratch folder under $VMM_ROOT/tmp */
};

void build_say(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct image;
/* FROM IMAGE's image: the store's, pulled when missing (or always, with --pull). */
int build_base_image(struct builder *b, const char *name, struct image **img);

/* build-disk.c: the root disk of a stage's current state (committed untagged first). */
int build_stage_disk(struct builder *b, struct stage *sg);
/* The image a stage's state is, in the store (untagged unless it was there): its manifest. */
int build_stage_image(struct builder *b, struct stage *sg, char manifest[DIGEST_BUF],
		      char config[DIGEST_BUF]);
void build_intermediates_drop(struct builder *b);

/* build-copy.c: COPY and ADD; layer receives the new layer. */
int build_copy(struct builder *b, struct stage *sg, const struct df_instr *in,
	       struct draft_layer *layer);

/* WORKDIR's folder, made (in a layer: *made) when the stage lacks it. */
int build_workdir_layer(struct builder *b, struct stage *sg, struct draft_layer *layer, bool *made);

/* build-run.c: RUN argv in a micro-VM (shown: as messages name it); layer: the difference it made. */
int build_run(struct builder *b, struct stage *sg, const struct df_instr *in, char **argv,
	      const char *shown, struct draft_layer *layer);

/* build-cache.c: a step's result by its key (parent, instruction, ARGs in scope, content). */
void build_cache_key(const char *parent, const char *what, const char *args, const char *content,
		     char key[DIGEST_BUF]);
/* 0 with d replaced by the cached result, -ENOENT when none (or its blobs are gone). */
int build_cache_get(struct builder *b, const char *key, struct image_draft *d);
void build_cache_put(struct builder *b, const char *key, struct image_draft *d);

#endif
