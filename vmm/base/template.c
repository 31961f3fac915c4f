/*
 * A small interpreter for Go's text/template, as docker's --format uses it
 * (see template.h for the subset). Parsing builds a tree of nodes; rendering
 * walks it with json-c values, each held by one reference.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/template.h"

#define TPL_DEPTH_MAX	32	/* nested blocks and parentheses */
#define TPL_VARS_MAX	32

enum arg_kind { A_DOT, A_FIELD, A_VAR, A_STRING, A_NUMBER, A_BOOL, A_NIL, A_FUNC, A_PIPE };

struct pipe;

struct arg {
	enum arg_kind kind;
	char *name;		/* variable, function or string literal */
	json_object *lit;	/* number and bool literals */
	struct pipe *pipe;	/* A_PIPE: (...) */
	char **fields;		/* .A.B after the base */
	unsigned nfields;
};

struct cmd {
	struct arg *args;
	unsigned nargs;
};

struct pipe {
	struct cmd *cmds;
	unsigned ncmds;
	char *decl[2];		/* $k, $v := (or just $v :=) */
	unsigned ndecl;
};

enum node_kind { N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH };

struct node {
	enum node_kind kind;
	char *text;
	struct pipe *pipe;
	struct node *body, *els;	/* els: an else branch (an N_IF for else if) */
	struct node *next;
};

struct template {
	struct node *root;
	bool table;
};

/* The functions a template may call, with their argument counts. */
static const struct {
	const char *name;
	unsigned min, max;
} funcs[] = {
	{ "json", 1, 1 }, { "index", 1, 16 }, { "len", 1, 1 }, { "printf", 1, 16 }, { "print", 0, 16 },
	{ "println", 0, 16 }, { "upper", 1, 1 }, { "lower", 1, 1 }, { "title", 1, 1 }, { "join", 2, 2 },
	{ "split", 2, 2 }, { "pad", 3, 3 }, { "truncate", 2, 2 }, { "eq", 2, 16 }, { "ne", 2, 2 },
	{ "lt", 2, 2 }, { "le", 2, 2 }, { "gt", 2, 2 }, { "ge", 2, 2 }, { "and", 1, 16 },
	{ "or", 1, 16 }, { "not", 1, 1 },
};

static bool func_known(const char *name)
{
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (!strcmp(funcs[i].name, name))
			return true;
	return false;
}

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
			if (a->kind == A_FUNC && !func_known(a->name))
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
	if (cmd->nargs > 1 && cmd->args[0].kind != A_FUNC)
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

/* ---- rendering ---- */

struct var {
	const char *name;
	json_object *value;	/* a reference held by the scope */
};

struct render {
	FILE *out;
	struct error *e;
	struct var vars[TPL_VARS_MAX];
	unsigned nvars;
};

static json_object *ref(json_object *o)
{
	return json_object_get(o);
}

static bool truth(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return false;
	case json_type_boolean:
		return json_object_get_boolean(v);
	case json_type_int:
		return json_object_get_int64(v) != 0;
	case json_type_double:
		return json_object_get_double(v) != 0;
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	case json_type_array:
		return json_object_array_length(v) > 0;
	case json_type_object:
		return json_object_object_length(v) > 0;
	}
	return false;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An object's keys, sorted as Go sorts map keys. malloc'd array of borrowed strings. */
static const char **sorted_keys(json_object *o, size_t *n)
{
	const char **keys = malloc((json_object_object_length(o) + 1) * sizeof(*keys));

	*n = 0;
	if (!keys)
		return NULL;
	json_object_object_foreach(o, k, v) {
		(void)v;
		keys[(*n)++] = k;
	}
	qsort(keys, *n, sizeof(*keys), key_cmp);
	return keys;
}

