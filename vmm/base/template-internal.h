/* Shared by template.c (parsing), template-render.c and template-funcs.c. */
#ifndef VMM_BASE_TEMPLATE_INTERNAL_H
#define VMM_BASE_TEMPLATE_INTERNAL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
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
	bool strict;	/* a missing field of the row is an error (docker's struct rows), not <no value> */
};

struct var {
	const char *name;
	json_object *value;	/* a reference held by the scope */
};

struct render {
	FILE *out;
	struct error *e;
	json_object *strict_row;	/* strict templates: the row, whose fields must exist; else NULL */
	struct var vars[TPL_VARS_MAX];
	unsigned nvars;
};

/* A field with arguments is a method call; docker's rows have one, .Label KEY (template-render.c). */
static inline bool tpl_is_label_method(const struct cmd *c)
{
	const struct arg *a = &c->args[0];

	return a->kind == A_FIELD && a->nfields && !strcmp(a->fields[a->nfields - 1], "Label");
}

/* template-funcs.c: is name a function; call it on argv (new reference in *out). */
bool tpl_func_known(const char *name);
int tpl_call(struct render *r, const char *fn, json_object **argv, unsigned argc, json_object **out);

/* template-render.c: values as Go prints and tests them. */
json_object *tpl_ref(json_object *o);
bool tpl_truth(json_object *v);
const char **tpl_sorted_keys(json_object *o, size_t *n);
void tpl_print_value(FILE *f, json_object *v);
char *tpl_to_string(json_object *v);
json_object *tpl_new_string_take(char *s);
int tpl_rerr(struct render *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
