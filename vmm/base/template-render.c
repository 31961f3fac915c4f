/* Rendering a parsed template with json-c values, each held by one reference; tables. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/template-internal.h"

/* ---- rendering ---- */

json_object * tpl_ref(json_object *o)
{
	return json_object_get(o);
}

bool tpl_truth(json_object *v)
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
const char ** tpl_sorted_keys(json_object *o, size_t *n)
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
void tpl_print_value(FILE *f, json_object *v)
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
			tpl_print_value(f, json_object_array_get_idx(v, i));
		}
		fputc(']', f);
		break;
	case json_type_object: {
		size_t n;
		const char **keys = tpl_sorted_keys(v, &n);

		fputs("map[", f);
		for (size_t i = 0; keys && i < n; i++) {
			fprintf(f, "%s%s:", i ? " " : "", keys[i]);
			tpl_print_value(f, json_object_object_get(v, keys[i]));
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
char * tpl_to_string(json_object *v)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	if (json_object_is_type(v, json_type_null))
		fputs("", f);
	else
		tpl_print_value(f, v);
	fclose(f);
	return s;
}

json_object * tpl_new_string_take(char *s)
{
	json_object *o = s ? json_object_new_string(s) : NULL;

	free(s);
	return o;
}

int tpl_rerr(struct render *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tpl_rerr(struct render *r, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(r->e, -EINVAL, "template: %s", msg);
}

static int eval_pipe(struct render *r, const struct pipe *p, json_object *dot, json_object **out);

/*
 * Follow .A.B from base (a reference, consumed). A missing key on a map is nil, as in Go;
 * on a strict template's row (a struct in docker) it is an error, as Go's.
 */
static int walk_fields(struct render *r, json_object *base, char *const *fields, unsigned n,
		       json_object **out)
{
	for (unsigned i = 0; i < n; i++) {
		json_object *next = NULL;

		if (base && !json_object_is_type(base, json_type_object)) {
			json_object_put(base);
			return tpl_rerr(r, "can't evaluate field %s in a %s", fields[i],
				    json_type_to_name(json_object_get_type(base)));
		}
		if (base && !json_object_object_get_ex(base, fields[i], &next) && base == r->strict_row) {
			json_object_put(base);
			return tpl_rerr(r, "executing at <.%s>: can't evaluate field %s", fields[i], fields[i]);
		}
		next = tpl_ref(next);
		json_object_put(base);
		base = next;
	}
	*out = base;
	return 0;
}

int tpl_call(struct render *r, const char *fn, json_object **argv, unsigned argc,
		json_object **out);

/* One operand's value (a new reference in *out). */
static int eval_arg(struct render *r, const struct arg *a, json_object *dot, json_object **out)
{
	json_object *base = NULL;
	int ret;

	switch (a->kind) {
	case A_DOT:
	case A_FIELD:
		base = tpl_ref(dot);
		break;
	case A_VAR: {
		unsigned i = r->nvars;

		while (i > 0 && strcmp(r->vars[i - 1].name, a->name))
			i--;
		if (!i)
			return tpl_rerr(r, "undefined variable $%s", a->name);
		base = tpl_ref(r->vars[i - 1].value);
		break;
	}
	case A_STRING:
		*out = json_object_new_string(a->name);
		return 0;
	case A_NUMBER:
	case A_BOOL:
		*out = tpl_ref(a->lit);
		return 0;
	case A_NIL:
		*out = NULL;
		return 0;
	case A_FUNC:
		return tpl_call(r, a->name, NULL, 0, out);
	case A_PIPE:
		if ((ret = eval_pipe(r, a->pipe, dot, &base)))
			return ret;
		break;
	}
	return walk_fields(r, base, a->fields, a->nfields, out);
}

/* KEY's value in labels: docker's rows join them "k=v,k2=v2"; inspect's are an object. */
static json_object *label_value(json_object *labels, const char *key)
{
	const char *s, *p;
	size_t klen = strlen(key);
	json_object *v;

	if (json_object_is_type(labels, json_type_object))
		return json_object_object_get_ex(labels, key, &v) ? tpl_ref(v) : json_object_new_string("");
	s = json_object_is_type(labels, json_type_string) ? json_object_get_string(labels) : "";
	for (p = s; *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p)) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			const char *end = strchr(p + klen + 1, ',');

			return json_object_new_string_len(p + klen + 1, end ? (int)(end - p - klen - 1) :
							  (int)strlen(p + klen + 1));
		}
	}
	return json_object_new_string("");
}

