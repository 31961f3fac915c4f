/* OCI distribution API v2 over libcurl: requests, redirects, status and transfer errors. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "images/oci/creds.h"
#include "images/oci/registry-internal.h"
#include "images/oci/spec.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

#define DOC_TIMEOUT	300	/* seconds for a whole manifest or token request */

static const char accept_manifests[] =
	"Accept: " MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST;

/* Printable, bounded text from a server for an error line. */
static void sanitize(const char *in, size_t len, char *out, size_t outlen)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < outlen; i++) {
		unsigned char c = (unsigned char)in[i];

		out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

size_t registry_on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb, nl, vl;
	const char *colon, *v;

	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		const char *sp = memchr(p, ' ', len);

		/* a new response (after a 100 Continue, say): forget the previous headers */
		x->status = 0;
		x->content_type[0] = x->digest[0] = '\0';
		x->n_ch = 0;
		x->err_len = 0;
		if (sp && (size_t)(sp - p) + 4 <= len && isdigit((unsigned char)sp[1]) &&
		    isdigit((unsigned char)sp[2]) && isdigit((unsigned char)sp[3]))
			x->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
		return len;
	}
	colon = memchr(p, ':', len);
	if (!colon)
		return len;
	nl = (size_t)(colon - p);
	v = colon + 1;
	while (v < p + len && (*v == ' ' || *v == '\t'))
		v++;
	vl = (size_t)(p + len - v);
	while (vl && strchr("\r\n \t", v[vl - 1]))
		vl--;

	if (nl == 12 && !strncasecmp(p, "Content-Type", 12)) {
		size_t n = 0;

		while (n < vl && v[n] != ';' && v[n] != ' ' && n + 1 < sizeof(x->content_type)) {
			x->content_type[n] = (char)tolower((unsigned char)v[n]);
			n++;
		}
		x->content_type[n] = '\0';
	} else if (nl == 21 && !strncasecmp(p, "Docker-Content-Digest", 21)) {
		if (vl == DIGEST_STR_LEN) {
			memcpy(x->digest, v, vl);
			x->digest[vl] = '\0';
			if (!digest_valid(x->digest))
				x->digest[0] = '\0';
		}
	} else if (nl == 16 && !strncasecmp(p, "WWW-Authenticate", 16)) {
		int n = www_auth_parse(v, vl, x->ch + x->n_ch, AUTH_CHALLENGES_MAX - x->n_ch);

		if (n > 0)
			x->n_ch += (size_t)n;
	} else if (nl == 14 && !strncasecmp(p, "Content-Length", 14) && x->status / 100 == 2) {
		char num[24];
		uint64_t cl;

		sanitize(v, MIN(vl, sizeof(num) - 1), num, sizeof(num));
		if (parse_uint(num, 0, UINT64_MAX, &cl) == 0) {
			x->length = cl;
			x->has_length = true;
			if (cl > x->max) {
				x->sink_err = -EFBIG;
				return 0;	/* refuse before anything arrives */
			}
		}
	} else if (nl == 8 && !strncasecmp(p, "Location", 8)) {
		/* kept raw here; registry_request resolves it against the request's URL */
		if (vl < sizeof(x->location)) {
			memcpy(x->location, v, vl);
			x->location[vl] = '\0';
		} else {
			x->location[0] = '\0';
		}
	} else if (nl == 5 && !strncasecmp(p, "Range", 5)) {
		sanitize(v, MIN(vl, sizeof(x->range) - 1), x->range, sizeof(x->range));
	}
	return len;
}

/* Upload bytes for libcurl: from the body's data or its source, at the body's offset + sent. */
static size_t on_read(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	const struct registry_body *b = x->body;
	size_t want = MIN(size * nmemb, b->len - x->sent);
	ssize_t n;

	if (!want)
		return 0;
	if (!b->read) {
		memcpy(buf, (const char *)b->data + b->off + x->sent, want);
		n = (ssize_t)want;
	} else if ((n = b->read(b->arg, buf, want, b->off + x->sent)) <= 0) {
		x->cb_err = n < 0 ? (int)n : -EIO;
		return CURL_READFUNC_ABORT;
	} else if ((size_t)n > want) {
		n = (ssize_t)want;
	}
	x->sent += (uint64_t)n;
	return (size_t)n;
}

