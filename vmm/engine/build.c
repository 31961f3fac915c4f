/* vmm build: stages and steps, the cache, docker's progress lines, the image at the end. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/image.h"
#include "images/oci/pull.h"
#include "images/oci/ref.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/build-internal.h"
#include "vmm/engine/env.h"

#define NOP_PREFIX	"/bin/sh -c #(nop) "

void build_say(struct builder *b, const char *fmt, ...)
{
	va_list ap;

	if (!b->out)
		return;
	va_start(ap, fmt);
	vfprintf(b->out, fmt, ap);
	va_end(ap);
	fflush(b->out);
}

static const char *short_id(const char *digest)
{
	const char *c = strchr(digest, ':');

	return c ? c + 1 : digest;
}

static void stage_free(struct stage *sg)
{
	image_draft_free(&sg->st.d);
	strv_free(sg->st.args);
	free(sg->name);
	memset(sg, 0, sizeof(*sg));
}

static int stage_id(struct builder *b, struct stage *sg)
{
	char *s = image_draft_render(&sg->st.d, sg->id);

	free(s);
	return s ? 0 : err_set(b->e, -ENOMEM, "out of memory");
}

static struct stage *stage_named(struct builder *b, const char *name)
{
	for (unsigned i = 0; i < b->ndone; i++)
		if (b->done[i].name && !strcasecmp(b->done[i].name, name))
			return &b->done[i];
	return NULL;
}

/* FROM IMAGE: the store's, pulled when missing (or always, with --pull). */
int build_base_image(struct builder *b, const char *name, struct image **img)
{
	struct pull_opts po = { 0 };
	struct pull_result pr;
	int ret = -ENOENT;

	if (!b->o->pull)
		ret = image_open(b->s, name, img, b->e);
	if (ret != -ENOENT)
		return ret;
	err_clear(b->e);
	build_say(b, "Pulling %s\n", name);
	if ((ret = image_pull(b->s, name, &po, &pr, b->e)))
		return err_wrap(b->e, ret, "FROM %s: not in the store, and pulling it failed", name);
	return image_open_digest(b->s, pr.digest, img, b->e);
}

static int run_step(struct builder *b, struct stage *sg, const struct df_instr *in);

/* The base image's ONBUILD triggers run first, then leave the config. */
static int onbuild_triggers(struct builder *b, struct stage *sg)
{
	json_object *c = image_draft_config(&sg->st.d), *trig, *list;
	size_t n;
	int ret = 0;

	if (!json_object_object_get_ex(c, "OnBuild", &trig) || !json_object_is_type(trig, json_type_array) ||
	    !(n = json_object_array_length(trig))) {
		json_object_object_del(c, "OnBuild");
		return 0;
	}
	list = json_object_get(trig);
	json_object_object_del(c, "OnBuild");
	build_say(b, "# Executing %zu build trigger%s\n", n, n == 1 ? "" : "s");
	for (size_t i = 0; !ret && i < n; i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(list, i));
		struct dockerfile df = { 0 };
		char *text = NULL;

		if (asprintf(&text, "FROM scratch\n%s", t ? t : "") < 0)
			ret = err_set(b->e, -ENOMEM, "out of memory");
		if (!ret && (ret = dockerfile_parse(text, strlen(text), &df, b->e)))
			err_wrap(b->e, ret, "the base image's ONBUILD trigger '%s'", t);
		else if (!ret && df.n != 2)
			ret = err_set(b->e, -EINVAL, "the base image's ONBUILD trigger '%s': not one instruction", t);
		if (!ret)
			ret = run_step(b, sg, &df.instrs[1]);
		dockerfile_free(&df);
		free(text);
	}
	json_object_put(list);
	return ret;
}

