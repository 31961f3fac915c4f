/*
 * A client for the OCI distribution API v2 (what docker pull and push speak),
 * over libcurl: manifests into memory, blobs streamed into the store's blob
 * writer; for pushes, HEAD, uploads (whole or in chunks, following each
 * Location, relative or absolute), cross-repository mounts and manifest PUTs,
 * streamed from a source. It authenticates as docker does: anonymously
 * first; on a 401 with a Bearer challenge it fetches a token from the realm
 * (with the user's credentials, when there are some; for the challenge's
 * scopes, the request's and opts.scope) and retries; a Basic challenge is
 * answered with the credentials.
 *
 *  - TLS is verified unless opts.insecure (--tls-verify=false) or the
 *    registry is on loopback (localhost, 127.0.0.0/8, [::1]), which docker
 *    also treats as insecure: then https is tried without verification and
 *    plain http when https does not answer.
 *  - Redirects (registries send blob downloads to storage) are followed by
 *    hand for GET and HEAD, at most 5, never from https to http unless
 *    insecure; a redirected upload is refused. The Authorization header only
 *    goes to the registry's own origin (also for an upload Location elsewhere).
 *  - A connect timeout, and a stall timeout: a transfer moving less than
 *    1 KB/s for opts.stall_timeout seconds fails. Documents are bounded by
 *    the caller's limit, blobs by their descriptor's size.
 *
 * Every failure leaves one line in the client's error (registry_error):
 * "LABEL: what happened (what to do)", except a 404, which returns -ENOENT
 * without one for the caller to name.
 * Errors: -EACCES (401/403: authentication), -ENOENT (404), -EFBIG (larger
 * than allowed), -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH (name or route),
 * -EPROTO (TLS, bad answers), -EIO (broken transfers, 5xx).
 */
#ifndef VMM_IMAGES_OCI_REGISTRY_H
#define VMM_IMAGES_OCI_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "images/oci/auth.h"
#include "vmm/base/digest.h"
#include "vmm/base/error.h"

struct creds;
struct registry;

#define REGISTRY_CONNECT_TIMEOUT	30	/* seconds */
#define REGISTRY_STALL_TIMEOUT		60	/* seconds below 1 KB/s before a transfer fails */
#define REGISTRY_REDIRECTS_MAX		5
#define REGISTRY_TOKEN_MAX		(64u << 10)
#define REGISTRY_URL_MAX		4096

struct registry_opts {
	const char *label;		/* names what is being done in messages: the reference or host */
	bool insecure;			/* --tls-verify=false: unverified https and plain http */
	const struct creds *creds;	/* NULL: anonymous */
	unsigned stall_timeout;		/* seconds; 0: REGISTRY_STALL_TIMEOUT */
	bool login;			/* vmm login: refused credentials need no "run vmm login" hint */
	const char *login_cmd;		/* the command hints name ("docker login" for the API); NULL: "vmm login" */
	/*
	 * Token scopes asked for with every token, besides the request's own
	 * (space-separated: a push's "repository:a:pull,push repository:b:pull"
	 * for the repositories it mounts from), or NULL.
	 */
	const char *scope;
};

/* A manifest or index as the registry sent it. */
struct registry_doc {
	char *data;
	size_t len;
	char content_type[128];		/* media type of Content-Type (no parameters), or "" */
	char digest_header[DIGEST_BUF];	/* Docker-Content-Digest when it is a sha256 digest, or "" */
};

/*
 * Where blob bytes go as they arrive: 0, or -errno to cut the transfer (the
 * sink keeps its own account of why; the request then fails with its -errno).
 */
typedef int (*registry_sink_fn)(void *arg, const void *data, size_t len);

/*
 * Where upload bytes come from: read fills buf with up to len bytes from
 * offset off of the blob and returns how many (> 0), or -errno to cut the
 * transfer (the source keeps its own account of why). Offsets grow within a
 * request; a request sent again (after a 401, a lost connection) reads its
 * range again.
 */