/* libcurl sends a body again (a reused connection that was gone): start where it says. */
static int on_seek(void *arg, curl_off_t off, int origin)
{
	struct xfer *x = arg;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->body->len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->sent = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb;
	int ret;

	if (x->status / 100 != 2) {
		/* an error or redirect body: keep its start for the message */
		size_t room = sizeof(x->err) - 1 - x->err_len;

		memcpy(x->err + x->err_len, p, MIN(room, len));
		x->err_len += MIN(room, len);
		x->err[x->err_len] = '\0';
		return len;
	}
	if (len > x->max - x->got) {
		x->sink_err = -EFBIG;
		return 0;
	}
	if (x->sink) {
		if ((ret = x->sink(x->sink_arg, p, len))) {
			x->cb_err = ret;
			return 0;
		}
	} else {
		if (x->got + len + 1 > x->cap) {
			size_t cap = MAX(x->cap * 2, x->got + len + 1);
			char *nb;

			cap = MIN(cap, x->max + 1);
			if (!(nb = realloc(x->buf, cap))) {
				x->sink_err = -ENOMEM;
				return 0;
			}
			x->buf = nb;
			x->cap = cap;
		}
		memcpy(x->buf + x->got, p, len);
		x->buf[x->got + len] = '\0';
	}
	x->got += len;
	return len;
}

/* "scheme://host:port" of a URL, lowercased, default ports made explicit. */
static int origin_of(const char *url, char *out, size_t len)
{
	char *scheme = NULL, *host = NULL, *port = NULL;
	CURLU *u = curl_url();
	int ret = -EINVAL;

	if (u && !curl_url_set(u, CURLUPART_URL, url, 0) &&
	    !curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) &&
	    !curl_url_get(u, CURLUPART_HOST, &host, 0) &&
	    !curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) &&
	    (size_t)snprintf(out, len, "%s://%s:%s", scheme, host, port) < len) {
		for (char *c = out; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		ret = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ret;
}

bool registry_same_origin(const char *a, const char *b)
{
	char oa[512], ob[512];

	return origin_of(a, oa, sizeof(oa)) == 0 && origin_of(b, ob, sizeof(ob)) == 0 &&
	       !strcmp(oa, ob);
}

/* The method, and the body of POST, PATCH and PUT (Content-Length: 0 when there is none). */
static void set_method(CURL *c, struct xfer *x)
{
	static const struct registry_body none;
	const char *m = x->method;

	if (!m)
		return;
	if (!strcmp(m, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		return;
	}
	if (!strcmp(m, "DELETE")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
		return;
	}
	if (!x->body)
		x->body = &none;
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->body->len);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, x);
	curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
	curl_easy_setopt(c, CURLOPT_SEEKDATA, x);
	if (strcmp(m, "PUT"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
}

/* One HTTP exchange, no redirects followed. */
static CURLcode perform(struct registry *r, struct xfer *x, const char *url, bool send_auth)
{
	struct curl_slist *h = NULL, *t;
	CURL *c = r->curl;
	CURLcode rc;

	curl_easy_reset(c);
	r->errbuf[0] = '\0';
	x->sent = 0;
	if (x->accept && (t = curl_slist_append(h, x->accept)))
		h = t;
	if (x->req_type && (t = curl_slist_append(h, x->req_type)))
		h = t;
	if (x->req_range[0] && (t = curl_slist_append(h, x->req_range)))
		h = t;
	if (send_auth && !x->token_req && r->auth_header &&
	    (t = curl_slist_append(h, r->auth_header)))
		h = t;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vmm/0.1 (distribution v2 client)");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)REGISTRY_CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1000L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)r->stall_timeout);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	if (!x->sink && !(x->body && x->body->read))	/* blobs: only the stall timeout */
		curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)DOC_TIMEOUT);
	if (r->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (x->token_req && r->creds) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, r->creds->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, r->creds->pass);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, registry_on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	set_method(c, x);
	rc = curl_easy_perform(c);
	curl_slist_free_all(h);
	pr_debug("%s %s%s -> %s %ld", x->method ? x->method : "GET", url,
		 send_auth && r->auth_header ? " (authenticated)" : "", curl_easy_strerror(rc), x->status);
	return rc;
}