static int from(struct builder *b, struct stage *sg, const struct df_instr *in)
{
	struct build_stage meta = { .args = b->meta_args, .escape = b->df.escape };
	struct image *img = NULL;
	struct stage *prev;
	char *name = NULL;
	int ret;

	/* FROM sees only the ARGs declared before the first FROM */
	ret = image_draft_init(&meta.d, NULL, b->e);
	if (!ret)
		ret = build_expand(&meta, in, in->args[0], &name, b->e);
	image_draft_free(&meta.d);
	if (ret)
		return ret;
	if (in->nargs == 3 && !(sg->name = strdup(in->args[2])))
		ret = err_set(b->e, -ENOMEM, "out of memory");
	if (df_flag(in, "platform") && strcmp(df_flag(in, "platform"), "linux/amd64"))
		ret = err_set(b->e, -EINVAL, "line %u: FROM --platform=%s: vmm builds linux/amd64 only",
			      in->line, df_flag(in, "platform"));
	if (ret) {
		free(name);
		return ret;
	}
	if (!strcmp(name, "scratch")) {
		ret = image_draft_init(&sg->st.d, NULL, b->e);
		if (!ret)
			ret = stage_id(b, sg);
		if (!ret)
			build_say(b, " ---> scratch\n");
	} else if ((prev = stage_named(b, name))) {
		ret = image_draft_copy(&sg->st.d, &prev->st.d, b->e);
		memcpy(sg->id, prev->id, DIGEST_BUF);
		if (!ret)
			build_say(b, " ---> %.12s\n", short_id(sg->id));
	} else if (!(ret = build_base_image(b, name, &img))) {
		ret = image_draft_init(&sg->st.d, img, b->e);
		if (!ret)
			build_say(b, " ---> %.12s\n", short_id(img->config_digest));
		if (!ret)
			ret = stage_id(b, sg);
		image_close(img);
	}
	if (ret) {
		err_wrap(b->e, ret, "line %u", in->line);
	} else {
		build_default_path(&sg->st.d);
		ret = stage_id(b, sg);
	}
	free(name);
	return ret ? ret : onbuild_triggers(b, sg);
}

/* RUN's command line: exec form as given, shell form through SHELL; here-documents inline. */
static char **run_argv(struct stage *sg, const struct df_instr *in)
{
	const char *cmd = in->nargs ? in->args[0] : "";
	char *script = NULL;
	char **argv;
	FILE *f;
	size_t len;

	if (in->json)
		return strv_dup(in->args);
	if (!in->nheredocs)
		return build_shell_form(&sg->st, cmd);
	if (!(f = open_memstream(&script, &len)))
		return NULL;
	while (isspace((unsigned char)*cmd))
		cmd++;
	if (in->nheredocs == 1 && !strncmp(cmd, "<<", 2)) {
		/* RUN <<EOF alone: the document is the script */
		fputs(in->heredocs[0].body, f);
	} else {
		fprintf(f, "%s\n", cmd);
		for (unsigned i = 0; i < in->nheredocs; i++)
			fprintf(f, "%s%s\n", in->heredocs[i].body, in->heredocs[i].name);
	}
	fclose(f);
	argv = build_shell_form(&sg->st, script ? script : "");
	free(script);
	return argv;
}

/* The words joined by spaces (history's created_by of a RUN, a cache key's ARGs). */
static char *join(char *const *v)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; v && v[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", v[i]);
	fclose(f);
	return s;
}

/* What a step not taken from the cache does; copied: COPY and ADD's layer, made already. */
static int do_step(struct builder *b, struct stage *sg, const struct df_instr *in,
		   const char *created_by, char **argv, const struct draft_layer *copied)
{
	struct draft_layer layer;
	bool made = false;
	int ret;

	switch (in->kind) {
	case DF_RUN:
		ret = build_run(b, sg, in, argv, created_by, &layer);
		return ret ? ret : image_draft_add_layer(&sg->st.d, &layer, created_by, NULL);
	case DF_COPY:
	case DF_ADD:
		return image_draft_add_layer(&sg->st.d, copied, created_by, NULL);
	case DF_WORKDIR:
		if ((ret = build_config_apply(&sg->st, in, b->e)) ||
		    (ret = build_workdir_layer(b, sg, &layer, &made)))
			return ret;
		return made ? image_draft_add_layer(&sg->st.d, &layer, created_by, NULL)
			    : image_draft_add_history(&sg->st.d, created_by, NULL);
	default:
		ret = build_config_apply(&sg->st, in, b->e);
		if (ret > 0)
			return err_set(b->e, -EINVAL, "line %u: %s here is not supported", in->line,
				       df_kind_name(in->kind));
		return ret ? ret : image_draft_add_history(&sg->st.d, created_by, NULL);
	}
}

