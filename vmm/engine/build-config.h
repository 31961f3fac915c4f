/*
 * The Dockerfile instructions that only change an image's config (ENV,
 * LABEL, CMD, ENTRYPOINT, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL,
 * HEALTHCHECK, ONBUILD, SHELL, MAINTAINER, ARG), applied to an image draft
 * with docker's rules: `vmm build`, and the -c/--change of `vmm commit` and
 * `vmm import`.
 */
#ifndef VMM_ENGINE_BUILD_CONFIG_H
#define VMM_ENGINE_BUILD_CONFIG_H

#include <stdbool.h>

#include "images/oci/compose.h"
#include "vmm/engine/dockerfile.h"

struct error;

/* What substitution sees and what a stage carries between its instructions. */
struct build_stage {
	struct image_draft d;
	char **args;		/* ARGs in scope, "K=V" (declared without a value: absent) */
	char **build_args;	/* --build-arg "K=V", borrowed; NULL: none */
	char escape;
	bool cmd_set;		/* CMD given in this stage: ENTRYPOINT keeps it */
};

/* The substitution lookup over a stage: its config's Env, then its ARGs. */
const char *build_lookup(void *stage, const char *name);
/* Expand one word (quotes removed). 0 or -EINVAL with e naming the line. */
int build_expand(struct build_stage *st, const struct df_instr *in, const char *word, char **out,
		 struct error *e);
/* Env value of the draft's config, or NULL. */
const char *build_env_get(struct image_draft *d, const char *key);

#define BUILD_DEFAULT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* A stage's config without PATH gets docker's default one (FROM scratch included). */
void build_default_path(struct image_draft *d);
/* Set a label of the draft's config (vmm build --label). */
void build_label_put(struct image_draft *d, const char *key, const char *value);
/*
 * Apply a config-only instruction. 1 when in is not one (RUN, COPY, ADD,
 * FROM: the caller's), 0 when applied, -errno with e ("line 4: ...").
 */
int build_config_apply(struct build_stage *st, const struct df_instr *in, struct error *e);
/* The command line for RUN/CMD/ENTRYPOINT in shell form: SHELL (or /bin/sh -c) + text. */
char **build_shell_form(struct build_stage *st, const char *text);
/*
 * docker commit/import --change: each string one Dockerfile instruction
 * (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR,
 * STOPSIGNAL). 0 or -EINVAL with e naming the change.
 */
int build_apply_changes(struct image_draft *d, char *const *changes, struct error *e);

#endif
