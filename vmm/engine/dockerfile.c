/*
 * Dockerfile parsing (see dockerfile.h): logical lines first (directives,
 * comments, continuations, here-documents), then one instruction per line
 * with its flags and its exec or shell form. Errors name the line.
 */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/dockerfile.h"

static const char *const kind_names[] = {
	[DF_FROM] = "FROM", [DF_RUN] = "RUN", [DF_CMD] = "CMD", [DF_LABEL] = "LABEL",
	[DF_MAINTAINER] = "MAINTAINER", [DF_EXPOSE] = "EXPOSE", [DF_ENV] = "ENV", [DF_ADD] = "ADD",
	[DF_COPY] = "COPY", [DF_ENTRYPOINT] = "ENTRYPOINT", [DF_VOLUME] = "VOLUME", [DF_USER] = "USER",
	[DF_WORKDIR] = "WORKDIR", [DF_ARG] = "ARG", [DF_ONBUILD] = "ONBUILD",
	[DF_STOPSIGNAL] = "STOPSIGNAL", [DF_HEALTHCHECK] = "HEALTHCHECK", [DF_SHELL] = "SHELL",
};

const char *df_kind_name(enum df_kind k)
{
	return kind_names[k];
}

struct parser {
	const char *p, *end;
	unsigned line;		/* of p */
	char escape;
	struct error *e;
};

static int perr(struct parser *ps, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(struct parser *ps, unsigned line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(ps->e, -EINVAL, "Dockerfile line %u: %s", line, msg);
}

/* The next physical line [*start, *end) without its newline; false at the end. */
static bool next_line(struct parser *ps, const char **start, const char **end)
{
	const char *nl;

	if (ps->p >= ps->end)
		return false;
	*start = ps->p;
	nl = memchr(ps->p, '\n', ps->end - ps->p);
	*end = nl ? nl : ps->end;
	ps->p = nl ? nl + 1 : ps->end;
	ps->line++;
	if (*end > *start && (*end)[-1] == '\r')
		(*end)--;
	return true;
}

static bool blank(const char *s, const char *e)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	return s == e;
}

static bool comment(const char *s, const char *e)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	return s < e && *s == '#';
}

/* "# escape=`" at the top: parser directives until the first other line. */
static void directives(struct parser *ps)
{
	const char *save = ps->p, *s, *e;
	unsigned line = ps->line;

	while (next_line(ps, &s, &e)) {
		char copy[128], key[16], val[64];

		/* The text is not NUL-terminated: scan a copy of the line. */
		if ((size_t)(e - s) >= sizeof(copy))
			break;
		memcpy(copy, s, e - s);
		copy[e - s] = 0;
		if (sscanf(copy, "# %15[a-zA-Z] = %63s", key, val) != 2 &&
		    sscanf(copy, "#%15[a-zA-Z]=%63s", key, val) != 2)
			break;
		if (!strcasecmp(key, "escape") && (val[0] == '`' || val[0] == '\\') && !val[1])
			ps->escape = val[0];
		else if (strcasecmp(key, "syntax") && strcasecmp(key, "check"))
			break;	/* not a directive: a comment */
		save = ps->p;
		line = ps->line;
	}
	ps->p = save;
	ps->line = line;
}

/* Here-document delimiters in a line: <<EOF, <<-EOF, <<"EOF", <<'EOF'. */
static int heredocs(struct parser *ps, const char *text, struct df_instr *in)
{
	for (const char *h = strstr(text, "<<"); h; h = strstr(h + 2, "<<")) {
		const char *q = h + 2;
		bool strip = false, quoted = false;
		char name[64];
		size_t n = 0;
		struct df_heredoc *grown;
		char *body = NULL;
		size_t blen;
		FILE *f;
		const char *s, *e;

		if (*q == '-') {
			strip = true;
			q++;
		}
		if (*q == '"' || *q == '\'') {
			quoted = true;
			q++;
		}
		while ((isalnum((unsigned char)q[n]) || q[n] == '_') && n + 1 < sizeof(name)) {
			name[n] = q[n];
			n++;
		}
		name[n] = 0;
		if (!n || (!quoted && n < 1))
			continue;
		f = open_memstream(&body, &blen);
		for (;;) {
			const char *t;

			if (!next_line(ps, &s, &e)) {
				fclose(f);
				free(body);
				return perr(ps, in->line, "here-document '%s' is not terminated", name);
			}
			t = s;
			if (strip)
				while (t < e && *t == '\t')
					t++;
			if ((size_t)(e - t) == n && !memcmp(t, name, n))
				break;
			fprintf(f, "%.*s\n", (int)(e - t), t);
		}
		fclose(f);
		grown = realloc(in->heredocs, (in->nheredocs + 1) * sizeof(*grown));
		if (!grown) {
			free(body);
			return err_set(ps->e, -ENOMEM, "out of memory");
		}
		in->heredocs = grown;
		in->heredocs[in->nheredocs++] = (struct df_heredoc){
			.name = strdup(name), .body = body, .expand = !quoted,
		};
	}
	return 0;
}