/* Flags each instruction takes; any other is refused, never ignored (RUN --mount...). */
static int check_flags(struct builder *b, const struct df_instr *in)
{
	static const char *const copy[] = { "from", "chown", "chmod", "link", NULL };
	static const char *const add[] = { "chown", "chmod", "checksum", "link", NULL };
	static const char *const healthcheck[] = { "interval", "timeout", "start-period", "start-interval",
						   "retries", NULL };
	static const char *const none[] = { NULL };
	const char *const *ok = in->kind == DF_COPY ? copy : in->kind == DF_ADD ? add :
				in->kind == DF_HEALTHCHECK ? healthcheck : none;

	for (unsigned i = 0; i < in->nflags; i++) {
		size_t n = strcspn(in->flags[i] + 2, "=");
		bool known = false;

		for (size_t j = 0; ok[j] && !known; j++)
			known = strlen(ok[j]) == n && !strncmp(in->flags[i] + 2, ok[j], n);
		if (!known)
			return err_set(b->e, -ENOTSUP, "line %u: %s %.*s is not supported", in->line,
				       df_kind_name(in->kind), (int)(n + 2), in->flags[i]);
	}
	return 0;
}

static int run_step(struct builder *b, struct stage *sg, const struct df_instr *in)
{
	struct draft_layer layer;
	char key[DIGEST_BUF], *created_by = NULL, **argv = NULL, *extra = NULL;
	int ret = 0;

	if (in->kind == DF_FROM)
		return err_set(b->e, -EINVAL, "line %u: FROM inside a stage", in->line);
	if (in->kind == DF_ONBUILD && in->inner && in->inner->kind == DF_ONBUILD)
		return err_set(b->e, -EINVAL, "line %u: ONBUILD ONBUILD is not allowed", in->line);
	if (check_flags(b, in))
		return b->e->code;
	/* the ARGs in scope are part of what a step is: substituted, or RUN's environment */
	if (!(extra = join(sg->st.args)))
		ret = err_set(b->e, -ENOMEM, "out of memory");
	if (!ret && in->kind == DF_RUN) {
		if (!(argv = run_argv(sg, in)) || !(created_by = join(argv)))
			ret = err_set(b->e, -ENOMEM, "out of memory");
	} else if (!ret) {
		if (asprintf(&created_by, NOP_PREFIX "%s", in->text) < 0)
			created_by = NULL;
		if (!created_by)
			ret = err_set(b->e, -ENOMEM, "out of memory");
	}
	/* COPY and ADD make their layer first: its digest is the content part of the key */
	if (!ret && (in->kind == DF_COPY || in->kind == DF_ADD))
		ret = build_copy(b, sg, in, &layer);
	if (!ret)
		build_cache_key(sg->id, created_by, extra,
				in->kind == DF_COPY || in->kind == DF_ADD ? layer.digest : "", key);
	if (!ret && !b->o->no_cache && !build_cache_get(b, key, &sg->st.d)) {
		build_say(b, " ---> Using cache\n");
		if (in->kind == DF_ARG || in->kind == DF_CMD)	/* what they do beyond the config */
			ret = build_config_apply(&sg->st, in, b->e);
	} else if (!ret) {
		ret = do_step(b, sg, in, created_by, argv, &layer);
		if (!ret)	/* --no-cache does not read the cache, but fills it, as docker's builder */
			build_cache_put(b, key, &sg->st.d);
	}
	if (!ret)
		ret = stage_id(b, sg);
	if (!ret)
		build_say(b, " ---> %.12s\n", short_id(sg->id));
	free(created_by);
	free(extra);
	strv_free(argv);
	return ret;
}

/* Index of the stage named target, or the last one. */
static int target_stage(struct builder *b, unsigned *last)
{
	unsigned stage = 0;
	bool found = !b->o->target;

	*last = 0;
	for (unsigned i = 0; i < b->df.n; i++) {
		const struct df_instr *in = &b->df.instrs[i];

		if (in->kind != DF_FROM)
			continue;
		if (b->o->target && in->nargs == 3 && !strcasecmp(in->args[2], b->o->target)) {
			*last = stage;
			found = true;
		}
		if (!b->o->target)
			*last = stage;
		stage++;
	}
	if (!found)
		return err_set(b->e, -EINVAL, "target stage %s could not be found in %s", b->o->target,
			       b->o->dockerfile_name);
	return 0;
}