/* docker's one method with an argument: .Label "KEY" on a row (or .A.Label "KEY"), from its .Labels */
static int label_method(struct render *r, const struct cmd *c, json_object *dot, json_object **out)
{
	const struct arg *a = &c->args[0];
	json_object *base = NULL, *key = NULL, *labels;
	int ret;

	if (c->nargs != 2)
		return tpl_rerr(r, "wrong number of args for Label: want 1 got %u", c->nargs - 1);
	if ((ret = eval_arg(r, &c->args[1], dot, &key)))
		return ret;
	if (!json_object_is_type(key, json_type_string)) {
		json_object_put(key);
		return tpl_rerr(r, "Label: the key must be a string");
	}
	if (!(ret = walk_fields(r, tpl_ref(dot), a->fields, a->nfields - 1, &base))) {
		labels = base && json_object_object_get_ex(base, "Labels", &labels) ? labels : NULL;
		*out = label_value(labels, json_object_get_string(key));
	}
	json_object_put(base);
	json_object_put(key);
	return ret;
}

static int eval_cmd(struct render *r, const struct cmd *c, json_object *dot, json_object *piped,
		    bool has_piped, json_object **out)
{
	json_object *argv[16];
	unsigned argc = 0;
	int ret = 0;

	if (c->nargs > 1 && !has_piped && tpl_is_label_method(c))
		return label_method(r, c, dot, out);
	if (c->args[0].kind != A_FUNC) {
		if (has_piped)
			return tpl_rerr(r, "can't give an argument to a non-function");
		return eval_arg(r, &c->args[0], dot, out);
	}
	if (c->nargs - 1 + has_piped > sizeof(argv) / sizeof(argv[0]))
		return tpl_rerr(r, "too many arguments to %s", c->args[0].name);
	for (unsigned i = 1; i < c->nargs && !ret; i++)
		ret = eval_arg(r, &c->args[i], dot, &argv[argc++]);
	if (ret)
		argc--;
	else {
		if (has_piped)
			argv[argc++] = tpl_ref(piped);
		ret = tpl_call(r, c->args[0].name, argv, argc, out);
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
		return tpl_rerr(r, "too many variables");
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
		ret = push_var(r, n->pipe->decl[0], tpl_ref(key));
		if (!ret)
			ret = push_var(r, n->pipe->decl[1], tpl_ref(item));
	} else if (n->pipe->ndecl == 1) {
		ret = push_var(r, n->pipe->decl[0], tpl_ref(item));
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
		const char **keys = tpl_sorted_keys(v, &nk);

		for (size_t i = 0; keys && i < nk && !ret; i++) {
			json_object *k = json_object_new_string(keys[i]);

			ret = range_one(r, n, k, json_object_object_get(v, keys[i]));
			json_object_put(k);
		}
		free(keys);
	} else if (v && !json_object_is_type(v, json_type_null)) {
		return tpl_rerr(r, "range can't iterate over %s", json_object_to_json_string(v));
	}
	if (!ret && !tpl_truth(v))
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
		tpl_print_value(r->out, v);
		break;
	case N_IF:
		ret = tpl_truth(v) ? render_list(r, n->body, dot) :
		      n->els && n->els->kind == N_IF && !n->els->next && n->els->pipe ?
		      render_node(r, n->els, dot) : render_list(r, n->els, dot);
		break;
	case N_WITH:
		ret = tpl_truth(v) ? render_list(r, n->body, v) : render_list(r, n->els, dot);
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

static int render_top(const struct template *t, json_object *data, bool strict, FILE *out, struct error *e)
{
	struct render r = { .out = out, .e = e, .strict_row = strict ? data : NULL };
	int ret = push_var(&r, "", tpl_ref(data));

	if (!ret)
		ret = render_list(&r, t->root, data);
	pop_vars(&r, 0);
	return ret;
}

int template_render(const struct template *t, json_object *data, FILE *out, struct error *e)
{
	return render_top(t, data, t->strict, out, e);
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
		/* docker's header is a map: an unknown field is <no value> there, even when strict */
		ret = render_top(t, header, false, f, e);
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