/* Errors where an insecure registry may just be speaking plain http. */
static bool try_plain_http(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_COULDNT_CONNECT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		return true;
	default:
		return false;
	}
}

static int report_curl(struct registry *r, struct xfer *x, CURLcode rc)
{
	const char *why = r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
	const char *host = x->host ? x->host : r->domain;
	long oserr = 0;

	if (x->cb_err)
		return x->cb_err;
	switch (x->sink_err) {
	case 0:
		break;
	case -EFBIG:
		if (x->sink)
			return err_set(&r->err, -EFBIG, "%s: %s is larger than the %llu bytes its descriptor says; "
				       "the registry sent something else", r->label, x->what, (unsigned long long)x->max);
		return err_set(&r->err, -EFBIG, "%s: %s from %s is larger than %llu bytes; refusing it", r->label,
			       x->what, host, (unsigned long long)x->max);
	default:
		return err_set(&r->err, x->sink_err, "%s: %s: %s", r->label, x->what, strerror(-x->sink_err));
	}
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return err_set(&r->err, -EHOSTUNREACH, "%s: cannot resolve %s: %s (check the name and the network)", r->label, host, why);
	case CURLE_COULDNT_CONNECT:
		if (curl_easy_getinfo(r->curl, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK && oserr > 0)
			why = strerror((int)oserr);
		return err_set(&r->err, -ECONNREFUSED, "%s: cannot connect to registry %s: %s (is it running and reachable?)", r->label,
			       host, why);
	case CURLE_OPERATION_TIMEDOUT:
		return err_set(&r->err, -ETIMEDOUT, "%s: %s: %s timed out (%s); try again", r->label, x->what, host, why);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return err_set(&r->err, -EPROTO, "%s: TLS error talking to %s: %s (if the registry has no valid certificate "
			       "or speaks plain http, use --tls-verify=false)", r->label, host, why);
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		if (x->sink)
			return err_set(&r->err, -EIO, "%s: %s: the connection to %s broke off after %llu of %llu "
				       "bytes: %s (try again)", r->label, x->what, host, (unsigned long long)x->got,
				       (unsigned long long)x->max, why);
		return err_set(&r->err, -EIO, "%s: %s: the connection to %s broke off: %s (try again)", r->label,
			       x->what, host, why);
	default:
		return err_set(&r->err, -EIO, "%s: %s from %s failed: %s", r->label, x->what, host, why);
	}
}

/* The first error message of a registry's JSON error body, or "". */
static void registry_message(const struct xfer *x, char *out, size_t len)
{
	json_object *o = json_tokener_parse(x->err), *errs, *e0, *msg, *code;

	out[0] = '\0';
	if (!o)
		return;
	if (json_object_object_get_ex(o, "errors", &errs) &&
	    json_object_is_type(errs, json_type_array) && json_object_array_length(errs) > 0 &&
	    (e0 = json_object_array_get_idx(errs, 0)) && json_object_is_type(e0, json_type_object)) {
		const char *m = NULL, *cd = NULL;
		char tmp[256];

		if (json_object_object_get_ex(e0, "message", &msg) &&
		    json_object_is_type(msg, json_type_string))
			m = json_object_get_string(msg);
		if (json_object_object_get_ex(e0, "code", &code) &&
		    json_object_is_type(code, json_type_string))
			cd = json_object_get_string(code);
		snprintf(tmp, sizeof(tmp), "%s%s%s", cd ? cd : "", cd && m ? ": " : "", m ? m : "");
		sanitize(tmp, strlen(tmp), out, len);
	}
	json_object_put(o);
}

