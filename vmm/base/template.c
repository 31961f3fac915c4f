/*
 * A small interpreter for Go's text/template, as docker's --format uses it
 * (see template.h for the subset): parsing builds a tree of nodes here;
 * template-render.c walks it with json-c values, template-funcs.c holds the
 * functions.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/template-internal.h"

/* ---- parsing ---- */

struct lexer {
	const char *p;		/* inside one action */
	const char *end;
	struct error *e;
	int depth;
};

static int perr(struct error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct error *e, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(e, -EINVAL, "template: %s", msg);
}

static void skip_space(struct lexer *l)
{
	while (l->p < l->end && isspace((unsigned char)*l->p))
		l->p++;
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static char *take_ident(struct lexer *l)
{
	const char *s = l->p;

	while (l->p < l->end && ident_char(*l->p))
		l->p++;
	return strndup(s, l->p - s);
}

static void pipe_free(struct pipe *p);

static void arg_clear(struct arg *a)
{
	free(a->name);
	json_object_put(a->lit);
	pipe_free(a->pipe);
	for (unsigned i = 0; i < a->nfields; i++)
		free(a->fields[i]);
	free(a->fields);
}

static void pipe_free(struct pipe *p)
{
	if (!p)
		return;
	for (unsigned c = 0; c < p->ncmds; c++) {
		for (unsigned i = 0; i < p->cmds[c].nargs; i++)
			arg_clear(&p->cmds[c].args[i]);
		free(p->cmds[c].args);
	}
	free(p->cmds);
	free(p->decl[0]);
	free(p->decl[1]);
	free(p);
}

/* .A.B.C after an operand (or as the operand itself when base is A_FIELD). */
static int take_fields(struct lexer *l, struct arg *a)
{
	while (l->p < l->end && *l->p == '.' && l->p + 1 < l->end && ident_char(l->p[1])) {
		char **grown = realloc(a->fields, (a->nfields + 1) * sizeof(*grown));

		if (!grown)
			return err_set(l->e, -ENOMEM, "out of memory");
		a->fields = grown;
		l->p++;
		a->fields[a->nfields++] = take_ident(l);
	}
	return 0;
}

static int take_string(struct lexer *l, struct arg *a)
{
	char quote = *l->p++, *out = malloc(l->end - l->p + 1), *o = out;

	if (!out)
		return err_set(l->e, -ENOMEM, "out of memory");
	while (l->p < l->end && *l->p != quote) {
		char c = *l->p++;

		if (quote == '"' && c == '\\' && l->p < l->end) {
			c = *l->p++;
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
		}
		*o++ = c;
	}
	*o = 0;
	if (l->p == l->end) {
		free(out);
		return perr(l->e, "unterminated string");
	}
	l->p++;
	a->kind = A_STRING;
	a->name = out;
	return 0;
}

static struct pipe *parse_pipe(struct lexer *l, bool in_paren);

static int take_operand(struct lexer *l, struct arg *a)
{
	char c = *l->p;

	memset(a, 0, sizeof(*a));
	if (c == '"' || c == '`')
		return take_string(l, a);
	if (c == '(') {
		if (++l->depth > TPL_DEPTH_MAX)
			return perr(l->e, "parentheses nested too deep");
		l->p++;
		a->kind = A_PIPE;
		a->pipe = parse_pipe(l, true);
		l->depth--;
		if (!a->pipe)
			return -EINVAL;
		return take_fields(l, a);
	}
	if (c == '.') {
		a->kind = l->p + 1 < l->end && ident_char(l->p[1]) ? A_FIELD : A_DOT;
		if (a->kind == A_DOT)
			l->p++;
		return take_fields(l, a);
	}
	if (c == '$') {
		l->p++;
		a->kind = A_VAR;
		a->name = take_ident(l);	/* "" is $ itself */
		return take_fields(l, a);
	}
	if (isdigit((unsigned char)c) || c == '-' || c == '+') {
		char *end;
		double d = strtod(l->p, &end);

		if (end == l->p || end > l->end)
			return perr(l->e, "bad number near '%.20s'", l->p);
		a->kind = A_NUMBER;
		a->lit = d == (long long)d && !memchr(l->p, '.', end - l->p) ?
			 json_object_new_int64((long long)d) : json_object_new_double(d);
		l->p = end;
		return 0;
	}
	if (isalpha((unsigned char)c) || c == '_') {
		a->name = take_ident(l);
		if (!strcmp(a->name, "true") || !strcmp(a->name, "false")) {
			a->kind = A_BOOL;
			a->lit = json_object_new_boolean(a->name[0] == 't');
		} else {
			a->kind = !strcmp(a->name, "nil") ? A_NIL : A_FUNC;
			/* As Go does: an unknown function is an error before anything renders. */
			if (a->kind == A_FUNC && !tpl_func_known(a->name))
				return perr(l->e, "function \"%s\" not defined", a->name);
		}
		return 0;
	}
	return perr(l->e, "unexpected '%c' in action", c);
}

static int parse_cmd(struct lexer *l, struct cmd *cmd, bool in_paren)
{
	for (;;) {
		struct arg *grown;
		int ret;

		skip_space(l);
		if (l->p == l->end || *l->p == '|' || (*l->p == ')' && in_paren))
			break;
		grown = realloc(cmd->args, (cmd->nargs + 1) * sizeof(*grown));
		if (!grown)
			return err_set(l->e, -ENOMEM, "out of memory");
		cmd->args = grown;
		ret = take_operand(l, &cmd->args[cmd->nargs]);
		cmd->nargs++;
		if (ret)
			return ret;
		if (l->p < l->end && !isspace((unsigned char)*l->p) && *l->p != '|' && *l->p != ')')
			return perr(l->e, "unexpected '%c' after an operand", *l->p);
	}
	if (!cmd->nargs)
		return perr(l->e, "missing value in a pipeline");
	if (cmd->nargs > 1 && cmd->args[0].kind != A_FUNC && !tpl_is_label_method(cmd))
		return perr(l->e, "can't give an argument to a non-function");
	return 0;
}

/* "$x :=" or "$k, $v :=" at the start of a pipeline. */
static int parse_decl(struct lexer *l, struct pipe *p)
{
	const char *save = l->p;

	while (p->ndecl < 2 && l->p < l->end && *l->p == '$') {
		l->p++;
		p->decl[p->ndecl++] = take_ident(l);
		skip_space(l);
		if (l->p < l->end && *l->p == ',') {
			l->p++;
			skip_space(l);
			continue;
		}
		if (l->end - l->p >= 2 && !strncmp(l->p, ":=", 2)) {
			l->p += 2;
			return 0;
		}
		break;
	}
	/* Not a declaration: a variable used as a value. */
	free(p->decl[0]);
	free(p->decl[1]);
	p->decl[0] = p->decl[1] = NULL;
	p->ndecl = 0;
	l->p = save;
	return 0;
}

static struct pipe *parse_pipe(struct lexer *l, bool in_paren)
{
	struct pipe *p = calloc(1, sizeof(*p));

	if (!p) {
		err_set(l->e, -ENOMEM, "out of memory");
		return NULL;
	}
	skip_space(l);
	parse_decl(l, p);
	for (;;) {
		struct cmd *grown = realloc(p->cmds, (p->ncmds + 1) * sizeof(*grown));

		if (!grown)
			goto fail;
		p->cmds = grown;
		memset(&p->cmds[p->ncmds], 0, sizeof(p->cmds[0]));
		if (parse_cmd(l, &p->cmds[p->ncmds++], in_paren))
			goto fail;
		skip_space(l);
		if (l->p < l->end && *l->p == '|') {
			l->p++;
			continue;
		}
		break;
	}
	if (in_paren) {
		if (l->p == l->end || *l->p != ')') {
			perr(l->e, "unclosed parenthesis");
			goto fail;
		}
		l->p++;
	} else if (l->p != l->end) {
		perr(l->e, "unexpected '%c' in action", *l->p);
		goto fail;
	}
	return p;
fail:
	pipe_free(p);
	return NULL;
}

static void nodes_free(struct node *n)
{
	while (n) {
		struct node *next = n->next;

		free(n->text);
		pipe_free(n->pipe);
		nodes_free(n->body);
		nodes_free(n->els);
		free(n);
		n = next;
	}
}

struct parser {
	const char *p;
	struct error *e;
	int depth;
};

/* The next action: [start, end) of its text with trim markers handled. */
struct action {
	const char *start, *end;
	bool trim_after;
};

enum stop { STOP_EOF, STOP_END, STOP_ELSE };

static int parse_list(struct parser *ps, struct node **out, enum stop *stop, struct action *stop_act);

static bool keyword(struct action *a, const char *kw)
{
	size_t n = strlen(kw);

	if ((size_t)(a->end - a->start) < n || strncmp(a->start, kw, n))
		return false;
	if (a->start + n < a->end && !isspace((unsigned char)a->start[n]))
		return false;
	a->start += n;
	while (a->start < a->end && isspace((unsigned char)*a->start))
		a->start++;
	return true;
}

static struct pipe *action_pipe(struct parser *ps, const struct action *a)
{
	struct lexer l = { .p = a->start, .end = a->end, .e = ps->e, .depth = ps->depth };

	return parse_pipe(&l, false);
}

/* if/range/with: the pipeline, the body, an optional else, then end. */
static int parse_block(struct parser *ps, struct node *n, const struct action *a)
{
	enum stop stop;
	struct action sa;
	int ret;

	if (++ps->depth > TPL_DEPTH_MAX)
		return perr(ps->e, "blocks nested too deep");
	n->pipe = action_pipe(ps, a);
	if (!n->pipe)
		return -EINVAL;
	if ((ret = parse_list(ps, &n->body, &stop, &sa)))
		return ret;
	if (stop == STOP_EOF)
		return perr(ps->e, "unexpected end of template: missing {{end}}");
	if (stop == STOP_ELSE) {
		if (n->kind == N_IF && keyword(&sa, "if")) {
			/* else if: a nested if that consumes the shared {{end}} */
			struct node *elif = calloc(1, sizeof(*elif));

			if (!elif)
				return err_set(ps->e, -ENOMEM, "out of memory");
			elif->kind = N_IF;
			n->els = elif;
			ret = parse_block(ps, elif, &sa);
			ps->depth--;
			return ret;
		}
		if ((ret = parse_list(ps, &n->els, &stop, &sa)))
			return ret;
		if (stop != STOP_END)
			return perr(ps->e, stop == STOP_EOF ? "missing {{end}}" : "a second {{else}}");
	}
	ps->depth--;
	return 0;
}

/* Find the next "{{": text before it becomes a node; returns false at the end. */
static bool next_action(struct parser *ps, struct node **tail, struct action *a, int *ret)
{
	const char *open = strstr(ps->p, "{{"), *close, *text_end;
	bool trim_before;

	*ret = 0;
	text_end = open ? open : ps->p + strlen(ps->p);
	trim_before = open && open[2] == '-' && open[3] && isspace((unsigned char)open[3]);
	if (trim_before)
		while (text_end > ps->p && isspace((unsigned char)text_end[-1]))
			text_end--;
	if (text_end > ps->p) {
		struct node *t = calloc(1, sizeof(*t));

		if (!t || !(t->text = strndup(ps->p, text_end - ps->p))) {
			free(t);
			*ret = err_set(ps->e, -ENOMEM, "out of memory");
			return false;
		}
		*tail = t;
	}
	if (!open) {
		ps->p += strlen(ps->p);
		return false;
	}
	close = strstr(open + 2, "}}");
	if (!close) {
		*ret = perr(ps->e, "unclosed action (missing }})");
		return false;
	}
	a->start = open + 2 + (trim_before ? 2 : 0);
	a->end = close;
	a->trim_after = close - 2 >= a->start && close[-1] == '-' && isspace((unsigned char)close[-2]);
	if (a->trim_after)
		a->end -= 2;
	while (a->start < a->end && isspace((unsigned char)*a->start))
		a->start++;
	while (a->end > a->start && isspace((unsigned char)a->end[-1]))
		a->end--;
	ps->p = close + 2;
	if (a->trim_after)
		while (*ps->p && isspace((unsigned char)*ps->p))
			ps->p++;
	return true;
}

static int parse_list(struct parser *ps, struct node **out, enum stop *stop, struct action *stop_act)
{
	struct node **tail = out;
	struct action a;
	int ret;

	*out = NULL;
	*stop = STOP_EOF;
	while (next_action(ps, tail, &a, &ret)) {
		struct node *n;

		if (*tail)
			tail = &(*tail)->next;
		if (a.start < a.end - 1 && a.start[0] == '/' && a.start[1] == '*')
			continue;	/* a comment action */
		if (keyword(&a, "end")) {
			*stop = STOP_END;
			return 0;
		}
		if (keyword(&a, "else")) {
			*stop = STOP_ELSE;
			*stop_act = a;
			return 0;
		}
		n = calloc(1, sizeof(*n));
		if (!n)
			return err_set(ps->e, -ENOMEM, "out of memory");
		*tail = n;
		tail = &n->next;
		if (keyword(&a, "if"))
			n->kind = N_IF;
		else if (keyword(&a, "range"))
			n->kind = N_RANGE;
		else if (keyword(&a, "with"))
			n->kind = N_WITH;
		else if (keyword(&a, "define") || keyword(&a, "template") || keyword(&a, "block"))
			return perr(ps->e, "named templates are not supported");
		else
			n->kind = N_ACTION;
		if (n->kind == N_ACTION) {
			if (!(n->pipe = action_pipe(ps, &a)))
				return -EINVAL;
		} else if ((ret = parse_block(ps, n, &a))) {
			return ret;
		}
	}
	if (*tail)
		tail = &(*tail)->next;
	return ret;
}

int template_parse(const char *src, struct template **out, struct error *e)
{
	struct template *t = calloc(1, sizeof(*t));
	struct parser ps = { .e = e };
	char *copy, *o;
	enum stop stop;
	struct action a;
	int ret;

	*out = NULL;	/* what a failed parse leaves: template_free takes it */
	if (!t)
		return err_set(e, -ENOMEM, "out of memory");
	if (!strncmp(src, "table", 5) && (!src[5] || isspace((unsigned char)src[5]))) {
		t->table = true;
		src += 5;
		while (*src == ' ')
			src++;
	}
	/* docker turns the two-character escapes \t and \n of a shell argument into tabs and newlines. */
	copy = malloc(strlen(src) + 1);
	if (!copy) {
		free(t);
		return err_set(e, -ENOMEM, "out of memory");
	}
	for (o = copy; *src; src++) {
		if (src[0] == '\\' && (src[1] == 't' || src[1] == 'n')) {
			*o++ = *++src == 't' ? '\t' : '\n';
			continue;
		}
		*o++ = *src;
	}
	*o = 0;
	ps.p = copy;
	ret = parse_list(&ps, &t->root, &stop, &a);
	free(copy);
	if (!ret && stop != STOP_EOF)
		ret = perr(e, "unexpected {{%s}}", stop == STOP_END ? "end" : "else");
	if (ret) {
		template_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

int template_parse_rows(const char *src, struct template **out, struct error *e)
{
	int ret = template_parse(strcmp(src, "json") ? src : "{{json .}}", out, e);

	if (!ret)
		(*out)->strict = true;
	return ret;
}

void template_free(struct template *t)
{
	if (!t)
		return;
	nodes_free(t->root);
	free(t);
}

bool template_is_table(const struct template *t)
{
	return t->table;
}
