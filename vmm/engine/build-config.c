/* Dockerfile instructions that change only the image config, with docker's rules. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/error.h"
#include "vmm/base/path.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/build-config.h"
#include "vmm/engine/env.h"

#define SHELL_DEFAULT_0	"/bin/sh"
#define SHELL_DEFAULT_1	"-c"

static const char *strv_value(char *const *v, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; v && v[i]; i++)
		if (!strncmp(v[i], key, n) && v[i][n] == '=')
			return v[i] + n + 1;
	return NULL;
}

const char *build_env_get(struct image_draft *d, const char *key)
{
	json_object *env;
	size_t n = strlen(key);

	if (!json_object_object_get_ex(image_draft_config(d), "Env", &env) ||
	    !json_object_is_type(env, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(env); i++) {
		const char *kv = json_object_get_string(json_object_array_get_idx(env, i));

		if (kv && !strncmp(kv, key, n) && kv[n] == '=')
			return kv + n + 1;
	}
	return NULL;
}

const char *build_lookup(void *arg, const char *name)
{
	struct build_stage *st = arg;
	const char *v = build_env_get(&st->d, name);

	return v ? v : strv_value(st->args, name);
}

static int line_err(struct error *e, const struct df_instr *in, int code)
{
	return err_wrap(e, code, "line %u", in->line);
}

int build_expand(struct build_stage *st, const struct df_instr *in, const char *word, char **out,
		 struct error *e)
{
	int ret = df_expand(word, st->escape, true, build_lookup, st, out, e);

	return ret ? line_err(e, in, ret) : 0;
}

static json_object *strv_json(char *const *v, unsigned n)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static json_object *config_object(struct image_draft *d, const char *key)
{
	json_object *c = image_draft_config(d), *o;

	if (json_object_object_get_ex(c, key, &o) && json_object_is_type(o, json_type_object))
		return o;
	o = json_object_new_object();
	json_object_object_add(c, key, o);
	return o;
}

/* Env: KEY=VALUE replaces KEY where it is, or is appended. */
static void env_put(struct image_draft *d, const char *key, const char *value)
{
	json_object *c = image_draft_config(d), *env, *nenv = json_object_new_array();
	size_t n = strlen(key);
	bool done = false;
	char *kv = NULL;

	if (asprintf(&kv, "%s=%s", key, value) < 0) {
		json_object_put(nenv);
		return;
	}
	if (json_object_object_get_ex(c, "Env", &env) && json_object_is_type(env, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(env); i++) {
			json_object *v = json_object_array_get_idx(env, i);
			const char *s = json_object_get_string(v);

			if (s && !strncmp(s, key, n) && s[n] == '=') {
				if (done)
					continue;
				json_object_array_add(nenv, json_object_new_string(kv));
				done = true;
			} else {
				json_object_array_add(nenv, json_object_get(v));
			}
		}
	}
	if (!done)
		json_object_array_add(nenv, json_object_new_string(kv));
	json_object_object_add(c, "Env", nenv);
	free(kv);
}

void build_default_path(struct image_draft *d)
{
	if (!build_env_get(d, "PATH"))
		env_put(d, "PATH", BUILD_DEFAULT_PATH);
}

char **build_shell_form(struct build_stage *st, const char *text)
{
	json_object *shell;
	char **v = NULL;

	if (json_object_object_get_ex(image_draft_config(&st->d), "Shell", &shell) &&
	    json_object_is_type(shell, json_type_array) && json_object_array_length(shell)) {
		for (size_t i = 0; i < json_object_array_length(shell); i++)
			if (strv_push(&v, json_object_get_string(json_object_array_get_idx(shell, i)) ?: "")) {
				strv_free(v);
				return NULL;
			}
	} else if (strv_push(&v, SHELL_DEFAULT_0) || strv_push(&v, SHELL_DEFAULT_1)) {
		strv_free(v);
		return NULL;
	}
	if (strv_push(&v, text)) {
		strv_free(v);
		return NULL;
	}
	return v;
}

/* CMD, ENTRYPOINT, and HEALTHCHECK's command: the exec form as given, the shell form wrapped. */
static json_object *command(struct build_stage *st, const struct df_instr *in, const char *prefix)
{
	json_object *a = json_object_new_array();
	char **shell;

	if (prefix)
		json_object_array_add(a, json_object_new_string(in->json ? "CMD" : "CMD-SHELL"));
	if (in->json || !in->nargs) {
		for (unsigned i = 0; i < in->nargs; i++)
			json_object_array_add(a, json_object_new_string(in->args[i]));
		return a;
	}
	if (prefix) {
		json_object_array_add(a, json_object_new_string(in->args[0]));
		return a;
	}
	if (!(shell = build_shell_form(st, in->args[0]))) {
		json_object_put(a);
		return NULL;
	}
	for (size_t i = 0; shell[i]; i++)
		json_object_array_add(a, json_object_new_string(shell[i]));
	strv_free(shell);
	return a;
}

