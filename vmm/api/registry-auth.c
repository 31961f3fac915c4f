/* X-Registry-Auth and POST /auth's body: docker's AuthConfig, decoded from hostile text. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api/registry-auth.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"

void api_auth_clear(struct api_auth *a)
{
	explicit_bzero(a, sizeof(*a));
}

/* A string field into dst (absent or null: ""); a wrong type or an overlong value is an error. */
static int field(json_object *o, const char *ctx, const char *key, char *dst, size_t len, struct error *e)
{
	const char *s = NULL;

	dst[0] = '\0';
	if (jget_string(o, key, false, ctx, &s, e))
		return -EINVAL;
	if (!s)
		return 0;
	if (strlen(s) >= len)
		return err_set(e, -EINVAL, "%s: %s is too long (at most %zu bytes)", ctx, key, len - 1);
	strcpy(dst, s);
	return 0;
}

/* "auth": base64 of "user:password" (creds_from_auth), with the message for each failure. */
static int split_auth(const char *ctx, const char *b64, struct creds *c, struct error *e)
{
	int ret = creds_from_auth(b64, c);

	if (ret == -ENAMETOOLONG)
		return err_set(e, -EINVAL, "%s: auth is too long", ctx);
	return ret ? err_set(e, -EINVAL, "%s: auth is not base64 of user:password", ctx) : 0;
}

int api_auth_from_json(json_object *o, const char *ctx, struct api_auth *out, struct error *e)
{
	static const char *const tokens[] = { "identitytoken", "registrytoken" };
	char auth[(sizeof(out->creds.user) + sizeof(out->creds.pass)) * 4 / 3 + 8], server[512];
	int ret;

	memset(out, 0, sizeof(*out));
	if (!o || !json_object_is_type(o, json_type_object))
		return err_set(e, -EINVAL, "%s: want a JSON object", ctx);
	if ((ret = field(o, ctx, "username", out->creds.user, sizeof(out->creds.user), e)) ||
	    (ret = field(o, ctx, "password", out->creds.pass, sizeof(out->creds.pass), e)) ||
	    (ret = field(o, ctx, "auth", auth, sizeof(auth), e)) ||
	    (ret = field(o, ctx, "serveraddress", server, sizeof(server), e)))
		goto out;
	/* a token's value is not kept: only whether there is one */
	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		const char *v;

		if ((ret = jget_string(o, tokens[i], false, ctx, &v, e)))
			goto out;
		if (v && *v) {
			ret = err_set(e, -EINVAL, "%s: %s is not supported (vmm logs in to registries with a user "
				      "name and password only)", ctx, tokens[i]);
			goto out;
		}
	}
	if (server[0] && registry_host_normalize(server, out->server, sizeof(out->server))) {
		ret = err_set(e, -EINVAL, "%s: serveraddress is not a registry name", ctx);
		goto out;
	}
	if (auth[0] && (ret = split_auth(ctx, auth, &out->creds, e)))
		goto out;
	if (strchr(out->creds.user, ':')) {
		ret = err_set(e, -EINVAL, "%s: a user name cannot hold ':'", ctx);
		goto out;
	}
	out->given = out->creds.user[0] || out->creds.pass[0];
	if (out->given && (!out->creds.user[0] || !out->creds.pass[0]))
		ret = err_set(e, -EINVAL, "%s: %s", ctx, out->creds.user[0] ? "a user name without a password" :
			      "a password without a user name");
	else
		out->creds.file = out->given ? API_AUTH_SOURCE : NULL;
out:
	explicit_bzero(auth, sizeof(auth));
	if (ret)
		api_auth_clear(out);
	return ret;
}

/* base64url or standard base64, padded or not, into out (NUL-terminated): its length, or -EINVAL. */
static int unbase64(const char *s, size_t len, char *out, size_t outlen)
{
	char *std = malloc(len + 1);
	int n;

	if (!std)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	std[len] = '\0';
	n = base64_decode(std, len, out, outlen - 1);
	explicit_bzero(std, len);
	free(std);
	if (n >= 0)
		out[n] = '\0';
	return n < 0 ? -EINVAL : n;
}

int api_auth_decode(const char *hdr, size_t len, struct api_auth *out, struct error *e)
{
	struct error why = { 0 };
	json_object *o;
	char *json;
	int n, ret;

	memset(out, 0, sizeof(*out));
	if (!hdr || !len)
		return 0;
	if (len > API_AUTH_HEADER_MAX)
		return err_set(e, -EINVAL, "X-Registry-Auth: too long (%zu bytes; at most %u)", len,
			       API_AUTH_HEADER_MAX);
	if (!(json = malloc(len)))
		return err_set(e, -ENOMEM, "X-Registry-Auth: out of memory");
	n = unbase64(hdr, len, json, len);
	if (n == -ENOMEM)
		ret = err_set(e, -ENOMEM, "X-Registry-Auth: out of memory");
	else if (n < 0)
		ret = err_set(e, -EINVAL, "X-Registry-Auth: not base64url (want docker's AuthConfig)");
	else if (!(o = json_parse_object(json, (size_t)n, &why)))
		ret = err_set(e, -EINVAL, "X-Registry-Auth: %s", why.msg);
	else {
		ret = api_auth_from_json(o, API_AUTH_SOURCE, out, e);
		json_object_put(o);
	}
	explicit_bzero(json, len);
	free(json);
	return ret;
}