/* A logical line: continuations joined (comment lines inside dropped). NULL at the end. */
static char *logical_line(struct parser *ps, unsigned *first)
{
	char *buf = NULL;
	size_t len;
	FILE *f = NULL;
	const char *s, *e;

	while (next_line(ps, &s, &e)) {
		const char *t = e;

		if (!f) {
			if (blank(s, e) || comment(s, e))
				continue;
			*first = ps->line;
			f = open_memstream(&buf, &len);
			if (!f)
				return NULL;
		} else if (comment(s, e)) {
			continue;	/* comments inside a continued instruction vanish */
		} else if (blank(s, e)) {
			continue;	/* so do empty lines */
		}
		while (t > s && isspace((unsigned char)t[-1]))
			t--;
		if (t > s && t[-1] == ps->escape) {
			fprintf(f, "%.*s", (int)(t - 1 - s), s);
			continue;
		}
		fprintf(f, "%.*s", (int)(e - s), s);
		break;
	}
	if (f)
		fclose(f);
	return buf;
}

static int add_arg(struct df_instr *in, const char *s, size_t n)
{
	char **grown;

	if (in->nargs == DOCKERFILE_ARGS_MAX)
		return -E2BIG;
	grown = realloc(in->args, (in->nargs + 2) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	in->args = grown;
	if (!(in->args[in->nargs] = strndup(s, n)))
		return -ENOMEM;
	in->args[++in->nargs] = NULL;
	return 0;
}

/* Words split at unquoted blanks, quotes and escapes kept (expansion comes later). */
static int split_words(struct parser *ps, const char *s, struct df_instr *in)
{
	while (*s) {
		const char *w;
		char q = 0;

		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		for (w = s; *s && (q || !isspace((unsigned char)*s)); s++) {
			if (*s == ps->escape && s[1] && q != '\'')
				s++;
			else if (q && *s == q)
				q = 0;
			else if (!q && (*s == '"' || *s == '\''))
				q = *s;
		}
		if (q)
			return perr(ps, in->line, "unmatched %c quote", q);
		if (add_arg(in, w, s - w))
			return perr(ps, in->line, "too many arguments (at most %d)", DOCKERFILE_ARGS_MAX);
	}
	return 0;
}

/* ["a", "b"]: a JSON array of strings; anything else is the shell form. */
static bool json_form(const char *s, struct df_instr *in)
{
	json_object *a;
	bool ok = true;

	if (*s != '[')
		return false;
	a = json_tokener_parse(s);
	if (!a || !json_object_is_type(a, json_type_array)) {
		json_object_put(a);
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(a) && ok; i++)
		ok = json_object_is_type(json_object_array_get_idx(a, i), json_type_string);
	for (size_t i = 0; i < json_object_array_length(a) && ok; i++) {
		json_object *v = json_object_array_get_idx(a, i);

		ok = add_arg(in, json_object_get_string(v), json_object_get_string_len(v)) == 0;
	}
	json_object_put(a);
	in->json = ok;
	if (!ok) {
		strv_free(in->args);
		in->args = NULL;
		in->nargs = 0;
	}
	return ok;
}

/* --name=value flags before the arguments (FROM, RUN, COPY, ADD, HEALTHCHECK). */
static const char *take_flags(struct parser *ps, const char *s, struct df_instr *in, int *ret)
{
	*ret = 0;
	while (!strncmp(s, "--", 2) && isalpha((unsigned char)s[2])) {
		const char *w = s;
		char **grown;

		while (*s && !isspace((unsigned char)*s))
			s++;
		if (in->nflags == DOCKERFILE_FLAGS_MAX) {
			*ret = perr(ps, in->line, "too many flags");
			return s;
		}
		grown = realloc(in->flags, (in->nflags + 2) * sizeof(*grown));
		if (!grown || !(grown[in->nflags] = strndup(w, s - w))) {
			free(grown);
			*ret = err_set(ps->e, -ENOMEM, "out of memory");
			return s;
		}
		in->flags = grown;
		in->flags[++in->nflags] = NULL;
		while (isspace((unsigned char)*s))
			s++;
	}
	return s;
}

const char *df_flag(const struct df_instr *in, const char *name)
{
	size_t n = strlen(name);

	for (unsigned i = 0; i < in->nflags; i++)
		if (!strncmp(in->flags[i] + 2, name, n) && (in->flags[i][2 + n] == '=' || !in->flags[i][2 + n]))
			return in->flags[i][2 + n] ? in->flags[i] + 3 + n : "";
	return NULL;
}

/* ENV k=v k2="v 2" | ENV k the rest; LABEL k=v...; ARG k[=v]. */
static int key_values(struct parser *ps, const char *s, struct df_instr *in, bool legacy_ok)
{
	const char *sp = s;
	int ret;

	while (*sp && !isspace((unsigned char)*sp) && *sp != '=')
		sp++;
	if (legacy_ok && *sp != '=') {	/* ENV key value with spaces */
		const char *v = sp;
		char *kv = NULL;

		while (isspace((unsigned char)*v))
			v++;
		if (sp == s || !*v)
			return perr(ps, in->line, "%s needs KEY=VALUE (or KEY VALUE)", kind_names[in->kind]);
		if (asprintf(&kv, "%.*s=%s", (int)(sp - s), s, v) < 0)
			return err_set(ps->e, -ENOMEM, "out of memory");
		ret = add_arg(in, kv, strlen(kv));
		free(kv);
		return ret ? err_set(ps->e, ret, "out of memory") : 0;
	}
	if ((ret = split_words(ps, s, in)))
		return ret;
	for (unsigned i = 0; i < in->nargs; i++)
		if (in->args[i][0] == '=' || (in->kind != DF_ARG && !strchr(in->args[i], '=')))
			return perr(ps, in->line, "%s: '%s' is not KEY=VALUE", kind_names[in->kind], in->args[i]);
	return 0;
}

static int parse_instr(struct parser *ps, const char *line, unsigned lineno, struct df_instr *in, bool nested);

static int arguments(struct parser *ps, const char *s, struct df_instr *in, bool nested)
{
	int ret = 0;

	switch (in->kind) {
	case DF_RUN: case DF_CMD: case DF_ENTRYPOINT: case DF_SHELL:
		if (json_form(s, in))
			break;
		if (in->kind == DF_SHELL)
			return perr(ps, in->line, "SHELL requires the arguments to be in JSON form");
		if (*s && add_arg(in, s, strlen(s)))
			return err_set(ps->e, -ENOMEM, "out of memory");
		break;
	case DF_ENV:
	case DF_LABEL:
	case DF_ARG:
		if (*s)
			ret = key_values(ps, s, in, in->kind == DF_ENV);
		break;
	case DF_ONBUILD:
		if (nested)
			return perr(ps, in->line, "ONBUILD cannot be nested");
		in->inner = calloc(1, sizeof(*in->inner));
		if (!in->inner)
			return err_set(ps->e, -ENOMEM, "out of memory");
		ret = parse_instr(ps, s, in->line, in->inner, true);
		if (!ret && (in->inner->kind == DF_FROM || in->inner->kind == DF_MAINTAINER))
			ret = perr(ps, in->line, "%s isn't allowed as an ONBUILD trigger", kind_names[in->inner->kind]);
		break;
	case DF_HEALTHCHECK:
		if (!strcasecmp(s, "NONE"))
			return add_arg(in, "NONE", 4) ? err_set(ps->e, -ENOMEM, "out of memory") : 0;
		if (strncasecmp(s, "CMD", 3) || (s[3] && !isspace((unsigned char)s[3])))
			return perr(ps, in->line, "HEALTHCHECK takes CMD command or NONE");
		in->inner = calloc(1, sizeof(*in->inner));
		if (!in->inner)
			return err_set(ps->e, -ENOMEM, "out of memory");
		ret = parse_instr(ps, s, in->line, in->inner, true);
		break;
	case DF_USER: case DF_WORKDIR: case DF_STOPSIGNAL: case DF_MAINTAINER:
		/* The rest of the line is one value (a path may hold spaces). */
		if (*s && add_arg(in, s, strlen(s)))
			return err_set(ps->e, -ENOMEM, "out of memory");
		break;
	case DF_VOLUME:
	case DF_EXPOSE:
		if (in->kind == DF_VOLUME && json_form(s, in))
			break;
		ret = split_words(ps, s, in);
		break;
	case DF_COPY:
	case DF_ADD:
		if (!json_form(s, in))
			ret = split_words(ps, s, in);
		if (!ret && in->nargs + in->nheredocs < 2)
			ret = perr(ps, in->line, "%s requires at least two arguments, but got %u",
				   kind_names[in->kind], in->nargs);
		break;
	default:
		ret = split_words(ps, s, in);
	}
	if (ret)
		return ret;
	if (!in->nargs && in->kind != DF_CMD && in->kind != DF_ENTRYPOINT && !in->nheredocs && !in->inner)
		return perr(ps, in->line, "%s requires at least one argument", kind_names[in->kind]);
	if (in->kind == DF_FROM && in->nargs != 1 && !(in->nargs == 3 && !strcasecmp(in->args[1], "AS")))
		return perr(ps, in->line, "FROM requires either one or three arguments");
	return 0;
}

static int parse_instr(struct parser *ps, const char *line, unsigned lineno, struct df_instr *in, bool nested)
{
	const char *s = line, *w;
	size_t n;
	int ret;

	while (isspace((unsigned char)*s))
		s++;
	for (w = s; *s && !isspace((unsigned char)*s); s++)
		;
	n = s - w;
	in->line = lineno;
	in->text = strdup(line);
	for (in->kind = 0; in->kind < (enum df_kind)ARRAY_SIZE(kind_names); in->kind++)
		if (n == strlen(kind_names[in->kind]) && !strncasecmp(w, kind_names[in->kind], n))
			break;
	if (in->kind == (enum df_kind)ARRAY_SIZE(kind_names))
		return perr(ps, lineno, "unknown instruction: %.*s", (int)(n > 40 ? 40 : n), w);
	while (isspace((unsigned char)*s))
		s++;
	if (in->kind == DF_FROM || in->kind == DF_RUN || in->kind == DF_COPY || in->kind == DF_ADD ||
	    in->kind == DF_HEALTHCHECK) {
		s = take_flags(ps, s, in, &ret);
		if (ret)
			return ret;
	} else if (!strncmp(s, "--", 2) && isalpha((unsigned char)s[2]) && in->kind != DF_ONBUILD &&
		   in->kind != DF_ENV && in->kind != DF_LABEL && in->kind != DF_ARG && in->kind != DF_CMD &&
		   in->kind != DF_ENTRYPOINT && in->kind != DF_SHELL) {
		return perr(ps, lineno, "%s does not take flags", kind_names[in->kind]);
	}
	if (!nested && (in->kind == DF_RUN || in->kind == DF_COPY || in->kind == DF_ADD) &&
	    (ret = heredocs(ps, s, in)))
		return ret;
	return arguments(ps, s, in, nested);
}

static void instr_free(struct df_instr *in)
{
	free(in->text);
	strv_free(in->args);
	strv_free(in->flags);
	for (unsigned i = 0; i < in->nheredocs; i++) {
		free(in->heredocs[i].name);
		free(in->heredocs[i].body);
	}
	free(in->heredocs);
	if (in->inner) {
		instr_free(in->inner);
		free(in->inner);
	}
}

void dockerfile_free(struct dockerfile *df)
{
	for (unsigned i = 0; i < df->n; i++)
		instr_free(&df->instrs[i]);
	free(df->instrs);
	memset(df, 0, sizeof(*df));
}

int dockerfile_parse(const char *text, size_t len, struct dockerfile *df, struct error *e)
{
	struct parser ps = { .p = text, .end = text + len, .escape = '\\', .e = e };
	unsigned first = 0;
	char *line;
	int ret = 0;

	memset(df, 0, sizeof(*df));
	if (len > DOCKERFILE_MAX)
		return err_set(e, -EFBIG, "Dockerfile is %zu bytes; at most %d", len, DOCKERFILE_MAX);
	if (memchr(text, '\0', len))
		return err_set(e, -EINVAL, "Dockerfile contains a NUL byte: not a text file");
	directives(&ps);
	df->escape = ps.escape;
	while (!ret && (line = logical_line(&ps, &first))) {
		struct df_instr *grown;

		if (df->n == DOCKERFILE_INSTR_MAX) {
			free(line);
			ret = perr(&ps, first, "more than %d instructions", DOCKERFILE_INSTR_MAX);
			break;
		}
		grown = realloc(df->instrs, (df->n + 1) * sizeof(*grown));
		if (!grown) {
			free(line);
			ret = err_set(e, -ENOMEM, "out of memory");
			break;
		}
		df->instrs = grown;
		memset(&df->instrs[df->n], 0, sizeof(df->instrs[0]));
		ret = parse_instr(&ps, line, first, &df->instrs[df->n++], false);
		free(line);
	}
	if (!ret && df->n == 0)
		ret = err_set(e, -EINVAL, "the Dockerfile has no instructions");
	if (!ret) {
		unsigned i = 0;

		while (i < df->n && df->instrs[i].kind == DF_ARG)
			i++;
		if (i < df->n && df->instrs[i].kind != DF_FROM)
			ret = perr(&ps, df->instrs[i].line, "no build stage in current context: the first "
				   "instruction must be FROM (ARG may come before it)");
	}
	if (ret)
		dockerfile_free(df);
	return ret;
}
