/*
 * Variable substitution in Dockerfile words, following docker's shell-word
 * processing (see dockerfile.h for the forms). Output grows in a memstream;
 * nesting (${A:-${B}}) is bounded.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/strv.h"
#include "vmm/engine/dockerfile.h"

#define EXPAND_DEPTH_MAX	16

struct expand {
	const char *p;
	char escape;
	bool unquote;
	df_lookup_fn lookup;
	void *arg;
	struct error *e;
	int depth;
	/* Word splitting (df_expand_words): unquoted blanks end a word. */
	bool split;
	char ***words;
	FILE *out;
	char *buf;
	size_t len;
	bool have_word;	/* a word has begun (even an empty quoted one) */
};

static int end_word(struct expand *x)
{
	if (!x->split || !x->have_word)
		return 0;
	fflush(x->out);
	if (strv_push(x->words, x->buf ? x->buf : ""))
		return err_set(x->e, -ENOMEM, "out of memory");
	fclose(x->out);
	free(x->buf);
	x->buf = NULL;
	x->out = open_memstream(&x->buf, &x->len);
	x->have_word = false;
	return x->out ? 0 : err_set(x->e, -ENOMEM, "out of memory");
}

/* An unquoted variable's value: split at blanks when splitting words. */
static int emit_value(struct expand *x, const char *v, bool quoted)
{
	for (; *v; v++) {
		if (x->split && !quoted && isspace((unsigned char)*v)) {
			int ret = end_word(x);

			if (ret)
				return ret;
			continue;
		}
		fputc(*v, x->out);
		x->have_word = true;
	}
	return 0;
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static int expand_until(struct expand *x, const char *stop, bool quoted, FILE *to);

/* ${NAME...}: x->p is just past "${". */
static int braced(struct expand *x, bool quoted)
{
	char name[256], op[3] = "", *word = NULL;
	size_t n = 0, wlen;
	const char *v;
	FILE *w;
	int ret;

	while (name_char(*x->p) && n + 1 < sizeof(name))
		name[n++] = *x->p++;
	name[n] = 0;
	if (!n)
		return err_set(x->e, -EINVAL, "bad substitution: ${ must be followed by a name");
	if (*x->p == ':' && x->p[1] && strchr("-+?", x->p[1])) {
		op[0] = ':';
		op[1] = x->p[1];
		x->p += 2;
	} else if (*x->p && strchr("-+?", *x->p)) {
		op[0] = *x->p++;
	} else if (!*x->p) {
		return err_set(x->e, -EINVAL, "bad substitution: missing '}' after ${%s", name);
	} else if (*x->p != '}') {
		return err_set(x->e, -EINVAL, "bad substitution: unexpected '%c' in ${%s", *x->p, name);
	}
	if (op[0]) {
		if (++x->depth > EXPAND_DEPTH_MAX)
			return err_set(x->e, -EINVAL, "bad substitution: nested too deep");
		w = open_memstream(&word, &wlen);
		if (!w)
			return err_set(x->e, -ENOMEM, "out of memory");
		ret = expand_until(x, "}", quoted, w);
		fclose(w);
		x->depth--;
		if (ret) {
			free(word);
			return ret;
		}
	}
	if (*x->p != '}') {
		free(word);
		return err_set(x->e, -EINVAL, "bad substitution: missing '}' after ${%s", name);
	}
	x->p++;
	v = x->lookup(x->arg, name);
	ret = 0;
	if (!op[0]) {
		ret = emit_value(x, v ? v : "", quoted);
	} else {
		/* With ':', an empty value counts as unset. */
		bool set = v && (op[0] != ':' || *v);
		char kind = op[op[0] == ':' ? 1 : 0];

		if (kind == '-')
			ret = emit_value(x, set ? v : word, quoted);
		else if (kind == '+')
			ret = emit_value(x, set ? word : "", quoted);
		else if (set)
			ret = emit_value(x, v, quoted);
		else
			ret = err_set(x->e, -EINVAL, "%s: %s", name, *word ? word : "parameter not set or null");
	}
	free(word);
	return ret;
}

static int variable(struct expand *x, bool quoted)
{
	char name[256];
	size_t n = 0;
	const char *v;

	x->p++;	/* the '$' */
	if (*x->p == '{') {
		x->p++;
		return braced(x, quoted);
	}
	if (!name_char(*x->p)) {	/* a lone '$' is itself */
		fputc('$', x->out);
		x->have_word = true;
		return 0;
	}
	while (name_char(*x->p) && n + 1 < sizeof(name))
		name[n++] = *x->p++;
	name[n] = 0;
	v = x->lookup(x->arg, name);
	return emit_value(x, v ? v : "", quoted);
}

static void put(struct expand *x, char c)
{
	fputc(c, x->out);
	x->have_word = true;
}

/* Process until an unquoted char of stop (or the end), writing to `to`. */
static int expand_until(struct expand *x, const char *stop, bool quoted, FILE *to)
{
	FILE *saved = x->out;
	bool saved_split = x->split, swapped = to != x->out;
	int ret = 0;

	if (swapped) {
		x->out = to;
		x->split = false;	/* the word of ${A:-word} is one piece */
	}
	while (*x->p && !ret && !strchr(stop, *x->p)) {
		char c = *x->p;

		if (c == x->escape) {
			x->p++;
			if (!*x->p) {
				put(x, c);
				break;
			}
			if (!x->unquote)
				put(x, c);
			put(x, *x->p++);
		} else if (c == '$') {
			ret = variable(x, quoted);
		} else if (c == '\'' && !quoted) {
			x->p++;
			if (!x->unquote)
				put(x, '\'');
			x->have_word = true;
			while (*x->p && *x->p != '\'')
				put(x, *x->p++);
			if (!*x->p) {
				ret = err_set(x->e, -EINVAL, "unexpected end of statement while looking for matching '");
				break;
			}
			x->p++;
			if (!x->unquote)
				put(x, '\'');
		} else if (c == '"' && !quoted) {
			x->p++;
			if (!x->unquote)
				put(x, '"');
			x->have_word = true;
			while (*x->p && *x->p != '"' && !ret) {
				if (*x->p == x->escape && x->p[1] && strchr("\"$`\\", x->p[1])) {
					if (!x->unquote)
						put(x, *x->p);
					x->p++;
					put(x, *x->p++);
				} else if (*x->p == '$') {
					ret = variable(x, true);
				} else {
					put(x, *x->p++);
				}
			}
			if (!ret && !*x->p) {
				ret = err_set(x->e, -EINVAL, "unexpected end of statement while looking for matching \"");
				break;
			}
			if (!ret) {
				x->p++;
				if (!x->unquote)
					put(x, '"');
			}
		} else if (x->split && !quoted && isspace((unsigned char)c)) {
			x->p++;
			ret = end_word(x);
		} else {
			put(x, c);
			x->p++;
		}
	}
	if (swapped) {
		x->out = saved;
		x->split = saved_split;
	}
	return ret;
}

int df_expand(const char *in, char escape, bool unquote, df_lookup_fn lookup, void *arg, char **out,
	      struct error *e)
{
	struct expand x = { .p = in, .escape = escape, .unquote = unquote, .lookup = lookup, .arg = arg, .e = e };
	size_t len;
	int ret;

	x.out = open_memstream(out, &len);
	if (!x.out)
		return err_set(e, -ENOMEM, "out of memory");
	ret = expand_until(&x, "", false, x.out);
	fclose(x.out);
	if (ret) {
		free(*out);
		*out = NULL;
	}
	return ret;
}

int df_expand_words(const char *in, char escape, df_lookup_fn lookup, void *arg, char ***out,
		    struct error *e)
{
	struct expand x = {
		.p = in, .escape = escape, .unquote = true, .lookup = lookup, .arg = arg, .e = e,
		.split = true, .words = out,
	};
	int ret;

	*out = calloc(1, sizeof(char *));
	x.out = open_memstream(&x.buf, &x.len);
	if (!*out || !x.out) {
		free(*out);
		return err_set(e, -ENOMEM, "out of memory");
	}
	ret = expand_until(&x, "", false, x.out);
	if (!ret)
		ret = end_word(&x);
	fclose(x.out);
	free(x.buf);
	if (ret) {
		strv_free(*out);
		*out = NULL;
	}
	return ret;
}