/* k=v words, expanded and split at the first '='. */
static int pairs(struct build_stage *st, const struct df_instr *in,
		 void (*put)(struct build_stage *, const char *, const char *), struct error *e)
{
	for (unsigned i = 0; i < in->nargs; i++) {
		char *kv = NULL, *eq;
		int ret = build_expand(st, in, in->args[i], &kv, e);

		if (ret)
			return ret;
		eq = strchr(kv, '=');
		if (!eq || eq == kv) {
			free(kv);
			return err_set(e, -EINVAL, "line %u: %s: '%s' is not KEY=VALUE", in->line,
				       df_kind_name(in->kind), in->args[i]);
		}
		*eq = '\0';
		put(st, kv, eq + 1);
		free(kv);
	}
	return 0;
}

static void put_env(struct build_stage *st, const char *k, const char *v)
{
	env_put(&st->d, k, v);
}

void build_label_put(struct image_draft *d, const char *key, const char *value)
{
	json_object_object_add(config_object(d, "Labels"), key, json_object_new_string(value));
}

static void put_label(struct build_stage *st, const char *k, const char *v)
{
	build_label_put(&st->d, k, v);
}

/* ARG NAME[=default]: --build-arg wins over the default; no value at all: not set. */
static int arg(struct build_stage *st, const struct df_instr *in, struct error *e)
{
	for (unsigned i = 0; i < in->nargs; i++) {
		char *kv = NULL, *eq, *set = NULL;
		const char *given;
		int ret;

		if ((ret = build_expand(st, in, in->args[i], &kv, e)))
			return ret;
		if ((eq = strchr(kv, '=')))
			*eq = '\0';
		given = strv_value(st->build_args, kv);
		if ((given || eq) && asprintf(&set, "%s=%s", kv, given ? given : eq + 1) < 0)
			set = NULL;
		if (set && env_set(&st->args, set))
			ret = err_set(e, -ENOMEM, "out of memory");
		free(set);
		free(kv);
		if (ret)
			return ret;
	}
	return 0;
}

/* EXPOSE PORT[-PORT][/PROTO]: each port of a range on its own, as docker stores them. */
static int expose_word(json_object *ports, const char *w)
{
	const char *slash = strchr(w, '/');
	char num[32], proto[8] = "tcp", key[48], *dash;
	uint64_t lo, hi;

	if (snprintf(num, sizeof(num), "%.*s", slash ? (int)(slash - w) : (int)strlen(w), w) >=
	    (int)sizeof(num))
		return -EINVAL;
	if (slash) {
		if (strlen(slash + 1) >= sizeof(proto))
			return -EINVAL;
		for (size_t i = 0; slash[1 + i]; i++)
			proto[i] = (char)tolower((unsigned char)slash[1 + i]);
		proto[strlen(slash + 1)] = '\0';
		if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
			return -EINVAL;
	}
	if ((dash = strchr(num, '-')))
		*dash = '\0';
	if (parse_uint(num, 1, 65535, &lo) || (dash && parse_uint(dash + 1, lo, 65535, &hi)))
		return -EINVAL;
	if (!dash)
		hi = lo;
	for (uint64_t p = lo; p <= hi; p++) {
		snprintf(key, sizeof(key), "%u/%s", (unsigned)p, proto);
		json_object_object_add(ports, key, json_object_new_object());
	}
	return 0;
}

static int expose(struct build_stage *st, const struct df_instr *in, struct error *e)
{
	json_object *ports = config_object(&st->d, "ExposedPorts");

	for (unsigned i = 0; i < in->nargs; i++) {
		char **words = NULL;
		int ret = df_expand_words(in->args[i], st->escape, build_lookup, st, &words, e);

		if (ret)
			return line_err(e, in, ret);
		for (size_t j = 0; !ret && words[j]; j++)
			if (expose_word(ports, words[j]))
				ret = err_set(e, -EINVAL, "line %u: EXPOSE: invalid port '%s' "
					      "(want PORT[-PORT][/tcp|udp|sctp])", in->line, words[j]);
		strv_free(words);
		if (ret)
			return ret;
	}
	return 0;
}

