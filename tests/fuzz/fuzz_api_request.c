/*
 * libFuzzer target for the Engine API's request side (a socket anyone in the
 * docker group can write to): an input starting with '/' is a request path
 * (version prefix, then the route table); one starting with '@' is an
 * X-Registry-Auth header after the '@'; anything else is a create body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api/api.h"
#include "vmm/api/create-decode.h"
#include "vmm/api/registry-auth.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_path(const char *url)
{
	static const char *const methods[] = { "GET", "POST", "DELETE", "HEAD" };
	const char *args[API_ARGS_MAX], *path;
	struct error e = { 0 };
	char ver[16], buf[512];
	bool known;

	if (api_split_version(url, &path, ver, &e)) {
		if (e.code >= 0 || !e.msg[0])
			abort();
		return;
	}
	for (size_t i = 0; i < 4; i++) {
		const struct api_route *r = api_route_find(methods[i], path, buf, sizeof(buf), args, &known);

		for (size_t j = 0; r && j < API_ARGS_MAX && args[j]; j++)
			if (!args[j][0] || strlen(args[j]) > strlen(path))
				abort();
	}
}

static void fuzz_auth(const char *hdr, size_t len)
{
	struct error e = { 0 };
	struct api_auth a;

	if (api_auth_decode(hdr, len, &a, &e)) {
		if (e.code >= 0 || !e.msg[0] || a.given || a.creds.pass[0])
			abort();
		return;
	}
	if (a.given && (!a.creds.user[0] || !a.creds.pass[0] || strchr(a.creds.user, ':')))
		abort();
	api_auth_clear(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error e = { 0 };
	struct api_create a;
	json_object *o;
	char *s;

	if (size && data[0] == '/') {
		if (!(s = strndup((const char *)data, size)))
			return 0;
		fuzz_path(s);
		free(s);
		return 0;
	}
	if (size && data[0] == '@') {
		if (!(s = strndup((const char *)data + 1, size - 1)))
			return 0;
		fuzz_auth(s, strlen(s));	/* a header holds no NUL */
		free(s);
		return 0;
	}
	if (!(o = json_parse_object((const char *)data, size, &e)))
		return 0;
	if (api_decode_create(o, "fuzz", &a, &e) && (e.code >= 0 || !e.msg[0]))
		abort();
	api_create_free(&a);
	json_object_put(o);
	return 0;
}