int registry_refused(struct registry *r, const char *host, const char *detail)
{
	if (r->login)
		return err_set(&r->err, -EACCES, "%s: %s refused the credentials of user %s%s (check the user "
			       "name and password)", r->label, host, r->creds->user, detail);
	return err_set(&r->err, -EACCES, "%s: %s refused the credentials of user %s (from %s)%s: run %s %s",
		       r->label, host, r->creds->user, r->creds->file ? r->creds->file : "?",
		       detail, r->login_cmd, r->domain);
}

/* A status the request cannot go on with: log it. */
int registry_report_status(struct registry *r, struct xfer *x)
{
	const char *host = x->host ? x->host : r->domain;
	char msg[200], detail[220];

	registry_message(x, msg, sizeof(msg));
	snprintf(detail, sizeof(detail), "%s%s%s", msg[0] ? " (" : "", msg, msg[0] ? ")" : "");
	switch (x->status) {
	case 401:
	case 403:
		if (r->creds && r->auth_kind != AUTH_NONE)
			return registry_refused(r, host, x->status == 403 ? detail : "");
		/* docker hub answers so for repositories that do not exist, too */
		return err_set(&r->err, -EACCES, "%s: authentication required: run %s %s%s", r->label,
			       r->login_cmd, r->domain, r->auth_kind == AUTH_BEARER ? " (or the repository does not exist)" :
			       x->status == 403 ? " (access denied)" : "");
	case 429:
		return err_set(&r->err, -EAGAIN, "%s: %s: too many requests%s (rate limited; try again later)", r->label, host,
			       detail);
	default:
		if (x->status >= 500)
			return err_set(&r->err, -EIO, "%s: registry %s failed with HTTP %ld%s (try again later)",
				       r->label, host, x->status, detail);
		return err_set(&r->err, -EPROTO, "%s: %s: unexpected HTTP %ld from %s%s", r->label, x->what,
			       x->status, host, detail);
	}
}

int registry_resolve_location(const char *base, char *loc, size_t len)
{
	CURLU *u = curl_url();
	char *out = NULL;
	int ret = -EINVAL;

	if (u && !curl_url_set(u, CURLUPART_URL, base, 0) &&
	    !curl_url_set(u, CURLUPART_URL, loc, 0) &&
	    !curl_url_get(u, CURLUPART_URL, &out, 0) &&
	    (str_has_prefix(out, "http://") || str_has_prefix(out, "https://")) &&
	    (size_t)snprintf(loc, len, "%s", out) < len)
		ret = 0;
	curl_free(out);
	curl_url_cleanup(u);
	return ret;
}

static bool is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static void xfer_reset(struct xfer *x)
{
	x->status = 0;
	x->got = 0;
	x->sink_err = 0;
	x->cb_err = 0;
	x->err_len = 0;
	x->err[0] = '\0';
	x->n_ch = 0;
	x->content_type[0] = x->digest[0] = '\0';
	x->location[0] = x->range[0] = '\0';
	x->has_length = false;
	x->length = 0;
}