static int volume(struct build_stage *st, const struct df_instr *in, struct error *e)
{
	json_object *vols = config_object(&st->d, "Volumes");

	for (unsigned i = 0; i < in->nargs; i++) {
		char **words = NULL;
		int ret = df_expand_words(in->args[i], st->escape, build_lookup, st, &words, e);

		if (ret)
			return line_err(e, in, ret);
		for (size_t j = 0; words[j]; j++) {
			if (!*words[j]) {
				strv_free(words);
				return err_set(e, -EINVAL, "line %u: VOLUME specified can not be an empty string",
					       in->line);
			}
			json_object_object_add(vols, words[j], json_object_new_object());
		}
		strv_free(words);
	}
	return 0;
}

/* WORKDIR: relative to the previous one, cleaned. */
static int workdir(struct build_stage *st, const struct df_instr *in, struct error *e)
{
	json_object *c = image_draft_config(&st->d), *cur;
	const char *prev = "/";
	char *w = NULL, *joined = NULL, clean[4096 + 2];
	int ret = build_expand(st, in, in->args[0], &w, e);

	if (ret)
		return ret;
	if (json_object_object_get_ex(c, "WorkingDir", &cur) && json_object_get_string(cur) &&
	    *json_object_get_string(cur))
		prev = json_object_get_string(cur);
	if (asprintf(&joined, "%s/%s", w[0] == '/' ? "" : prev, w) < 0)
		joined = NULL;
	ret = joined ? path_clean(joined, PATH_DOTDOT_CLAMP, clean + 1, sizeof(clean) - 1) : -ENOMEM;
	free(joined);
	free(w);
	if (ret)
		return err_set(e, ret, "line %u: WORKDIR: path too long", in->line);
	clean[0] = '/';
	json_object_object_add(c, "WorkingDir", json_object_new_string(clean));
	return 0;
}

/* Go durations as HEALTHCHECK takes them: 30s, 1m30s, 500ms, 1h. */
static int duration_ns(const char *s, int64_t *out)
{
	int64_t total = 0;

	if (!*s)
		return -EINVAL;
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		int64_t unit;

		if (end == s || v < 0)
			return -EINVAL;
		s = end;
		if (!strncmp(s, "ns", 2)) unit = 1, s += 2;
		else if (!strncmp(s, "us", 2)) unit = 1000, s += 2;
		else if (!strncmp(s, "ms", 2)) unit = 1000000, s += 2;
		else if (*s == 's') unit = 1000000000LL, s++;
		else if (*s == 'm') unit = 60 * 1000000000LL, s++;
		else if (*s == 'h') unit = 3600 * 1000000000LL, s++;
		else return -EINVAL;
		if (v * (double)unit > 9e18)
			return -EINVAL;
		total += (int64_t)(v * (double)unit);
	}
	*out = total;
	return 0;
}

static int healthcheck(struct build_stage *st, const struct df_instr *in, struct error *e)
{
	static const char *const durations[][2] = {
		{ "interval", "Interval" }, { "timeout", "Timeout" },
		{ "start-period", "StartPeriod" }, { "start-interval", "StartInterval" },
	};
	json_object *h = json_object_new_object(), *test;
	const char *v;

	if (!in->inner) {
		test = json_object_new_array();
		json_object_array_add(test, json_object_new_string("NONE"));
		json_object_object_add(h, "Test", test);
		json_object_object_add(image_draft_config(&st->d), "Healthcheck", h);
		return 0;
	}
	for (unsigned i = 0; i < in->nflags; i++) {
		bool known = !strncmp(in->flags[i], "--retries=", 10);

		for (size_t j = 0; j < sizeof(durations) / sizeof(durations[0]); j++)
			known |= df_flag(in, durations[j][0]) && !strncmp(in->flags[i] + 2, durations[j][0],
									   strlen(durations[j][0]));
		if (!known) {
			json_object_put(h);
			return err_set(e, -EINVAL, "line %u: HEALTHCHECK: unknown flag %s", in->line, in->flags[i]);
		}
	}
	json_object_object_add(h, "Test", command(st, in->inner, "CMD"));
	for (size_t j = 0; j < sizeof(durations) / sizeof(durations[0]); j++) {
		int64_t ns;

		if (!(v = df_flag(in, durations[j][0])))
			continue;
		if (duration_ns(v, &ns)) {
			json_object_put(h);
			return err_set(e, -EINVAL, "line %u: HEALTHCHECK --%s: invalid duration '%s' (e.g. 30s)",
				       in->line, durations[j][0], v);
		}
		json_object_object_add(h, durations[j][1], json_object_new_int64(ns));
	}
	if ((v = df_flag(in, "retries"))) {
		uint64_t n;

		if (parse_uint(v, 0, 1000000, &n)) {
			json_object_put(h);
			return err_set(e, -EINVAL, "line %u: HEALTHCHECK --retries: want a number, got '%s'",
				       in->line, v);
		}
		json_object_object_add(h, "Retries", json_object_new_int64((int64_t)n));
	}
	json_object_object_add(image_draft_config(&st->d), "Healthcheck", h);
	return 0;
}

