/*
 * .dockerignore: which files of a build context are left out, with docker's
 * rules: one pattern a line (Go's filepath.Match per path element, ** for
 * any number of elements), '#' comments, '!' re-includes, the last matching
 * line wins, and a pattern that matches a folder leaves out what it holds.
 */
#ifndef VMM_ENGINE_DOCKERIGNORE_H
#define VMM_ENGINE_DOCKERIGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/base/error.h"

#define DOCKERIGNORE_MAX	(256 << 10)
#define DOCKERIGNORE_PATTERNS_MAX	4096

struct dockerignore;

/* Parse the file's text (len bytes; NULL/0: no file). 0, or -EINVAL with e naming the line. */
int dockerignore_parse(const char *text, size_t len, struct dockerignore **out, struct error *e);
/* Is path (relative to the context, '/'-separated) left out of the context? */
bool dockerignore_excludes(const struct dockerignore *d, const char *path);
void dockerignore_free(struct dockerignore *d);

#endif
