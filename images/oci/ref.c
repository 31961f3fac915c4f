/* Docker's reference grammar (distribution/reference), hand-written without regexes. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "images/oci/ref.h"
#include "vmm/base/hex.h"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* path-component := [a-z0-9]+ (([._]|__|[-]+) [a-z0-9]+)* */
static bool path_component_valid(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	while (i < n) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		/* a separator, followed by an alphanumeric (the last char is one) */
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i >= n || !is_lower_alnum(s[i]))
			return false;
	}
	return true;
}

static bool path_valid(const char *s)
{
	const char *p = s;

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (!path_component_valid(p, n))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

/* domain-component := [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? */
static bool domain_component_valid(const char *s, size_t n)
{
	if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/* host[:port], host a dotted name, an IPv4 address or [IPv6]. */
static bool domain_valid(const char *s)
{
	const char *end, *port = NULL, *p;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close == s + 1)
			return false;
		for (p = s + 1; p < close; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return false;
		if (close[1] == ':')
			port = close + 1;
		else if (close[1])
			return false;
	} else {
		port = strchr(s, ':');
		end = port ? port : s + strlen(s);
		p = s;
		for (;;) {
			const char *dot = memchr(p, '.', end - p);
			size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);

			if (!domain_component_valid(p, n))
				return false;
			if (!dot)
				break;
			p = dot + 1;
		}
	}
	if (port) {
		if (!port[1])
			return false;
		for (p = port + 1; *p; p++)
			if (!isdigit((unsigned char)*p))
				return false;
	}
	return true;
}

bool ref_tag_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > REF_TAG_MAX || !is_word(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EINVAL;
}

int ref_parse(const char *s, unsigned flags, struct image_ref *ref, const char **why)
{
	char buf[REF_STR_MAX + 1];
	char *rest, *at, *colon, *slash;
	size_t n;

	memset(ref, 0, sizeof(*ref));
	if (!s || !*s)
		return fail(why, "empty reference");
	n = strlen(s);
	if (n >= sizeof(buf))
		return fail(why, "reference too long");
	if (n == DIGEST_HEX_LEN && hex_valid(s, n))
		return fail(why, "cannot specify 64-byte hexadecimal strings as a repository name");
	memcpy(buf, s, n + 1);

	/* digest */
	at = strchr(buf, '@');
	if (at) {
		*at = '\0';
		if (!digest_valid(at + 1))
			return fail(why, digest_algorithm_known(at + 1) && strncmp(at + 1, "sha256:", 7) ?
				    "unsupported digest algorithm (only sha256 is supported)" :
				    "invalid digest (want sha256: and 64 lowercase hex digits)");
		memcpy(ref->digest, at + 1, DIGEST_BUF);
	}

	/* domain: the first component when it looks like a host (docker's rule) */
	rest = buf;
	slash = strchr(buf, '/');
	if (slash) {
		size_t dn = slash - buf;
		bool has_upper = false;

		for (size_t i = 0; i < dn; i++)
			has_upper |= isupper((unsigned char)buf[i]);
		if (memchr(buf, '.', dn) || memchr(buf, ':', dn) ||
		    (dn == 9 && !strncmp(buf, "localhost", 9)) || has_upper) {
			if (dn == 0 || dn > REF_NAME_MAX)
				return fail(why, "invalid reference format");
			memcpy(ref->domain, buf, dn);
			ref->domain[dn] = '\0';
			rest = slash + 1;
		}
	}
	if (!ref->domain[0] || !strcmp(ref->domain, "index.docker.io"))
		strcpy(ref->domain, REF_DEFAULT_DOMAIN);
	if (!domain_valid(ref->domain))
		return fail(why, "invalid registry host in reference");

	/* tag: after the last ':' of the path (the domain is gone) */
	colon = strrchr(rest, ':');
	if (colon) {
		*colon = '\0';
		if (!ref_tag_valid(colon + 1))
			return fail(why, "invalid tag (want [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
		strcpy(ref->tag, colon + 1);
	}

	for (const char *p = rest; *p; p++)
		if (isupper((unsigned char)*p))
			return fail(why, "repository name must be lowercase");
	if (!strcmp(ref->domain, REF_DEFAULT_DOMAIN) && !strchr(rest, '/')) {
		if (strlen(rest) + 8 >= sizeof(ref->path))
			return fail(why, "repository name must not be more than 255 characters");
		snprintf(ref->path, sizeof(ref->path), "library/%s", rest);
	} else {
		if (strlen(rest) >= sizeof(ref->path))
			return fail(why, "repository name must not be more than 255 characters");
		strcpy(ref->path, rest);
	}
	if (!path_valid(ref->path))
		return fail(why, "invalid reference format");
	if (strlen(ref->domain) + 1 + strlen(ref->path) > REF_NAME_MAX)
		return fail(why, "repository name must not be more than 255 characters");
	if ((flags & REF_DEFAULT_TAG) && !ref->tag[0] && !ref->digest[0])
		strcpy(ref->tag, "latest");
	return 0;
}

static void append_tag_digest(const struct image_ref *ref, char *buf, size_t len)
{
	size_t n = strlen(buf);

	if (ref->tag[0])
		n += snprintf(buf + n, n < len ? len - n : 0, ":%s", ref->tag);
	if (ref->digest[0] && n < len)
		snprintf(buf + n, len - n, "@%s", ref->digest);
}

void ref_format_repo(const struct image_ref *ref, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", ref->domain, ref->path);
}

void ref_format(const struct image_ref *ref, char *buf, size_t len)
{
	ref_format_repo(ref, buf, len);
	append_tag_digest(ref, buf, len);
}

void ref_format_short_repo(const struct image_ref *ref, char *buf, size_t len)
{
	if (!strcmp(ref->domain, REF_DEFAULT_DOMAIN)) {
		const char *p = ref->path;

		if (!strncmp(p, "library/", 8) && !strchr(p + 8, '/'))
			p += 8;
		snprintf(buf, len, "%s", p);
		return;
	}
	ref_format_repo(ref, buf, len);
}

void ref_format_short(const struct image_ref *ref, char *buf, size_t len)
{
	ref_format_short_repo(ref, buf, len);
	append_tag_digest(ref, buf, len);
}