/* ONBUILD stores the trigger's text, run by a build FROM this image. */
static int onbuild(struct build_stage *st, const struct df_instr *in)
{
	json_object *c = image_draft_config(&st->d), *a;
	const char *t = in->text;

	while (*t && !isspace((unsigned char)*t))
		t++;
	while (isspace((unsigned char)*t))
		t++;
	if (!json_object_object_get_ex(c, "OnBuild", &a) || !json_object_is_type(a, json_type_array)) {
		a = json_object_new_array();
		json_object_object_add(c, "OnBuild", a);
	}
	json_object_array_add(a, json_object_new_string(t));
	return 0;
}

static int one_value(struct build_stage *st, const struct df_instr *in, const char *key,
		     struct error *e)
{
	char *v = NULL;
	int ret = build_expand(st, in, in->args[0], &v, e);

	if (ret)
		return ret;
	if (in->kind == DF_STOPSIGNAL && parse_signal(v) <= 0) {
		ret = err_set(e, -EINVAL, "line %u: STOPSIGNAL: unknown signal '%s'", in->line, v);
	} else if (in->kind == DF_MAINTAINER) {
		image_draft_set(&st->d, key, v);
	} else {
		json_object_object_add(image_draft_config(&st->d), key, json_object_new_string(v));
	}
	free(v);
	return ret;
}

int build_config_apply(struct build_stage *st, const struct df_instr *in, struct error *e)
{
	json_object *c = image_draft_config(&st->d), *cmd;

	switch (in->kind) {
	case DF_ENV:
		return pairs(st, in, put_env, e);
	case DF_LABEL:
		return pairs(st, in, put_label, e);
	case DF_ARG:
		return arg(st, in, e);
	case DF_EXPOSE:
		return expose(st, in, e);
	case DF_VOLUME:
		return volume(st, in, e);
	case DF_WORKDIR:
		return workdir(st, in, e);
	case DF_USER:
		return one_value(st, in, "User", e);
	case DF_STOPSIGNAL:
		return one_value(st, in, "StopSignal", e);
	case DF_MAINTAINER:
		return one_value(st, in, "author", e);
	case DF_HEALTHCHECK:
		return healthcheck(st, in, e);
	case DF_ONBUILD:
		return onbuild(st, in);
	case DF_SHELL:
		json_object_object_add(c, "Shell", strv_json(in->args, in->nargs));
		return 0;
	case DF_CMD:
		if (!(cmd = command(st, in, NULL)))
			return err_set(e, -ENOMEM, "out of memory");
		json_object_object_add(c, "Cmd", cmd);
		st->cmd_set = true;
		return 0;
	case DF_ENTRYPOINT:
		if (!(cmd = command(st, in, NULL)))
			return err_set(e, -ENOMEM, "out of memory");
		json_object_object_add(c, "Entrypoint", cmd);
		if (!st->cmd_set)	/* docker: an ENTRYPOINT drops the base image's CMD */
			json_object_object_add(c, "Cmd", NULL);
		return 0;
	default:
		return 1;
	}
}

int build_apply_changes(struct image_draft *d, char *const *changes, struct error *e)
{
	struct build_stage st = { .escape = '\\' };
	int ret = 0;

	st.d = *d;
	for (size_t i = 0; !ret && changes && changes[i]; i++) {
		struct dockerfile df = { 0 };
		enum df_kind k;
		char *text = NULL;

		/* parsed as the second line of a Dockerfile: the parser wants a FROM first */
		if (asprintf(&text, "FROM scratch\n%s", changes[i]) < 0)
			return err_set(e, -ENOMEM, "out of memory");
		ret = dockerfile_parse(text, strlen(text), &df, e);
		free(text);
		if (!ret && df.n != 2)
			ret = err_set(e, -EINVAL, "one instruction per change");
		k = df.n == 2 ? df.instrs[1].kind : DF_RUN;
		if (!ret && (k == DF_RUN || k == DF_COPY || k == DF_ADD || k == DF_FROM || k == DF_ARG ||
			     k == DF_SHELL || k == DF_HEALTHCHECK || k == DF_MAINTAINER))
			ret = err_set(e, -EINVAL, "%s is not a change commit and import can apply "
				      "(CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL)",
				      df_kind_name(k));
		if (!ret && build_config_apply(&st, &df.instrs[1], e) > 0)
			ret = -EINVAL;
		if (ret)
			err_wrap(e, ret, "--change '%s'", changes[i]);
		dockerfile_free(&df);
	}
	*d = st.d;
	strv_free(st.args);
	return ret;
}