int registry_request(struct registry *r, const char *path_or_url, struct xfer *x)
{
	char url[REGISTRY_URL_MAX];
	bool on_origin = true;
	CURLcode rc;

	if (str_has_prefix(path_or_url, "https://") || str_has_prefix(path_or_url, "http://"))
		snprintf(url, sizeof(url), "%s", path_or_url);
	else
		snprintf(url, sizeof(url), "%s%s", r->base, path_or_url);
	on_origin = registry_same_origin(url, r->base);
	for (int hops = 0;; hops++) {
		char *loc = NULL;

		xfer_reset(x);
		rc = perform(r, x, url, on_origin);
		if (rc != CURLE_OK && !x->sink_err && r->insecure && !r->scheme_settled &&
		    str_has_prefix(url, "https://") && on_origin && try_plain_http(rc)) {
			pr_debug("%s: no https answer (%s); trying plain http", r->domain,
				 curl_easy_strerror(rc));
			snprintf(r->base, sizeof(r->base), "http://%s", r->api_host);
			snprintf(url, sizeof(url), "%s%s", r->base, path_or_url);
			r->scheme_settled = true;
			hops--;
			continue;
		}
		if (rc != CURLE_OK)
			return report_curl(r, x, rc);
		if (on_origin)
			r->scheme_settled = true;
		if (!is_redirect(x->status)) {
			/* an upload's next URL; one that is no http(s) URL is as good as none */
			if (x->location[0] && registry_resolve_location(url, x->location, sizeof(x->location)))
				x->location[0] = '\0';
			return 0;
		}
		if (x->token_req) {
			return err_set(&r->err, -EPROTO, "%s: the token server %s redirects; refusing to follow", r->label, x->host);
		}
		if (x->method && strcmp(x->method, "HEAD"))
			return err_set(&r->err, -EPROTO, "%s: %s: %s redirects a %s request; refusing to follow", r->label,
				       x->what, r->domain, x->method);
		curl_easy_getinfo(r->curl, CURLINFO_REDIRECT_URL, &loc);
		if (!loc || hops >= REGISTRY_REDIRECTS_MAX)
			return err_set(&r->err, -EPROTO, "%s: %s: %s from %s", r->label, x->what,
				       loc ? "too many redirects" : "a redirect without a location", r->domain);
		if (str_has_prefix(url, "https://") && !str_has_prefix(loc, "https://") &&
		    !r->insecure) {
			return err_set(&r->err, -EPROTO, "%s: %s: the registry redirects from https to '%.100s'; refusing "
				       "(use --tls-verify=false to allow it)", r->label, x->what, loc);
		}
		if (strlen(loc) >= sizeof(url))
			return err_set(&r->err, -EPROTO, "%s: %s: redirect location too long", r->label, x->what);
		snprintf(url, sizeof(url), "%s", loc);
		/* credentials stay with the registry: storage behind a redirect gets none */
		on_origin = registry_same_origin(url, r->base);
	}
}

static bool path_chars_ok(const char *s)
{
	if (!*s || *s == '/' || strstr(s, ".."))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-/:", *s))
			return false;
	return true;
}

int registry_api_path(char *buf, size_t len, const char *repo, const char *kind,
		      const char *reference)
{
	if (!path_chars_ok(repo) || !path_chars_ok(reference) || strchr(reference, '/'))
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "/v2/%s/%s/%s", repo, kind, reference) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int registry_open(const char *domain, const struct registry_opts *o, struct registry **out,
		  struct error *e)
{
	struct registry *r;

	if (strlen(domain) >= AUTH_HOST_MAX)
		return err_set(e, -EINVAL, "%s: registry name too long", domain);
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return err_set(e, -ENOMEM, "%s: cannot initialize libcurl", o->label);
	r = calloc(1, sizeof(*r));
	if (!r || !(r->curl = curl_easy_init())) {
		free(r);
		curl_global_cleanup();
		return err_set(e, -ENOMEM, "%s: out of memory", o->label);
	}
	snprintf(r->domain, sizeof(r->domain), "%s", domain);
	snprintf(r->api_host, sizeof(r->api_host), "%s", registry_api_host(domain));
	snprintf(r->base, sizeof(r->base), "https://%s", r->api_host);
	r->label = o->label;
	r->creds = o->creds;
	r->login = o->login;
	r->login_cmd = o->login_cmd ? o->login_cmd : "vmm login";
	r->scope = o->scope;
	r->insecure = o->insecure || registry_host_is_loopback(r->api_host);
	r->stall_timeout = o->stall_timeout ? o->stall_timeout : REGISTRY_STALL_TIMEOUT;
	*out = r;
	return 0;
}

void registry_close(struct registry *r)
{
	if (!r)
		return;
	if (r->auth_header) {
		explicit_bzero(r->auth_header, strlen(r->auth_header));
		free(r->auth_header);
	}
	curl_easy_cleanup(r->curl);
	free(r);
	curl_global_cleanup();
}

const struct error *registry_error(const struct registry *r)
{
	return &r->err;
}

bool registry_authenticated(const struct registry *r)
{
	return r->auth_header != NULL;
}

