/* Answering a registry's challenge: Basic credentials, or a Bearer token from its realm. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/creds.h"
#include "vmm/base/json.h"
#include "images/oci/registry-internal.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

#define TOKEN_LEN_MAX	16384

static int set_header(struct registry *r, enum auth_scheme kind, const char *v)
{
	char *h;

	if (asprintf(&h, "Authorization: %s %s", kind == AUTH_BASIC ? "Basic" : "Bearer", v) < 0)
		return -ENOMEM;
	if (r->auth_header) {
		explicit_bzero(r->auth_header, strlen(r->auth_header));
		free(r->auth_header);
	}
	r->auth_header = h;
	r->auth_kind = kind;
	return 0;
}

static int basic(struct registry *r)
{
	char raw[sizeof(r->creds->user) + sizeof(r->creds->pass) + 2];
	char b64[2 * sizeof(raw)];
	int n, ret;

	if (!r->creds)
		return err_set(&r->err, -EACCES, "%s: authentication required: run %s %s", r->label, r->login_cmd,
			      r->domain);
	n = snprintf(raw, sizeof(raw), "%s:%s", r->creds->user, r->creds->pass);
	ret = (n < 0 || (size_t)n >= sizeof(raw) || base64_encode(raw, n, b64, sizeof(b64)) < 0) ?
	      -EINVAL : set_header(r, AUTH_BASIC, b64);
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(b64, sizeof(b64));
	return ret;
}

/* Append "&key=escaped(value)" to a URL. */
static int add_param(struct registry *r, char *url, size_t len, const char *key, const char *value)
{
	char *esc = curl_easy_escape(r->curl, value, 0);
	size_t n = strlen(url);
	int ret = 0;

	if (!esc)
		return -ENOMEM;
	if ((size_t)snprintf(url + n, len - n, "%s%s=%s", strchr(url, '?') ? "&" : "?", key, esc) >=
	    len - n)
		ret = -ENAMETOOLONG;
	curl_free(esc);
	return ret;
}

int registry_parse_token(struct registry *r, const struct xfer *x, const char **tok, json_object **root)
{
	const char *t = NULL, *a = NULL;
	struct error e;

	*root = json_parse_object(x->buf ? x->buf : "", x->got, &e);
	if (!*root || jget_string(*root, "token", false, "", &t, &e) ||
	    jget_string(*root, "access_token", false, "", &a, &e))
		return err_set(&r->err, -EPROTO, "%s: token server %s: unreadable answer: %s", r->label, x->host, e.msg);
	*tok = t && *t ? t : a;
	if (!*tok || !**tok || strlen(*tok) > TOKEN_LEN_MAX)
		return err_set(&r->err, -EPROTO, "%s: token server %s sent no usable token", r->label, x->host);
	/* it goes into a header: visible ASCII only */
	for (const char *c = *tok; *c; c++) {
		if (*c <= ' ' || *c > '~')
			return err_set(&r->err, -EPROTO, "%s: token server %s sent a token with invalid characters", r->label,
				       x->host);
	}
	return 0;
}

/*
 * One "scope" parameter per resource the token should cover: the
 * challenge's, the request's and the client's (r->scope: a push's mount
 * sources), merged, as docker asks for them.
 */
static int add_scopes(struct registry *r, char *url, size_t len, const char *ch_scope,
		      const char *scope)
{
	const char *lists[] = { ch_scope, scope, r->scope };
	char all[REGISTRY_URL_MAX];
	int ret;

	if ((ret = auth_scopes_merge(lists, sizeof(lists) / sizeof(lists[0]), all, sizeof(all))))
		return err_set(&r->err, ret, "%s: too many token scopes", r->label);
	for (char *p = all, *sp; *p; p = sp ? sp + 1 : p + strlen(p)) {
		if ((sp = strchr(p, ' ')))
			*sp = '\0';
		if ((ret = add_param(r, url, len, "scope", p)))
			return ret;
	}
	return 0;
}

static int bearer(struct registry *r, const struct auth_challenge *ch, const char *scope)
{
	char url[REGISTRY_URL_MAX], host[AUTH_HOST_MAX];
	struct xfer x = { .what = "token request", .max = REGISTRY_TOKEN_MAX, .token_req = true,
			  .host = host };
	json_object *root = NULL;
	const char *tok = NULL;
	int ret;

	if (registry_host_normalize(ch->realm, host, sizeof(host)))
		snprintf(host, sizeof(host), "the token server");
	if (!str_has_prefix(ch->realm, "https://") &&
	    !(str_has_prefix(ch->realm, "http://") && r->insecure))
		return err_set(&r->err, -EPROTO, "%s: %s sends clients to the token server '%.200s', which is not https "
			       "(use --tls-verify=false to allow it)", r->label, r->domain, ch->realm);
	if (strlen(ch->realm) >= sizeof(url))
		return -ENAMETOOLONG;
	strcpy(url, ch->realm);
	if ((ch->service[0] && (ret = add_param(r, url, sizeof(url), "service", ch->service))) ||
	    (ret = add_scopes(r, url, sizeof(url), ch->scope, scope)))
		return ret;
	if ((ret = registry_request(r, url, &x)))
		goto out;
	if (x.status == 401 || x.status == 403) {
		if (r->creds) {
			ret = registry_refused(r, host, "");
		} else {
			ret = err_set(&r->err, -EACCES, "%s: authentication required: run %s %s", r->label,
				      r->login_cmd, r->domain);
		}
		goto out;
	}
	if (x.status != 200) {
		ret = registry_report_status(r, &x);
		goto out;
	}
	if (!(ret = registry_parse_token(r, &x, &tok, &root)))
		ret = set_header(r, AUTH_BEARER, tok);
out:
	json_object_put(root);
	if (x.buf) {
		explicit_bzero(x.buf, x.got);
		free(x.buf);
	}
	return ret;
}

int registry_authenticate(struct registry *r, const struct auth_challenge *ch, const char *scope)
{
	pr_debug("%s: %s challenge, realm '%s' service '%s' scope '%s'", r->domain,
		 ch->scheme == AUTH_BASIC ? "Basic" : "Bearer", ch->realm, ch->service, ch->scope);
	return ch->scheme == AUTH_BASIC ? basic(r) : bearer(r, ch, scope);
}