/* Go's %v of a value: strings raw, maps as map[k:v], slices as [a b]. */
static void print_value(FILE *f, json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		fputs("<no value>", f);
		break;
	case json_type_string:
		fwrite(json_object_get_string(v), 1, json_object_get_string_len(v), f);
		break;
	case json_type_double: {
		double d = json_object_get_double(v);

		if (d == (long long)d && d < 1e21 && d > -1e21)
			fprintf(f, "%lld", (long long)d);
		else
			fprintf(f, "%g", d);
		break;
	}
	case json_type_array:
		fputc('[', f);
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if (i)
				fputc(' ', f);
			print_value(f, json_object_array_get_idx(v, i));
		}
		fputc(']', f);
		break;
	case json_type_object: {
		size_t n;
		const char **keys = sorted_keys(v, &n);

		fputs("map[", f);
		for (size_t i = 0; keys && i < n; i++) {
			fprintf(f, "%s%s:", i ? " " : "", keys[i]);
			print_value(f, json_object_object_get(v, keys[i]));
		}
		fputc(']', f);
		free(keys);
		break;
	}
	default:
		fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), f);
	}
}

/* The value as a malloc'd string (print_value's form). */
static char *to_string(json_object *v)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	if (json_object_is_type(v, json_type_null))
		fputs("", f);
	else
		print_value(f, v);
	fclose(f);
	return s;
}

static json_object *new_string_take(char *s)
{
	json_object *o = s ? json_object_new_string(s) : NULL;

	free(s);
	return o;
}

static int rerr(struct render *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rerr(struct render *r, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(r->e, -EINVAL, "template: %s", msg);
}

static int eval_pipe(struct render *r, const struct pipe *p, json_object *dot, json_object **out);

/* Follow .A.B from base (a reference, consumed). A missing key on a map is nil, as in Go. */
static int walk_fields(struct render *r, json_object *base, char *const *fields, unsigned n,
		       json_object **out)
{
	for (unsigned i = 0; i < n; i++) {
		json_object *next = NULL;

		if (base && !json_object_is_type(base, json_type_object)) {
			json_object_put(base);
			return rerr(r, "can't evaluate field %s in a %s", fields[i],
				    json_type_to_name(json_object_get_type(base)));
		}
		if (base)
			next = ref(json_object_object_get(base, fields[i]));
		json_object_put(base);
		base = next;
	}
	*out = base;
	return 0;
}

static int call(struct render *r, const char *fn, json_object **argv, unsigned argc,
		json_object **out);

/* One operand's value (a new reference in *out). */
static int eval_arg(struct render *r, const struct arg *a, json_object *dot, json_object **out)
{
	json_object *base = NULL;
	int ret;

	switch (a->kind) {
	case A_DOT:
	case A_FIELD:
		base = ref(dot);
		break;
	case A_VAR: {
		unsigned i = r->nvars;

		while (i > 0 && strcmp(r->vars[i - 1].name, a->name))
			i--;
		if (!i)
			return rerr(r, "undefined variable $%s", a->name);
		base = ref(r->vars[i - 1].value);
		break;
	}
	case A_STRING:
		*out = json_object_new_string(a->name);
		return 0;
	case A_NUMBER:
	case A_BOOL:
		*out = ref(a->lit);
		return 0;
	case A_NIL:
		*out = NULL;
		return 0;
	case A_FUNC:
		return call(r, a->name, NULL, 0, out);
	case A_PIPE:
		if ((ret = eval_pipe(r, a->pipe, dot, &base)))
			return ret;
		break;
	}
	return walk_fields(r, base, a->fields, a->nfields, out);
}

static int eval_cmd(struct render *r, const struct cmd *c, json_object *dot, json_object *piped,
		    bool has_piped, json_object **out)
{
	json_object *argv[16];
	unsigned argc = 0;
	int ret = 0;

	if (c->args[0].kind != A_FUNC) {
		if (has_piped)
			return rerr(r, "can't give an argument to a non-function");
		return eval_arg(r, &c->args[0], dot, out);
	}
	if (c->nargs - 1 + has_piped > sizeof(argv) / sizeof(argv[0]))
		return rerr(r, "too many arguments to %s", c->args[0].name);
	for (unsigned i = 1; i < c->nargs && !ret; i++)
		ret = eval_arg(r, &c->args[i], dot, &argv[argc++]);
	if (ret)
		argc--;
	else {
		if (has_piped)
			argv[argc++] = ref(piped);
		ret = call(r, c->args[0].name, argv, argc, out);
	}
	for (unsigned i = 0; i < argc; i++)
		json_object_put(argv[i]);
	return ret;
}

static int eval_pipe(struct render *r, const struct pipe *p, json_object *dot, json_object **out)
{
	json_object *v = NULL;
	int ret = 0;

	for (unsigned i = 0; i < p->ncmds && !ret; i++) {
		json_object *next = NULL;

		ret = eval_cmd(r, &p->cmds[i], dot, v, i > 0, &next);
		json_object_put(v);
		v = next;
	}
	if (ret) {
		json_object_put(v);
		return ret;
	}
	*out = v;
	return 0;
}

static int push_var(struct render *r, const char *name, json_object *v)
{
	if (r->nvars == TPL_VARS_MAX) {
		json_object_put(v);
		return rerr(r, "too many variables");
	}
	r->vars[r->nvars].name = name;
	r->vars[r->nvars++].value = v;
	return 0;
}

static void pop_vars(struct render *r, unsigned to)
{
	while (r->nvars > to)
		json_object_put(r->vars[--r->nvars].value);
}

static int render_list(struct render *r, const struct node *n, json_object *dot);

static int range_one(struct render *r, const struct node *n, json_object *key, json_object *item)
{
	unsigned mark = r->nvars;
	int ret = 0;

	if (n->pipe->ndecl == 2) {
		ret = push_var(r, n->pipe->decl[0], ref(key));
		if (!ret)
			ret = push_var(r, n->pipe->decl[1], ref(item));
	} else if (n->pipe->ndecl == 1) {
		ret = push_var(r, n->pipe->decl[0], ref(item));
	}
	if (!ret)
		ret = render_list(r, n->body, item);
	pop_vars(r, mark);
	return ret;
}

static int render_range(struct render *r, const struct node *n, json_object *v)
{
	int ret = 0;

	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v) && !ret; i++) {
			json_object *k = json_object_new_int64(i);

			ret = range_one(r, n, k, json_object_array_get_idx(v, i));
			json_object_put(k);
		}
	} else if (json_object_is_type(v, json_type_object)) {
		size_t nk;
		const char **keys = sorted_keys(v, &nk);

		for (size_t i = 0; keys && i < nk && !ret; i++) {
			json_object *k = json_object_new_string(keys[i]);

			ret = range_one(r, n, k, json_object_object_get(v, keys[i]));
			json_object_put(k);
		}
		free(keys);
	} else if (v && !json_object_is_type(v, json_type_null)) {
		return rerr(r, "range can't iterate over %s", json_object_to_json_string(v));
	}
	if (!ret && !truth(v))
		ret = render_list(r, n->els, NULL);
	return ret;
}

