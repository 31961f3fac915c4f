/*
 * libFuzzer target for what registries send in WWW-Authenticate headers (and
 * the other text the registry client decodes: base64 credentials, registry
 * names, token scopes). A parsed challenge is written out again and must
 * parse back the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* key="value" with quoted-pair escapes. */
static size_t quote(char *out, size_t len, const char *key, const char *v)
{
	size_t n = (size_t)snprintf(out, len, "%s=\"", key);

	for (; *v && n + 3 < len; v++) {
		if (*v == '"' || *v == '\\')
			out[n++] = '\\';
		out[n++] = *v;
	}
	out[n++] = '"';
	out[n] = '\0';
	return n;
}

static void round_trip(const struct auth_challenge *c)
{
	static char buf[3 * (AUTH_REALM_MAX + 3 * AUTH_PARAM_MAX) + 64];
	struct auth_challenge back;
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "%s ", c->scheme == AUTH_BASIC ? "Basic" : "Bearer");
	n += quote(buf + n, sizeof(buf) - n, "realm", c->realm);
	buf[n++] = ',';
	n += quote(buf + n, sizeof(buf) - n, "service", c->service);
	buf[n++] = ',';
	n += quote(buf + n, sizeof(buf) - n, "scope", c->scope);
	buf[n++] = ',';
	n += quote(buf + n, sizeof(buf) - n, "error", c->error);
	if (www_auth_parse(buf, n, &back, 1) != 1 || back.scheme != c->scheme ||
	    strcmp(back.realm, c->realm) || strcmp(back.service, c->service) ||
	    strcmp(back.scope, c->scope) || strcmp(back.error, c->error))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_challenge v[AUTH_CHALLENGES_MAX];
	const struct auth_challenge *pick;
	char *copy = malloc(size + 1), host[AUTH_HOST_MAX];
	unsigned char bin[512];
	int n;

	if (!copy)
		return 0;
	/* exactly size bytes, unterminated: ASan sees any read past the end */
	memcpy(copy, data, size);
	n = www_auth_parse(copy, size, v, AUTH_CHALLENGES_MAX);
	if (n > AUTH_CHALLENGES_MAX || (n < 0 && n != -22))
		abort();
	for (int i = 0; i < n; i++) {
		const char *lists[] = { v[i].scope, "repository:a/b:pull,push" };
		char merged[4096], again[4096];
		const char *one[] = { merged };

		if (strlen(v[i].realm) >= sizeof(v[i].realm) || strlen(v[i].scope) >= sizeof(v[i].scope))
			abort();
		if (v[i].scheme == AUTH_BASIC || v[i].scheme == AUTH_BEARER)
			round_trip(&v[i]);
		/* a challenge's scope merged with a push's: merging the result again changes nothing */
		if (auth_scopes_merge(lists, 2, merged, sizeof(merged)) == 0 &&
		    (auth_scopes_merge(one, 1, again, sizeof(again)) || strcmp(merged, again)))
			abort();
	}
	pick = www_auth_pick(v, n > 0 ? (size_t)n : 0);
	if (pick && (pick < v || pick >= v + n))
		abort();

	n = base64_decode(copy, size, bin, sizeof(bin));
	if (n > (int)sizeof(bin))
		abort();
	copy[size] = '\0';
	if (registry_host_normalize(copy, host, sizeof(host)) == 0 && strlen(host) >= sizeof(host))
		abort();
	registry_host_is_loopback(copy);
	free(copy);
	return 0;
}