static int meta_args(struct builder *b, unsigned *first)
{
	struct build_stage meta = { .build_args = b->build_args, .escape = b->df.escape };
	unsigned i;
	int ret = image_draft_init(&meta.d, NULL, b->e);

	for (i = 0; !ret && i < b->df.n && b->df.instrs[i].kind == DF_ARG; i++)
		ret = build_config_apply(&meta, &b->df.instrs[i], b->e);
	image_draft_free(&meta.d);
	b->meta_args = meta.args;
	*first = i;
	return ret;
}

static void args_used(struct builder *b, const struct df_instr *in)
{
	for (unsigned i = 0; in->kind == DF_ARG && i < in->nargs; i++) {
		size_t n = strcspn(in->args[i], "=");
		char *name = strndup(in->args[i], n);

		if (name)
			strv_add_once(&b->used_args, name);
		free(name);
	}
}

static int stages(struct builder *b, struct stage **result)
{
	unsigned first = 0, last = 0, stage = 0, i;
	struct stage *grown;
	int ret = meta_args(b, &first);

	if (!ret)
		ret = target_stage(b, &last);
	for (i = first; i < b->df.n; i++) {
		if (b->df.instrs[i].kind == DF_FROM && i > first && ++stage > last)
			break;
		b->nsteps++;
	}
	for (i = first; i < b->df.n; i++)
		args_used(b, &b->df.instrs[i]);
	if (ret)
		return ret;
	i = first;
	for (stage = 0; !ret && stage <= last; stage++) {
		struct stage sg = { .st = { .build_args = b->build_args, .escape = b->df.escape } };

		build_say(b, "Step %u/%u : %s\n", ++b->step, b->nsteps, b->df.instrs[i].text);
		ret = from(b, &sg, &b->df.instrs[i]);
		for (i++; !ret && i < b->df.n && b->df.instrs[i].kind != DF_FROM; i++) {
			build_say(b, "Step %u/%u : %s\n", ++b->step, b->nsteps, b->df.instrs[i].text);
			ret = run_step(b, &sg, &b->df.instrs[i]);
		}
		grown = ret ? NULL : realloc(b->done, (b->ndone + 1) * sizeof(*grown));
		if (!ret && !grown)
			ret = err_set(b->e, -ENOMEM, "out of memory");
		if (ret) {
			stage_free(&sg);
			break;
		}
		b->done = grown;
		b->done[b->ndone++] = sg;
	}
	if (!ret)
		*result = &b->done[b->ndone - 1];
	return ret;
}

static int build_args_resolve(struct builder *b)
{
	for (size_t i = 0; b->o->build_args && b->o->build_args[i]; i++) {
		const char *a = b->o->build_args[i], *v;
		char *kv = NULL;
		int ret;

		if (strchr(a, '=')) {
			ret = env_set(&b->build_args, a);
		} else if ((v = getenv(a))) {
			ret = asprintf(&kv, "%s=%s", a, v) < 0 ? -ENOMEM : env_set(&b->build_args, kv);
			free(kv);
		} else {
			continue;	/* docker: a name without a value and not in the environment is skipped */
		}
		if (ret)
			return err_set(b->e, -ENOMEM, "out of memory");
	}
	return 0;
}

static int context_open(struct builder *b)
{
	char *text = NULL;
	size_t len = 0;
	int fd, ret;

	b->ctxfd = -1;
	if (!b->o->context)
		return 0;
	b->ctxfd = open(b->o->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->ctxfd < 0)
		return err_sys(b->e, -errno, "build context %s", b->o->context);
	fd = open_in_root(b->ctxfd, ".dockerignore", O_RDONLY);
	if (fd < 0 && errno == ENOENT)
		return 0;
	ret = fd < 0 ? -errno : read_fd(fd, DOCKERIGNORE_MAX, &text, &len);
	if (fd >= 0)
		close(fd);
	if (ret)
		return err_sys(b->e, ret, "%s/.dockerignore", b->o->context);
	ret = dockerignore_parse(text, len, &b->ignore, b->e);
	free(text);
	return ret ? err_wrap(b->e, ret, "%s/.dockerignore", b->o->context) : 0;
}

