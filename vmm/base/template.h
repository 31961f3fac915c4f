/*
 * docker's --format: the subset of Go's text/template that people type, over
 * JSON data (json-c). Fields (.A.B), variables ($, $x), literals, pipelines
 * with |, parentheses; if / else if / else, range (with $k, $v :=), with;
 * the functions json, index, len, printf, print, println, upper, lower,
 * title, join, split, pad, truncate, eq, ne, lt, le, gt, ge, and, or, not.
 * A "table " prefix asks for docker's aligned table with a header line.
 */
#ifndef VMM_BASE_TEMPLATE_H
#define VMM_BASE_TEMPLATE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "vmm/base/error.h"

struct template;

/* Parse src. 0, or -EINVAL with e naming the problem ("template: ... "). */
int template_parse(const char *src, struct template **out, struct error *e);
/*
 * A list command's --format (ps, images, stats, events, volume ls, network
 * ls): "json" is {{json .}}, and the template is strict, as docker's rows are
 * Go structs: a field the row lacks ({{.Foo}}) is an error when a row is
 * rendered, not <no value>. Nested objects stay maps (a missing key is nil).
 */
int template_parse_rows(const char *src, struct template **out, struct error *e);
void template_free(struct template *t);
/* Did the source start with "table"? Then print a header row and align the columns. */
bool template_is_table(const struct template *t);
/* Render t with data as dot; appends to out. 0, or -EINVAL with e set (an unknown function, a bad index...). */
int template_render(const struct template *t, json_object *data, FILE *out, struct error *e);

/*
 * Print each row of rows (a JSON array) on a line. A table starts with a
 * header row, the template rendered with header (whose fields hold each
 * column's title: {"Name": "VOLUME NAME"}), and is aligned.
 */
int template_print(const struct template *t, json_object *header, json_object *rows, FILE *out,
		   struct error *e);

/*
 * Align tab-separated cells as docker's tables are (Go's tabwriter with a
 * minimum width of 10 and 3 spaces of padding; the last cell is not padded).
 */
void template_align(const char *text, FILE *out);

#endif