static int render_node(struct render *r, const struct node *n, json_object *dot)
{
	json_object *v = NULL;
	unsigned mark = r->nvars;
	int ret;

	if (n->kind == N_TEXT) {
		fputs(n->text, r->out);
		return 0;
	}
	if ((ret = eval_pipe(r, n->pipe, dot, &v)))
		return ret;
	switch (n->kind) {
	case N_ACTION:
		if (n->pipe->ndecl)	/* {{$x := ...}} declares, prints nothing */
			return push_var(r, n->pipe->decl[0], v);
		print_value(r->out, v);
		break;
	case N_IF:
		ret = truth(v) ? render_list(r, n->body, dot) :
		      n->els && n->els->kind == N_IF && !n->els->next && n->els->pipe ?
		      render_node(r, n->els, dot) : render_list(r, n->els, dot);
		break;
	case N_WITH:
		ret = truth(v) ? render_list(r, n->body, v) : render_list(r, n->els, dot);
		break;
	case N_RANGE:
		ret = render_range(r, n, v);
		break;
	default:
		break;
	}
	json_object_put(v);
	pop_vars(r, mark);
	return ret;
}

static int render_list(struct render *r, const struct node *n, json_object *dot)
{
	unsigned mark = r->nvars;
	int ret = 0;

	for (; n && !ret; n = n->next)
		ret = render_node(r, n, dot);
	pop_vars(r, mark);
	return ret;
}

int template_render(const struct template *t, json_object *data, FILE *out, struct error *e)
{
	struct render r = { .out = out, .e = e };
	int ret = push_var(&r, "", ref(data));

	if (!ret)
		ret = render_list(&r, t->root, data);
	pop_vars(&r, 0);
	return ret;
}