typedef ssize_t (*registry_source_fn)(void *arg, void *buf, size_t len, uint64_t off);

/* What an upload sends: bytes [off, off + len) of a source, or of data when read is NULL. */
struct registry_body {
	registry_source_fn read;
	void *arg;
	const void *data;
	uint64_t off, len;
};

/*
 * "/v2/<repo>/<kind>/<reference>" (kind: "manifests" or "blobs"). The parts
 * come from a parsed reference (ref.h), so they need no escaping; anything
 * outside the reference grammar is refused with -EINVAL.
 */
int registry_api_path(char *buf, size_t len, const char *repo, const char *kind,
		      const char *reference);

/*
 * A client for the registry serving domain (as references spell it:
 * "docker.io", "host:5000"). Nothing is sent yet. 0 or -errno with e.
 */
int registry_open(const char *domain, const struct registry_opts *o, struct registry **out,
		  struct error *e);
void registry_close(struct registry *r);
/* Why the client's last failed call failed. */
const struct error *registry_error(const struct registry *r);

/* GET /v2/ with authentication: whether the registry accepts the credentials (vmm login). */
int registry_ping(struct registry *r);
/* Whether the last successful request was authenticated (credentials or a token were sent). */
bool registry_authenticated(const struct registry *r);

/*
 * GET /v2/<repo>/manifests/<reference> (a tag or a digest), accepting OCI
 * and docker schema 2 manifests and indexes, at most max bytes.
 */
int registry_get_manifest(struct registry *r, const char *repo, const char *reference,
			  size_t max, struct registry_doc *doc);
void registry_doc_free(struct registry_doc *doc);

/*
 * GET /v2/<repo>/blobs/<digest> into sink: exactly size bytes (more is
 * -EFBIG, fewer -EIO). The caller checks the digest (the store's blob writer).
 */
int registry_get_blob(struct registry *r, const char *repo, const char *digest, uint64_t size,
		      registry_sink_fn sink, void *arg);

/* --- pushing (registry_upload.c) --- */

/*
 * HEAD /v2/<repo>/blobs/<digest>: 0 when the registry has the blob, -ENOENT
 * (no message) when it has not.
 */
int registry_blob_exists(struct registry *r, const char *repo, const char *digest);

/* An upload session: where its next request goes (the registry's last Location). */
struct registry_upload {
	char url[REGISTRY_URL_MAX];
	uint64_t offset;		/* bytes the registry has taken */
};

/*
 * POST /v2/<repo>/blobs/uploads/. With from (another repository on this
 * registry), ask to mount digest from there: 1 when the registry did (the
 * blob is in repo now, nothing to send). Otherwise 0 with an upload session
 * in up (a registry that cannot mount opens one instead).
 */
int registry_upload_start(struct registry *r, const char *repo, const char *digest,
			  const char *from, struct registry_upload *up);
/*
 * PATCH one chunk, bytes [b->off, b->off + b->len) with Content-Range; the
 * registry must have taken exactly up to its end. The session moves to the
 * Location it answers with.
 */
int registry_upload_chunk(struct registry *r, struct registry_upload *up,
			  const struct registry_body *b);
/*
 * PUT ?digest=: completes the blob, sending b (a monolithic upload) or
 * nothing (after chunks: b NULL). The registry checks the digest.
 */
int registry_upload_finish(struct registry *r, struct registry_upload *up, const char *digest,
			   const struct registry_body *b);
/* DELETE an unfinished session, best effort (registries also expire them). */
void registry_upload_cancel(struct registry *r, struct registry_upload *up);

/*
 * PUT /v2/<repo>/manifests/<reference> (a tag or the digest), with its media
 * type as Content-Type. When the registry names the digest it stored, it
 * must be the digest of data.
 */
int registry_put_manifest(struct registry *r, const char *repo, const char *reference,
			  const char *media_type, const void *data, size_t len);

#endif
