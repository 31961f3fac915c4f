/*
 * Image references as docker parses them: [domain/]path[:tag][@digest], normalized
 * (busybox = docker.io/library/busybox:latest) and shown in short ("familiar") form.
 */
#ifndef VMM_IMAGES_OCI_REF_H
#define VMM_IMAGES_OCI_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/base/digest.h"

#define REF_DEFAULT_DOMAIN	"docker.io"
#define REF_NAME_MAX		255	/* domain/path, as docker limits it */
#define REF_TAG_MAX		128
/* Enough for any normalized reference: name, ":" tag, "@" digest. */
#define REF_STR_MAX		(REF_NAME_MAX + 1 + REF_TAG_MAX + 1 + DIGEST_STR_LEN + 1)

struct image_ref {
	char domain[REF_NAME_MAX + 1];	/* "docker.io", "host:5000", "localhost" */
	char path[REF_NAME_MAX + 1];	/* "library/busybox", "a/b" */
	char tag[REF_TAG_MAX + 1];	/* "" when none */
	char digest[DIGEST_BUF];	/* "" when none */
};

enum {
	REF_DEFAULT_TAG = 1 << 0,	/* add ":latest" when there is neither tag nor digest */
};

/*
 * Parse and normalize s. Returns 0, or -EINVAL with *why (if why is not NULL)
 * pointing at a static explanation such as "repository name must be lowercase".
 */
int ref_parse(const char *s, unsigned flags, struct image_ref *ref, const char **why);

/* "docker.io/library/busybox:latest" (tag and/or digest when present). */
void ref_format(const struct image_ref *ref, char *buf, size_t len);
/* "docker.io/library/busybox" */
void ref_format_repo(const struct image_ref *ref, char *buf, size_t len);
/* "busybox", "user/app", "host:5000/a/b": the repository as docker shows it. */
void ref_format_short_repo(const struct image_ref *ref, char *buf, size_t len);
/* "busybox:latest", "host:5000/a/b:tag", "busybox@sha256:..." */
void ref_format_short(const struct image_ref *ref, char *buf, size_t len);

/* Whether s is a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}). */
bool ref_tag_valid(const char *s);

#endif
