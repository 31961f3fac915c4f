/* The domain XML parser's helpers over libxml2 nodes (parse-internal.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/log.h"
#include "vmm/domain/parse-internal.h"

/* "XPATH: why" for node n. Returns -EINVAL. */
int dx_refuse(struct parse *p, const xmlNode *n, const char *fmt, ...)
{
	xmlChar *path = xmlGetNodePath(n);
	char why[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	err_set(p->e, -EINVAL, "%s: %s", path ? (const char *)path : "/domain", why);
	xmlFree(path);
	return -EINVAL;
}

void dx_pass_over(const xmlNode *n, const char *why)
{
	xmlChar *path = xmlGetNodePath(n);

	pr_debug("domain XML: ignoring %s (%s)", path ? (const char *)path : "?", why);
	xmlFree(path);
}

bool dx_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* The attribute's value, or NULL; libxml2 owns nothing we keep (copied on use). */
char *dx_attr(const xmlNode *n, const char *name)
{
	return (char *)xmlGetProp(n, (const xmlChar *)name);
}

bool dx_has_attr(const xmlNode *n, const char *name)
{
	return xmlHasProp(n, (const xmlChar *)name) != NULL;
}

bool dx_attr_is(const xmlNode *n, const char *name, const char *want)
{
	char *v = dx_attr(n, name);
	bool same = v && !strcmp(v, want);

	xmlFree(v);
	return same;
}

/* The element's text with surrounding white space trimmed: malloc'd, NULL when empty. */
char *dx_text(const xmlNode *n)
{
	xmlChar *raw = xmlNodeGetContent(n);
	char *s, *end, *out = NULL;

	if (!raw)
		return NULL;
	for (s = (char *)raw; *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'; s++)
		;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (end > s)
		out = strndup(s, end - s);
	xmlFree(raw);
	return out;
}

/* Required text into *out (malloc'd). */
int dx_take_text(struct parse *p, const xmlNode *n, char **out)
{
	free(*out);
	*out = dx_text(n);
	if (!*out)
		return dx_refuse(p, n, "empty; give a value");
	return 0;
}

/* A child element's attribute as a malloc'd string (NULL when absent). */
char *dx_child_attr(const xmlNode *n, const char *child, const char *name)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (dx_is(c, child)) {
			char *v = dx_attr(c, name), *dup = v ? strdup(v) : NULL;

			xmlFree(v);
			return dup;
		}
	return NULL;
}