/* ---- functions ---- */

static double num(json_object *v)
{
	return json_object_is_type(v, json_type_string) ? strtod(json_object_get_string(v), NULL) :
	       json_object_get_double(v);
}

static int compare(json_object *a, json_object *b)
{
	if (json_object_is_type(a, json_type_string) && json_object_is_type(b, json_type_string))
		return strcmp(json_object_get_string(a), json_object_get_string(b));
	if ((json_object_is_type(a, json_type_null)) != (json_object_is_type(b, json_type_null)))
		return 1;
	return num(a) < num(b) ? -1 : num(a) > num(b);
}

/* Pad text to width: on the right with '-', else on the left (zeros for numbers with '0'). */
static void emit_padded(FILE *f, const char *text, int width, bool left, bool zero)
{
	int pad = width - (int)strlen(text);
	bool sign = zero && (*text == '-' || *text == '+');

	if (sign)
		fputc(*text++, f);
	for (int i = 0; !left && i < pad; i++)
		fputc(zero ? '0' : ' ', f);
	fputs(text, f);
	for (int i = 0; left && i < pad; i++)
		fputc(' ', f);
}

/* One verb's text (no padding) into buf. */
static char *verb_text(char verb, json_object *v, int prec, bool plus)
{
	char *s = NULL;

	switch (verb) {
	case 'd':
		if (asprintf(&s, plus ? "%+lld" : "%lld", (long long)num(v)) < 0)
			s = NULL;
		break;
	case 'x':
	case 'X':
		if (json_object_is_type(v, json_type_string)) {
			size_t len = json_object_get_string_len(v);
			const unsigned char *c = (const unsigned char *)json_object_get_string(v);

			s = malloc(2 * len + 1);
			for (size_t i = 0; s && i < len; i++)
				sprintf(s + 2 * i, verb == 'x' ? "%02x" : "%02X", c[i]);
			if (s)
				s[2 * len] = 0;
		} else if (asprintf(&s, verb == 'x' ? "%llx" : "%llX", (long long)num(v)) < 0) {
			s = NULL;
		}
		break;
	case 'f':
		if (asprintf(&s, "%.*f", prec < 0 ? 6 : prec, num(v)) < 0)
			s = NULL;
		break;
	case 'q':	/* a quoted string with escapes, as JSON writes it */
		s = strdup(v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_NOSLASHESCAPE) :
			   "%!q(<nil>)");
		break;
	default:	/* s, v and the rest: the value's text, cut to the precision */
		s = to_string(v);
		if (s && prec >= 0 && strlen(s) > (size_t)prec)
			s[prec] = 0;
		break;
	}
	return s;
}

/* Go's printf for the verbs people use: %s %v %d %q %x %X %f, with - + 0, width and precision. */
static char *go_printf(const char *fmt, json_object **argv, unsigned argc)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);
	unsigned ai = 0;

	if (!f)
		return NULL;
	for (const char *p = fmt; *p; p++) {
		bool left = false, zero = false, plus = false;
		int width = 0, prec = -1;
		char *text;

		if (*p != '%') {
			fputc(*p, f);
			continue;
		}
		for (p++; *p && strchr("-+0 #", *p); p++) {
			left |= *p == '-';
			zero |= *p == '0';
			plus |= *p == '+';
		}
		for (; *p >= '0' && *p <= '9'; p++)
			width = width < 10000 ? width * 10 + (*p - '0') : width;
		if (*p == '.')
			for (prec = 0, p++; *p >= '0' && *p <= '9'; p++)
				prec = prec < 10000 ? prec * 10 + (*p - '0') : prec;
		if (!*p)
			break;
		if (*p == '%') {
			fputc('%', f);
			continue;
		}
		text = verb_text(*p, ai < argc ? argv[ai++] : NULL, prec, plus);
		emit_padded(f, text ? text : "", width, left, zero && !left && strchr("dxXf", *p));
		free(text);
	}
	fclose(f);
	return s;
}

static json_object *func_json(json_object *v)
{
	return json_object_new_string(v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
									JSON_C_TO_STRING_NOSLASHESCAPE) : "null");
}