void registry_doc_free(struct registry_doc *doc)
{
	free(doc->data);
	memset(doc, 0, sizeof(*doc));
}

int registry_call(struct registry *r, const char *path, const char *scope, struct xfer *x)
{
	int ret = registry_request(r, path, x);
	const struct auth_challenge *ch;

	if (ret || x->status != 401)
		return ret;
	ch = www_auth_pick(x->ch, x->n_ch);
	if (!ch) {
		if (x->n_ch)
			return err_set(&r->err, -EACCES, "%s: %s asks for an authentication scheme vmm does not "
				       "support", r->label, r->domain);
		return registry_report_status(r, x);
	}
	/* what we sent was refused (an expired token is fetched again) */
	if (r->auth_kind == ch->scheme &&
	    (ch->scheme == AUTH_BASIC || !strcmp(ch->error, "insufficient_scope")))
		return registry_report_status(r, x);
	if ((ret = registry_authenticate(r, ch, scope)))
		return ret;
	ret = registry_request(r, path, x);
	if (!ret && x->status == 401)
		return registry_report_status(r, x);
	return ret;
}

int registry_ping(struct registry *r)
{
	struct xfer x = { .what = "API check", .max = 64 << 10 };
	int ret;

	err_clear(&r->err);
	ret = registry_call(r, "/v2/", NULL, &x);
	free(x.buf);
	if (ret)
		return ret;
	if (x.status == 404)
		return err_set(&r->err, -EPROTO, "%s: %s does not serve the registry API (no /v2/)", r->label, r->domain);
	return x.status / 100 == 2 ? 0 : registry_report_status(r, &x);
}

int registry_get_manifest(struct registry *r, const char *repo, const char *reference,
			  size_t max, struct registry_doc *doc)
{
	char path[REGISTRY_URL_MAX], scope[AUTH_PARAM_MAX], what[160];
	struct xfer x = { .accept = accept_manifests, .max = max, .what = what };
	int ret;

	err_clear(&r->err);
	memset(doc, 0, sizeof(*doc));
	snprintf(what, sizeof(what), "manifest %s", reference);
	if ((ret = registry_api_path(path, sizeof(path), repo, "manifests", reference)))
		return err_set(&r->err, ret, "%s: invalid repository or reference", r->label);
	snprintf(scope, sizeof(scope), "repository:%s:pull", repo);
	ret = registry_call(r, path, scope, &x);
	if (!ret && x.status == 404)
		ret = -ENOENT;
	else if (!ret && x.status / 100 != 2)
		ret = registry_report_status(r, &x);
	if (ret) {
		free(x.buf);
		return ret;
	}
	if (!x.buf && !(x.buf = strdup("")))
		return -ENOMEM;
	doc->data = x.buf;
	doc->len = x.got;
	memcpy(doc->content_type, x.content_type, sizeof(doc->content_type));
	memcpy(doc->digest_header, x.digest, DIGEST_BUF);
	return 0;
}

int registry_get_blob(struct registry *r, const char *repo, const char *digest, uint64_t size,
		      registry_sink_fn sink, void *arg)
{
	char path[REGISTRY_URL_MAX], scope[AUTH_PARAM_MAX], what[160];
	struct xfer x = { .sink = sink, .sink_arg = arg, .max = size, .what = what };
	int ret;

	err_clear(&r->err);
	snprintf(what, sizeof(what), "blob %s", digest);
	if ((ret = registry_api_path(path, sizeof(path), repo, "blobs", digest)))
		return err_set(&r->err, ret, "%s: invalid repository or digest", r->label);
	snprintf(scope, sizeof(scope), "repository:%s:pull", repo);
	ret = registry_call(r, path, scope, &x);
	if (ret)
		return ret;
	if (x.status == 404)
		return -ENOENT;
	if (x.status / 100 != 2)
		return registry_report_status(r, &x);
	if (x.got != size) {
		return err_set(&r->err, -EIO, "%s: %s: the registry sent %llu of its %llu bytes (truncated; try again)",
			       r->label, what, (unsigned long long)x.got, (unsigned long long)size);
	}
	return 0;
}
