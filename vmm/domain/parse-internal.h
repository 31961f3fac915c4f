/*
 * Shared by the domain XML parser's files (parse.c, parse-fs.c): the parse
 * state and the dx_ ("domain XML") helpers over libxml2 nodes.
 */
#ifndef VMM_DOMAIN_PARSE_INTERNAL_H
#define VMM_DOMAIN_PARSE_INTERNAL_H

#include <libxml/tree.h>
#include <stdbool.h>

#include "vmm/domain/domain.h"

struct parse {
	struct domain_def *d;
	struct error *e;
};

/* "XPATH: why" for node n into p->e. Returns -EINVAL. */
int dx_refuse(struct parse *p, const xmlNode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A debug line: n is ignored, and why. */
void dx_pass_over(const xmlNode *n, const char *why);
/* Is n the element name? */
bool dx_is(const xmlNode *n, const char *name);
/* The attribute's value (free with xmlFree), or NULL. */
char *dx_attr(const xmlNode *n, const char *name);
bool dx_has_attr(const xmlNode *n, const char *name);
bool dx_attr_is(const xmlNode *n, const char *name, const char *want);
/* The element's text, white space trimmed: malloc'd, NULL when empty. */
char *dx_text(const xmlNode *n);
/* Required text into *out (malloc'd, replacing it); refused when empty. */
int dx_take_text(struct parse *p, const xmlNode *n, char **out);
/* A child element's attribute, malloc'd (NULL when absent). */
char *dx_child_attr(const xmlNode *n, const char *child, const char *name);

/* parse-fs.c: <filesystem> (virtio-fs). */
int dx_parse_filesystem(struct parse *p, const xmlNode *n);

#endif
