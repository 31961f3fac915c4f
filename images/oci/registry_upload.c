/*
 * The push side of the distribution API: HEAD a blob, start an upload (or a
 * cross-repository mount), send it whole or in chunks, put a manifest.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/registry-internal.h"
#include "vmm/base/util.h"

#define ANSWER_MAX	(64u << 10)	/* the body of an upload's answer (JSON or nothing) */
#define OCTET_STREAM	"Content-Type: application/octet-stream"

static void push_scope(char *buf, size_t len, const char *repo)
{
	snprintf(buf, len, "repository:%s:pull,push", repo);
}

int registry_blob_exists(struct registry *r, const char *repo, const char *digest)
{
	char path[REGISTRY_URL_MAX], scope[AUTH_PARAM_MAX], what[160];
	struct xfer x = { .method = "HEAD", .max = UINT64_MAX, .what = what };
	int ret;

	err_clear(&r->err);
	snprintf(what, sizeof(what), "blob %s", digest);
	if ((ret = registry_api_path(path, sizeof(path), repo, "blobs", digest)))
		return err_set(&r->err, ret, "%s: invalid repository or digest", r->label);
	push_scope(scope, sizeof(scope), repo);
	if ((ret = registry_call(r, path, scope, &x)))
		return ret;
	if (x.status == 404)
		return -ENOENT;
	return x.status == 200 ? 0 : registry_report_status(r, &x);
}

/* The session's next URL: the answer's Location, which an open session must send. */
static int take_location(struct registry *r, struct xfer *x, struct registry_upload *up)
{
	if (!x->location[0])
		return err_set(&r->err, -EPROTO, "%s: %s: %s answered HTTP %ld without a usable Location", r->label,
			       x->what, r->domain, x->status);
	memcpy(up->url, x->location, sizeof(up->url));
	return 0;
}

/* "0-1023": the registry has bytes up to 1023. -1 when the answer says nothing usable. */
static int64_t range_end(const char *range)
{
	const char *dash;
	uint64_t end;

	if (str_has_prefix(range, "bytes="))
		range += 6;
	dash = strchr(range, '-');
	if (!dash || parse_uint(dash + 1, 0, INT64_MAX, &end))
		return -1;
	return (int64_t)end;
}

int registry_upload_start(struct registry *r, const char *repo, const char *digest,
			  const char *from, struct registry_upload *up)
{
	char path[REGISTRY_URL_MAX], scope[2 * AUTH_PARAM_MAX], what[160], check[REGISTRY_URL_MAX];
	struct xfer x = { .method = "POST", .max = ANSWER_MAX, .what = what };
	size_t n;
	int ret;

	err_clear(&r->err);
	memset(up, 0, sizeof(*up));
	snprintf(what, sizeof(what), "upload of blob %s", digest);
	/* the repositories are checked as a path; the digest as one too (sha256:hex) */
	if ((ret = registry_api_path(path, sizeof(path), repo, "blobs", "uploads")) ||
	    (from && (ret = registry_api_path(check, sizeof(check), from, "blobs", digest))))
		return err_set(&r->err, ret, "%s: invalid repository or digest", r->label);
	n = strlen(path);
	if (from) {
		snprintf(path + n, sizeof(path) - n, "/?mount=%s&from=%s", digest, from);
		snprintf(scope, sizeof(scope), "repository:%s:pull,push repository:%s:pull", repo, from);
	} else {
		snprintf(path + n, sizeof(path) - n, "/");
		push_scope(scope, sizeof(scope), repo);
	}
	ret = registry_call(r, path, scope, &x);
	free(x.buf);
	if (ret)
		return ret;
	if (from && x.status == 201)
		return 1;
	if (x.status != 202)
		return registry_report_status(r, &x);
	return take_location(r, &x, up);
}