static char *change_case(json_object *v, int (*fn)(int), bool title)
{
	char *s = to_string(v);
	bool start = true;

	for (char *c = s; c && *c; c++) {
		if (!title || start)
			*c = fn((unsigned char)*c);
		start = isspace((unsigned char)*c);
	}
	return s;
}

static int func_index(struct render *r, json_object **argv, unsigned argc, json_object **out)
{
	json_object *v = ref(argv[0]);

	for (unsigned i = 1; i < argc; i++) {
		json_object *next = NULL;

		if (json_object_is_type(v, json_type_array)) {
			int64_t k = json_object_get_int64(argv[i]);

			if (k < 0 || (size_t)k >= json_object_array_length(v)) {
				json_object_put(v);
				return rerr(r, "index out of range: %lld", (long long)k);
			}
			next = ref(json_object_array_get_idx(v, k));
		} else if (json_object_is_type(v, json_type_object)) {
			next = ref(json_object_object_get(v, json_object_get_string(argv[i])));
		} else if (v) {
			json_object_put(v);
			return rerr(r, "can't index item of type %s", json_type_to_name(json_object_get_type(v)));
		}
		json_object_put(v);
		v = next;
	}
	*out = v;
	return 0;
}

static json_object *func_join(json_object *list, json_object *sep)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; json_object_is_type(list, json_type_array) && i < json_object_array_length(list); i++) {
		if (i)
			fputs(json_object_get_string(sep), f);
		print_value(f, json_object_array_get_idx(list, i));
	}
	fclose(f);
	return new_string_take(s);
}

static json_object *func_split(json_object *v, json_object *sep)
{
	char *s = to_string(v), *p = s;
	const char *d = json_object_get_string(sep);
	size_t dl = strlen(d);
	json_object *arr = json_object_new_array();

	while (p && arr) {
		char *hit = dl ? strstr(p, d) : NULL;

		json_object_array_add(arr, json_object_new_string_len(p, hit ? hit - p : (int)strlen(p)));
		if (!hit)
			break;
		p = hit + dl;
	}
	free(s);
	return arr;
}


static json_object *print_all(json_object **argv, unsigned argc, bool ln)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	for (unsigned i = 0; i < argc; i++) {
		bool str = json_object_is_type(argv[i], json_type_string);

		/* Go's Sprint adds spaces between operands when neither is a string; Sprintln always. */
		if (i && (ln || (!str && !json_object_is_type(argv[i - 1], json_type_string))))
			fputc(' ', f);
		print_value(f, argv[i]);
	}
	if (ln)
		fputc('\n', f);
	fclose(f);
	return new_string_take(s);
}

