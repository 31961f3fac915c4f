/*
 * The registry client's insides, shared by registry.c, registry_auth.c and
 * registry_upload.c, and open to tests/fuzz/fuzz_registry_resp.c.
 */
#ifndef VMM_IMAGES_OCI_REGISTRY_INTERNAL_H
#define VMM_IMAGES_OCI_REGISTRY_INTERNAL_H

#include <curl/curl.h>
#include <json-c/json.h>

#include "images/oci/registry.h"

struct registry {
	CURL *curl;
	char domain[AUTH_HOST_MAX];	/* as references spell it: "docker.io", "host:5000" */
	char api_host[AUTH_HOST_MAX];	/* who serves it: "registry-1.docker.io" */
	char base[AUTH_HOST_MAX + 16];	/* "https://host", or "http://host" once settled */
	const char *label;
	const struct creds *creds;
	bool insecure;
	bool login;
	const char *login_cmd;		/* named in "run LOGIN_CMD HOST" hints: "vmm login" or the caller's */
	bool scheme_settled;		/* the registry answered: no more https -> http fallback */
	unsigned stall_timeout;
	const char *scope;		/* extra token scopes for every request (a push's), or NULL */
	char *auth_header;		/* "Authorization: ..." for the registry's origin, or NULL */
	enum auth_scheme auth_kind;	/* what auth_header holds */
	char errbuf[CURL_ERROR_SIZE];
	struct error err;		/* why the last request failed */
};

/* One request and its response. */
struct xfer {
	/* in */
	const char *method;		/* "HEAD", "POST", "PATCH", "PUT", "DELETE"; NULL: GET */
	const struct registry_body *body;	/* what POST, PATCH and PUT send; NULL: nothing */
	const char *req_type;		/* the body's Content-Type, or NULL */
	char req_range[48];		/* "Content-Range: ..." for a chunk, or "" */
	const char *accept;		/* "Accept: ..." header or NULL */
	const char *what;		/* "manifest latest", "blob sha256:..." for messages */
	const char *host;		/* the server, when not the registry (token realm) */
	bool token_req;			/* to a token server: basic credentials, never auth_header */
	uint64_t max;			/* body limit (a blob's exact size) */
	registry_sink_fn sink;		/* blob bytes go here, else into memory (buf) */
	void *sink_arg;
	/* out */
	long status;
	char content_type[128];
	char digest[DIGEST_BUF];
	struct auth_challenge ch[AUTH_CHALLENGES_MAX];
	size_t n_ch;
	char *buf;			/* a 2xx body (memory sink), NUL-terminated */
	size_t cap;
	uint64_t got;			/* 2xx body bytes so far */
	char err[2048];			/* the start of any other body */
	size_t err_len;
	int sink_err;			/* -EFBIG (or -ENOMEM): why the transfer was cut */
	int cb_err;			/* the sink's error (it keeps its own account of it) */
	uint64_t sent;			/* body bytes handed to libcurl in this exchange */
	char location[REGISTRY_URL_MAX];	/* Location, resolved against the request's URL, or "" */
	char range[48];			/* Range (an upload's progress: "0-1023"), or "" */
	uint64_t length;		/* Content-Length of a 2xx answer (HEAD), when has_length */
	bool has_length;
};

/*
 * x->method (GET when NULL) path (on the registry) or an absolute URL,
 * following redirects as registry.h says for GET and HEAD (a redirected
 * upload is refused). 0 with x->status set, or -errno (r->err says why) when
 * no usable answer came.
 */
int registry_request(struct registry *r, const char *path_or_url, struct xfer *x);
/*
 * registry_request with authentication: on a 401, answer the challenge once
 * (a token for scope, plus r->scope) and send the request again.
 */
int registry_call(struct registry *r, const char *path_or_url, const char *scope, struct xfer *x);
/* Log a status the caller cannot go on with; returns its -errno. */
int registry_report_status(struct registry *r, struct xfer *x);
/* Answer a challenge: set r->auth_header (Basic, or a Bearer token fetched for scope). */
int registry_authenticate(struct registry *r, const struct auth_challenge *ch, const char *scope);
/* Log that host refused the credentials (detail: the server's words, or ""); -EACCES. */
int registry_refused(struct registry *r, const char *host, const char *detail);
/*
 * libcurl's header callback: one response header line (the status line
 * included) into x: status, Content-Type, Docker-Content-Digest,
 * WWW-Authenticate, Content-Length, Location, Range.
 */
size_t registry_on_header(char *p, size_t size, size_t nmemb, void *arg);
/* A Location (absolute, or relative to base, the URL that answered) made absolute in place. 0 or -EINVAL. */
int registry_resolve_location(const char *base, char *loc, size_t len);
/*
 * The token of a token server's answer in x->buf: {"token": ...} or
 * {"access_token": ...}, visible ASCII. 0 with *tok inside *root (put it
 * after use, on failure too), or -EPROTO (r->err says why).
 */
int registry_parse_token(struct registry *r, const struct xfer *x, const char **tok, json_object **root);
/* Whether two URLs share scheme, host and port. */
bool registry_same_origin(const char *a, const char *b);

#endif