int registry_upload_chunk(struct registry *r, struct registry_upload *up,
			  const struct registry_body *b)
{
	char what[160];
	struct xfer x = { .method = "PATCH", .body = b, .req_type = OCTET_STREAM,
			  .max = ANSWER_MAX, .what = what };
	int64_t end;
	int ret;

	err_clear(&r->err);
	if (!b->len)
		return 0;
	snprintf(what, sizeof(what), "upload (bytes %" PRIu64 "-%" PRIu64 ")", b->off, b->off + b->len - 1);
	snprintf(x.req_range, sizeof(x.req_range), "Content-Range: %" PRIu64 "-%" PRIu64, b->off,
		 b->off + b->len - 1);
	ret = registry_call(r, up->url, NULL, &x);
	free(x.buf);
	if (ret)
		return ret;
	if (x.status != 202)
		return registry_report_status(r, &x);
	end = x.range[0] ? range_end(x.range) : (int64_t)(b->off + b->len - 1);
	if (end != (int64_t)(b->off + b->len - 1))
		return err_set(&r->err, -EPROTO, "%s: %s: %s says it has bytes '%s', not 0-%" PRIu64, r->label, what,
			       r->domain, x.range, b->off + b->len - 1);
	up->offset = b->off + b->len;
	return take_location(r, &x, up);
}

int registry_upload_finish(struct registry *r, struct registry_upload *up, const char *digest,
			   const struct registry_body *b)
{
	char url[REGISTRY_URL_MAX], what[160];
	struct xfer x = { .method = "PUT", .body = b, .req_type = b ? OCTET_STREAM : NULL,
			  .max = ANSWER_MAX, .what = what };
	int ret;

	err_clear(&r->err);
	snprintf(what, sizeof(what), "blob %s", digest);
	if (!digest_valid(digest))
		return err_set(&r->err, -EINVAL, "%s: invalid digest %s", r->label, digest);
	/* a digest needs no escaping but its colon, which query strings allow */
	if ((size_t)snprintf(url, sizeof(url), "%s%sdigest=%s", up->url, strchr(up->url, '?') ? "&" : "?",
			     digest) >= sizeof(url))
		return err_set(&r->err, -ENAMETOOLONG, "%s: %s: upload location too long", r->label, what);
	ret = registry_call(r, url, NULL, &x);
	free(x.buf);
	if (ret)
		return ret;
	if (x.status != 201 && x.status != 204 && x.status != 200)
		return registry_report_status(r, &x);
	if (x.digest[0] && strcmp(x.digest, digest))
		return err_set(&r->err, -EBADMSG, "%s: %s: %s stored it as %s", r->label, what, r->domain, x.digest);
	up->url[0] = '\0';
	return 0;
}

void registry_upload_cancel(struct registry *r, struct registry_upload *up)
{
	struct xfer x = { .method = "DELETE", .max = ANSWER_MAX, .what = "upload cancel" };
	struct error saved = r->err;

	if (!up->url[0])
		return;
	registry_request(r, up->url, &x);
	free(x.buf);
	up->url[0] = '\0';
	r->err = saved;		/* the failure that made us cancel is the one to report */
}

int registry_put_manifest(struct registry *r, const char *repo, const char *reference,
			  const char *media_type, const void *data, size_t len)
{
	char path[REGISTRY_URL_MAX], scope[AUTH_PARAM_MAX], what[160], type[200], digest[DIGEST_BUF];
	struct registry_body b = { .data = data, .len = len };
	struct xfer x = { .method = "PUT", .body = &b, .req_type = type, .max = ANSWER_MAX,
			  .what = what };
	int ret;

	err_clear(&r->err);
	snprintf(what, sizeof(what), "manifest %s", reference);
	/* it goes into a header */
	if (!*media_type || strlen(media_type) > 150 ||
	    strspn(media_type, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-/") !=
	    strlen(media_type))
		return err_set(&r->err, -EINVAL, "%s: %s: invalid media type '%.100s'", r->label, what, media_type);
	snprintf(type, sizeof(type), "Content-Type: %s", media_type);
	if ((ret = registry_api_path(path, sizeof(path), repo, "manifests", reference)))
		return err_set(&r->err, ret, "%s: invalid repository or reference", r->label);
	push_scope(scope, sizeof(scope), repo);
	ret = registry_call(r, path, scope, &x);
	free(x.buf);
	if (ret)
		return ret;
	if (x.status != 201 && x.status != 200 && x.status != 204)
		return registry_report_status(r, &x);
	digest_buf(data, len, digest);
	if (x.digest[0] && strcmp(x.digest, digest))
		return err_set(&r->err, -EBADMSG, "%s: %s: %s stored it as %s, but its bytes hash to %s", r->label,
			       what, r->domain, x.digest, digest);
	return 0;
}
