/*
 * What a registry or its token server answers, as the registry client
 * (images/oci/registry*.c) reads it, without a network: the input is
 * response headers, a blank line, and a body. Each header line goes to the
 * libcurl header callback as libcurl hands it over (status lines,
 * Content-Type, Docker-Content-Digest, WWW-Authenticate, Content-Length,
 * Location, Range); a Location is then resolved against the request's URL;
 * the body is read as a token server's answer and as an error document.
 * (The client follows no Link header: it never lists tags or catalogs.)
 * Checked: what the header callback keeps is terminated and valid, a token
 * is visible ASCII; ASan/UBSan and the leak check do the rest.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/registry-internal.h"
#include "vmm/base/digest.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void headers(struct xfer *x, const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (data + off)) + 1 : size - off;
		char *line = malloc(len ? len : 1);	/* exactly the line: ASan sees reads past it */

		if (!line)
			return;
		memcpy(line, data + off, len);
		if (registry_on_header(line, 1, len, x) != len && x->sink_err != -EFBIG)
			abort();
		free(line);
		off += len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char url[] = "https://registry.example:5000/v2/a/b/blobs/uploads/?state=x";
	struct registry r = { .label = "fuzz", .domain = "registry.example:5000", .auth_kind = AUTH_BEARER };
	struct xfer x = { .what = "fuzz", .max = 1 << 20, .host = "auth.example" };
	const uint8_t *body = NULL;
	json_object *root = NULL;
	const char *tok;
	size_t head = size;

	log_set_level(LOG_NONE);
	for (size_t i = 0; i + 1 < size; i++) {
		if (data[i] == '\n' && (data[i + 1] == '\n' || (data[i + 1] == '\r' && i + 2 < size && data[i + 2] == '\n'))) {
			head = i + 1;
			body = data + head + (data[i + 1] == '\r' ? 2 : 1);
			break;
		}
	}
	headers(&x, data, head);
	if (x.status < 0 || x.status > 999 || strlen(x.content_type) >= sizeof(x.content_type) ||
	    (x.digest[0] && !digest_valid(x.digest)) || x.n_ch > AUTH_CHALLENGES_MAX ||
	    strlen(x.location) >= sizeof(x.location) || strlen(x.range) >= sizeof(x.range))
		abort();
	if (x.location[0] && registry_resolve_location(url, x.location, sizeof(x.location)) == 0 &&
	    strncmp(x.location, "http", 4))
		abort();
	if (!body)
		return 0;

	/* the body as a token server's answer (the client's buffer is NUL-terminated) */
	x.got = size - (size_t)(body - data);
	x.buf = malloc(x.got + 1);
	if (!x.buf)
		return 0;
	memcpy(x.buf, body, x.got);
	x.buf[x.got] = '\0';
	if (registry_parse_token(&r, &x, &tok, &root) == 0) {
		for (const char *c = tok; *c; c++)
			if (*c <= ' ' || *c > '~')
				abort();
	}
	json_object_put(root);
	free(x.buf);

	/* and as an error document, of which the client keeps the start */
	x.err_len = MIN(x.got, sizeof(x.err) - 1);
	memcpy(x.err, body, x.err_len);
	x.err[x.err_len] = '\0';
	if (x.status < 400)
		x.status = 400 + x.status % 200;
	if (registry_report_status(&r, &x) >= 0 || !r.err.msg[0])
		abort();
	return 0;
}