static void warn_unused_args(struct builder *b)
{
	for (size_t i = 0; b->build_args && b->build_args[i]; i++) {
		size_t n = strcspn(b->build_args[i], "=");
		bool used = false;

		for (size_t j = 0; b->used_args && b->used_args[j]; j++)
			used |= strlen(b->used_args[j]) == n && !strncmp(b->used_args[j], b->build_args[i], n);
		if (!used)
			build_say(b, "[Warning] One or more build-args [%.*s] were not consumed\n", (int)n,
				  b->build_args[i]);
	}
}

static int finish(struct builder *b, struct stage *sg, char image_id[DIGEST_BUF])
{
	struct image_made made;
	int ret;

	for (size_t i = 0; b->o->labels && b->o->labels[i]; i++) {
		char *k = strdup(b->o->labels[i]), *eq = k ? strchr(k, '=') : NULL;

		if (!k)
			return err_set(b->e, -ENOMEM, "out of memory");
		if (eq)
			*eq = '\0';
		build_label_put(&sg->st.d, k, eq ? eq + 1 : "");
		free(k);
	}
	warn_unused_args(b);
	ret = image_draft_commit(&sg->st.d, b->s, b->o->tags, &made, b->e);
	if (ret)
		return ret;
	memcpy(image_id, made.config_digest, DIGEST_BUF);
	memcpy(b->final_manifest, made.manifest_digest, DIGEST_BUF);
	memcpy(b->final_config, made.config_digest, DIGEST_BUF);
	build_intermediates_drop(b);
	build_say(b, "Successfully built %.12s\n", short_id(made.config_digest));
	for (size_t i = 0; b->o->tags && b->o->tags[i]; i++) {
		struct image_ref ref;
		char name[REF_STR_MAX];

		if (ref_parse(b->o->tags[i], REF_DEFAULT_TAG, &ref, NULL))
			snprintf(name, sizeof(name), "%s", b->o->tags[i]);
		else
			ref_format_short(&ref, name, sizeof(name));
		build_say(b, "Successfully tagged %s\n", name);
	}
	return 0;
}

int engine_build(const struct paths *p, const struct build_opts *o, char image_id[DIGEST_BUF],
		 int *run_status, struct error *e)
{
	struct builder b = { .p = p, .o = o, .out = o->out, .run_status = run_status, .e = e };
	struct stage *result = NULL;
	bool tmp_made = false;
	int ret;

	*run_status = 0;
	ret = dockerfile_parse(o->dockerfile, o->dockerfile_len, &b.df, e);
	if (ret)
		err_wrap(e, ret, "%s", o->dockerfile_name);
	if (!ret)
		ret = build_args_resolve(&b);
	if (!ret)
		ret = context_open(&b);
	if (!ret)
		ret = store_open(p->root, &b.s, e);
	if (!ret) {
		snprintf(b.tmp, sizeof(b.tmp), "%s/tmp/build-XXXXXX", p->root);
		if ((ret = mkdir_parent(b.tmp, 0700)) || (!mkdtemp(b.tmp) && (ret = -errno)))
			err_sys(e, ret, "%s", b.tmp);
		tmp_made = !ret;
	}
	if (!ret)
		ret = stages(&b, &result);
	if (!ret)
		ret = finish(&b, result, image_id);
	if (ret)
		build_intermediates_drop(&b);
	if (tmp_made)
		remove_tree(AT_FDCWD, b.tmp);
	for (unsigned i = 0; i < b.ndone; i++)
		stage_free(&b.done[i]);
	free(b.done);
	if (b.s)
		store_close(b.s);
	if (b.ctxfd >= 0)
		close(b.ctxfd);
	dockerignore_free(b.ignore);
	dockerfile_free(&b.df);
	strv_free(b.build_args);
	strv_free(b.used_args);
	strv_free(b.meta_args);
	strv_free(b.intermediates);
	strv_free(b.disks);
	return ret;
}
