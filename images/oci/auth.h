/*
 * Registry authentication, the pure parts: WWW-Authenticate challenges,
 * base64, and the names registries go by (docker.io is served by
 * registry-1.docker.io, credentials for it are filed under
 * "https://index.docker.io/v1/" by docker and "docker.io" by podman).
 * No I/O here: unit tests and the fuzzer drive these directly.
 */
#ifndef VMM_IMAGES_OCI_AUTH_H
#define VMM_IMAGES_OCI_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_HOST_MAX		256	/* "host[:port]" */
#define AUTH_REALM_MAX		1024
#define AUTH_PARAM_MAX		512
#define AUTH_CHALLENGES_MAX	8

enum auth_scheme {
	AUTH_NONE,
	AUTH_BASIC,
	AUTH_BEARER,
	AUTH_OTHER,		/* Digest, Negotiate...: not supported */
};

struct auth_challenge {
	enum auth_scheme scheme;
	char realm[AUTH_REALM_MAX];	/* "" when absent */
	char service[AUTH_PARAM_MAX];
	char scope[AUTH_PARAM_MAX];
	char error[64];			/* "invalid_token", "insufficient_scope" */
};

/*
 * Parse one WWW-Authenticate header value (RFC 7235: a comma-separated list
 * of challenges, each a scheme followed by key=value or key="quoted" params,
 * or a token68). Fills at most max challenges; unknown params are skipped,
 * values too long for their field make the challenge invalid. Returns the
 * number parsed (0..max), or -EINVAL when the header is malformed.
 */
int www_auth_parse(const char *s, size_t len, struct auth_challenge *out, size_t max);

/* The challenge to answer: Bearer before Basic; NULL when none is usable. */
const struct auth_challenge *www_auth_pick(const struct auth_challenge *v, size_t n);

/*
 * Merge space-separated token scope lists (a challenge's, a request's, a
 * push's mount sources) into one: each resource ("repository:a/b") once,
 * with the union of its actions, in the order first seen:
 * "repository:a:pull" + "repository:a:pull,push repository:b:pull" gives
 * "repository:a:pull,push repository:b:pull". NULL lists are skipped.
 * 0, or -ENOSPC when the result (or a part) does not fit.
 */
int auth_scopes_merge(const char *const *lists, size_t n, char *out, size_t len);

/* Standard base64 with padding. Returns the length written (NUL-terminated), or -ENOSPC. */
int base64_encode(const void *data, size_t len, char *out, size_t outlen);
/* Decode (padding optional, no whitespace). Returns the length, -EINVAL or -ENOSPC. */
int base64_decode(const char *s, size_t len, void *out, size_t outlen);

/*
 * A registry as the user names it ("docker.io", "https://host:5000/v1/",
 * "Index.Docker.io") to the key vmm files credentials under: scheme and path
 * dropped, lowercased, docker hub's aliases folded to "docker.io".
 * Returns 0 or -EINVAL (empty, too long, bad characters).
 */
int registry_host_normalize(const char *name, char *host, size_t len);

/* The host serving a reference's domain: docker.io -> registry-1.docker.io. */
const char *registry_api_host(const char *domain);

/*
 * Whether a host[:port] is a loopback address that, as docker does, is
 * treated as an insecure registry: localhost, 127.0.0.0/8, [::1].
 */
bool registry_host_is_loopback(const char *host);

#endif