static int call(struct render *r, const char *fn, json_object **argv, unsigned argc,
		json_object **out)
{
	size_t i;
	char *s;

	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]) && strcmp(funcs[i].name, fn); i++)
		;
	if (i == sizeof(funcs) / sizeof(funcs[0]))
		return rerr(r, "function \"%s\" not defined", fn);
	if (argc < funcs[i].min || argc > funcs[i].max)
		return rerr(r, "wrong number of arguments for %s: %u", fn, argc);
	*out = NULL;
	if (!strcmp(fn, "json")) {
		*out = func_json(argv[0]);
	} else if (!strcmp(fn, "index")) {
		return func_index(r, argv, argc, out);
	} else if (!strcmp(fn, "len")) {
		json_type t = json_object_get_type(argv[0]);

		if (t != json_type_array && t != json_type_object && t != json_type_string)
			return rerr(r, "len of %s", json_type_to_name(t));
		*out = json_object_new_int64(t == json_type_array ? (int64_t)json_object_array_length(argv[0]) :
					     t == json_type_object ? json_object_object_length(argv[0]) :
					     json_object_get_string_len(argv[0]));
	} else if (!strcmp(fn, "printf")) {
		*out = new_string_take(go_printf(json_object_get_string(argv[0]), argv + 1, argc - 1));
	} else if (!strcmp(fn, "print") || !strcmp(fn, "println")) {
		*out = print_all(argv, argc, fn[5] == 'l');
	} else if (!strcmp(fn, "upper") || !strcmp(fn, "lower") || !strcmp(fn, "title")) {
		*out = new_string_take(change_case(argv[0], fn[0] == 'l' ? tolower : toupper, fn[0] == 't'));
	} else if (!strcmp(fn, "join")) {
		*out = func_join(argv[0], argv[1]);
	} else if (!strcmp(fn, "split")) {
		*out = func_split(argv[0], argv[1]);
	} else if (!strcmp(fn, "pad")) {	/* docker's: spaces before and after */
		char *v = to_string(argv[0]);

		s = NULL;
		if (v && asprintf(&s, "%*s%s%*s", (int)num(argv[1]), "", v, (int)num(argv[2]), "") < 0)
			s = NULL;
		free(v);
		*out = new_string_take(s);
	} else if (!strcmp(fn, "truncate")) {
		s = to_string(argv[0]);
		if (s && num(argv[1]) >= 0 && strlen(s) > (size_t)num(argv[1]))
			s[(size_t)num(argv[1])] = 0;
		*out = new_string_take(s);
	} else if (!strcmp(fn, "eq")) {
		bool any = false;

		for (unsigned k = 1; k < argc; k++)
			any |= compare(argv[0], argv[k]) == 0;
		*out = json_object_new_boolean(any);
	} else if (!strcmp(fn, "ne") || !strcmp(fn, "lt") || !strcmp(fn, "le") ||
		   !strcmp(fn, "gt") || !strcmp(fn, "ge")) {
		int c = compare(argv[0], argv[1]);

		*out = json_object_new_boolean(fn[0] == 'n' ? c != 0 : fn[0] == 'l' ?
					       (fn[1] == 't' ? c < 0 : c <= 0) : (fn[1] == 't' ? c > 0 : c >= 0));
	} else if (!strcmp(fn, "and") || !strcmp(fn, "or")) {
		unsigned k = 0;

		/* Go: the first falsy (and) or truthy (or) argument, else the last. */
		while (k + 1 < argc && truth(argv[k]) == (fn[0] == 'a'))
			k++;
		*out = ref(argv[k]);
	} else {
		*out = json_object_new_boolean(!truth(argv[0]));
	}
	return 0;
}

/* ---- tables ---- */

void template_align(const char *text, FILE *out)
{
	size_t widths[64] = { 0 };
	const char *line;

	/* Pass 1: the widest cell of each column (all but each line's last cell). */
	for (line = text; *line;) {
		const char *eol = strchr(line, '\n'), *c = line;
		unsigned col = 0;

		eol = eol ? eol : line + strlen(line);
		for (const char *tab; (tab = memchr(c, '\t', eol - c)) && col < 64; c = tab + 1, col++)
			widths[col] = widths[col] > (size_t)(tab - c) ? widths[col] : (size_t)(tab - c);
		line = *eol ? eol + 1 : eol;
	}
	/* Pass 2: pad each cell to max(width + 3, 10). */
	for (line = text; *line;) {
		const char *eol = strchr(line, '\n'), *c = line;
		unsigned col = 0;

		eol = eol ? eol : line + strlen(line);
		for (const char *tab; (tab = memchr(c, '\t', eol - c)) && col < 64; c = tab + 1, col++) {
			size_t w = widths[col] + 3 > 10 ? widths[col] + 3 : 10;

			fprintf(out, "%.*s%*s", (int)(tab - c), c, (int)(w - (tab - c)), "");
		}
		fprintf(out, "%.*s\n", (int)(eol - c), c);
		line = *eol ? eol + 1 : eol;
	}
}

int template_print(const struct template *t, json_object *header, json_object *rows, FILE *out,
		   struct error *e)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	int ret = 0;

	if (!f)
		return err_set(e, -ENOMEM, "out of memory");
	/* docker's header row: the same template, each field giving its column's title. */
	if (t->table && header) {
		ret = template_render(t, header, f, e);
		fputc('\n', f);
	}
	for (size_t i = 0; !ret && i < json_object_array_length(rows); i++) {
		ret = template_render(t, json_object_array_get_idx(rows, i), f, e);
		fputc('\n', f);
	}
	fclose(f);
	if (!ret && t->table)
		template_align(buf, out);
	else if (!ret)
		fputs(buf, out);
	free(buf);
	return ret;
}
