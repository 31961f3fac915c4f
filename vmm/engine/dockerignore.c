/* .dockerignore matching (see dockerignore.h). */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/path.h"
#include "vmm/engine/dockerignore.h"

struct rule {
	char *pattern;		/* cleaned, relative, '/'-separated */
	bool exclusion;		/* '!': re-include */
};

struct dockerignore {
	struct rule *rules;
	size_t n;
};

void dockerignore_free(struct dockerignore *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->rules[i].pattern);
	free(d->rules);
	free(d);
}

/* Go's filepath.Match is fnmatch without special slashes, per element; "\\" escapes. */
static bool element_match(const char *pat, size_t plen, const char *s, size_t slen)
{
	char p[PATH_NAME_MAX * 2 + 1], n[PATH_NAME_MAX + 1];

	if (plen >= sizeof(p) || slen >= sizeof(n))
		return false;
	memcpy(p, pat, plen);
	p[plen] = 0;
	memcpy(n, s, slen);
	n[slen] = 0;
	return fnmatch(p, n, 0) == 0;
}

/* Does pattern (elements split at '/') match path exactly? ** spans any number of elements. */
static bool match(const char *pat, const char *path)
{
	const char *pe = strchr(pat, '/'), *se;
	size_t plen = pe ? (size_t)(pe - pat) : strlen(pat);

	if (plen == 2 && !strncmp(pat, "**", 2)) {
		const char *rest = pe ? pe + 1 : "";

		if (!*rest)
			return true;	/* a trailing ** takes everything below */
		for (const char *s = path;; s = se + 1) {
			if (match(rest, s))
				return true;
			se = strchr(s, '/');
			if (!se)
				return false;
		}
	}
	se = strchr(path, '/');
	if (!element_match(pat, plen, path, se ? (size_t)(se - path) : strlen(path)))
		return false;
	if (!pe)
		return !se;
	return se ? match(pe + 1, se + 1) : false;
}

bool dockerignore_excludes(const struct dockerignore *d, const char *path)
{
	bool excluded = false;
	char buf[4096];

	if (!d || strlen(path) >= sizeof(buf))
		return false;
	for (size_t i = 0; i < d->n; i++) {
		bool hit = false;

		/* The path itself, or a folder above it. */
		strcpy(buf, path);
		for (char *slash; !hit;) {
			hit = match(d->rules[i].pattern, buf);
			slash = strrchr(buf, '/');
			if (!slash)
				break;
			*slash = 0;
		}
		if (hit)
			excluded = !d->rules[i].exclusion;
	}
	return excluded;
}

int dockerignore_parse(const char *text, size_t len, struct dockerignore **out, struct error *e)
{
	struct dockerignore *d = calloc(1, sizeof(*d));
	unsigned lineno = 0;

	if (!d)
		return err_set(e, -ENOMEM, "out of memory");
	if (len > DOCKERIGNORE_MAX) {
		free(d);
		return err_set(e, -EFBIG, ".dockerignore is %zu bytes; at most %d", len, DOCKERIGNORE_MAX);
	}
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', end - p), *s = p, *t = nl ? nl : end;
		char raw[4096], clean[4096];
		bool excl = false;
		struct rule *grown;

		p = nl ? nl + 1 : end;
		lineno++;
		while (s < t && isspace((unsigned char)*s))
			s++;
		while (t > s && isspace((unsigned char)t[-1]))
			t--;
		if (s == t || *s == '#')
			continue;
		if (*s == '!') {
			excl = true;
			s++;
			while (s < t && isspace((unsigned char)*s))
				s++;
		}
		if ((size_t)(t - s) >= sizeof(raw) || d->n == DOCKERIGNORE_PATTERNS_MAX) {
			dockerignore_free(d);
			return err_set(e, -EINVAL, ".dockerignore line %u: too long (or too many lines)", lineno);
		}
		memcpy(raw, s, t - s);
		raw[t - s] = 0;
		/* filepath.Clean, then relative to the context: "/a/../b/" is "b". */
		if (path_clean(raw, PATH_DOTDOT_CLAMP, clean, sizeof(clean))) {
			dockerignore_free(d);
			return err_set(e, -EINVAL, ".dockerignore line %u: bad pattern '%s'", lineno, raw);
		}
		if (!*clean)
			continue;	/* "." or "/": the context itself is never left out */
		grown = realloc(d->rules, (d->n + 1) * sizeof(*grown));
		if (grown)
			d->rules = grown;
		if (!grown || !(d->rules[d->n].pattern = strdup(clean))) {
			dockerignore_free(d);
			return err_set(e, -ENOMEM, "out of memory");
		}
		d->rules[d->n++].exclusion = excl;
	}
	*out = d;
	return 0;
}
