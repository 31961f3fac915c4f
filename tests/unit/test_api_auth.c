/* X-Registry-Auth and POST /auth bodies: docker's AuthConfig from hostile text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/auth.h"
#include "tests/unit/tap.h"
#include "vmm/api/registry-auth.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"

enum form { STD, STD_NOPAD, URL, URL_NOPAD };

/* json as the header: base64 in the given form. */
static const char *header(const char *json, enum form f)
{
	static char buf[4096];
	size_t n;

	if (base64_encode(json, strlen(json), buf, sizeof(buf)) < 0)
		abort();
	if (f == URL || f == URL_NOPAD)
		for (char *p = buf; *p; p++)
			*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	n = strlen(buf);
	if (f == STD_NOPAD || f == URL_NOPAD)
		while (n && buf[n - 1] == '=')
			buf[--n] = '\0';
	return buf;
}

static int decode(const char *hdr, struct api_auth *a, struct error *e)
{
	memset(e, 0, sizeof(*e));
	return api_auth_decode(hdr, hdr ? strlen(hdr) : 0, a, e);
}

static void test_anonymous(void)
{
	struct error e;
	struct api_auth a;

	ok(decode(NULL, &a, &e) == 0 && !a.given, "no header: anonymous");
	ok(decode("", &a, &e) == 0 && !a.given, "an empty header: anonymous");
	ok(decode(header("{}", STD), &a, &e) == 0 && !a.given, "{} (what the CLI sends without a login): anonymous");
	ok(decode(header("{\"serveraddress\":\"127.0.0.1:5000\"}", URL), &a, &e) == 0 && !a.given &&
	   !strcmp(a.server, "127.0.0.1:5000"), "a server address alone: anonymous, the address kept");
	ok(decode(header("{\"username\":\"\",\"password\":\"\",\"identitytoken\":\"\"}", URL), &a, &e) == 0 &&
	   !a.given, "empty fields: anonymous");
}

static void test_forms(void)
{
	/* '?' and '>' make '/' and '+' in base64: the forms differ */
	const char *json = "{\"username\":\"alice\",\"password\":\"s3cret?>?>~~\"}";
	static const char *const names[] = { "standard, padded", "standard, unpadded", "url-safe, padded",
					      "url-safe, unpadded" };
	struct error e;
	struct api_auth a;

	ok(strpbrk(header(json, STD), "+/") && strpbrk(header(json, URL), "-_") &&
	   strchr(header(json, STD), '='), "the test's JSON has '+', '/' and padding in its base64");
	for (enum form f = STD; f <= URL_NOPAD; f++)
		ok(decode(header(json, f), &a, &e) == 0 && a.given && !strcmp(a.creds.user, "alice") &&
		   !strcmp(a.creds.pass, "s3cret?>?>~~") && !strcmp(a.creds.file, API_AUTH_SOURCE),
		   "%s base64: user and password (%s)", names[f], e.msg);
	api_auth_clear(&a);
	ok(!a.given && !a.creds.pass[0], "api_auth_clear wipes the password");
}

static void test_fields(void)
{
	char json[512], b64[128];
	struct error e;
	struct api_auth a;

	base64_encode("bob:pw:with:colons", 18, b64, sizeof(b64));
	snprintf(json, sizeof(json), "{\"auth\":\"%s\",\"username\":\"alice\",\"password\":\"x\"}", b64);
	ok(decode(header(json, URL), &a, &e) == 0 && a.given && !strcmp(a.creds.user, "bob") &&
	   !strcmp(a.creds.pass, "pw:with:colons"), "\"auth\" (user:password) wins over username and password");
	ok(decode(header("{\"username\":\"alice\",\"password\":\"pw\",\"email\":\"a@b\",\"x\":[1,{\"y\":null}],"
			 "\"serveraddress\":\"https://index.docker.io/v1/\"}", URL), &a, &e) == 0 && a.given &&
	   !strcmp(a.server, "docker.io"), "unknown keys ignored; docker hub's address normalized: %s", a.server);
	ok(decode(header("{\"username\":null,\"password\":null}", STD), &a, &e) == 0 && !a.given,
	   "null fields are absent");
}

/* Refused with -EINVAL, a message holding want, never the password. */
static void refused(const char *hdr, const char *want, const char *what)
{
	struct error e;
	struct api_auth a;
	int ret = decode(hdr, &a, &e);

	ok(ret == -EINVAL && strstr(e.msg, want) && !strstr(e.msg, "SECRETPW") && !a.given && !a.creds.pass[0],
	   "%s: refused (%s)", what, e.msg);
}

static void test_hostile(void)
{
	char json[512], *big;

	refused("!!!!", "not base64", "not base64");
	refused("abcde", "not base64", "a base64 length that cannot be");
	refused("e30=\n", "not base64", "a trailing newline");
	refused(header("{\"username\":", URL), "malformed JSON", "truncated JSON");
	refused(header("[\"alice\",\"SECRETPW\"]", URL), "want a JSON object", "a JSON array");
	refused(header("\"SECRETPW\"", URL), "want a JSON object", "a JSON string");
	refused(header("{\"username\":\"a\"} {}", URL), "malformed JSON", "two JSON values");
	refused(header("{\"username\":7,\"password\":\"SECRETPW\"}", URL), "username", "a number for username");
	refused(header("{\"username\":\"alice\",\"password\":[\"SECRETPW\"]}", URL), "password",
		"an array for password");
	refused(header("{\"username\":\"alice\"}", URL), "without a password", "a user without a password");
	refused(header("{\"password\":\"SECRETPW\"}", URL), "without a user", "a password without a user");
	refused(header("{\"username\":\"a:b\",\"password\":\"SECRETPW\"}", URL), "':'", "a ':' in the user name");
	refused(header("{\"auth\":\"%%%\",\"password\":\"SECRETPW\"}", URL), "auth", "auth not base64");
	refused(header("{\"auth\":\"U0VDUkVUUFc=\"}", URL), "user:password", "auth without a ':'");
	refused(header("{\"username\":\"alice\",\"password\":\"SECRETPW\",\"identitytoken\":\"tok\"}", URL),
		"identitytoken is not supported", "an identity token");
	refused(header("{\"registrytoken\":\"tok\"}", URL), "registrytoken is not supported", "a registry token");
	refused(header("{\"identitytoken\":5}", URL), "identitytoken", "a number for identitytoken");
	refused(header("{\"username\":\"a\",\"password\":\"p\",\"serveraddress\":\"a b\"}", URL), "serveraddress",
		"a server address that is no registry name");
	snprintf(json, sizeof(json), "{\"username\":\"%0300d\",\"password\":\"SECRETPW\"}", 0);
	refused(header(json, URL), "too long", "a user name longer than 255 bytes");
	big = malloc(API_AUTH_HEADER_MAX + 2);
	memset(big, 'A', API_AUTH_HEADER_MAX + 1);
	big[API_AUTH_HEADER_MAX + 1] = '\0';
	refused(big, "too long", "a header over 64 KiB");
	big[API_AUTH_HEADER_MAX - 1] = '\0';	/* at the limit: decoded, then not JSON */
	refused(big, "malformed JSON", "a header of 64 KiB is read");
	free(big);
}

static void test_body(void)
{
	struct error e = { 0 };
	struct api_auth a;
	const char *body = "{\"username\":\"alice\",\"password\":\"pw\",\"serveraddress\":\"127.0.0.1:5000\"}";
	json_object *o = json_parse_object(body, strlen(body), &e);

	ok(o && api_auth_from_json(o, "/auth", &a, &e) == 0 && a.given && !strcmp(a.server, "127.0.0.1:5000"),
	   "a POST /auth body");
	json_object_put(o);
	ok(api_auth_from_json(NULL, "/auth", &a, &e) == -EINVAL && strstr(e.msg, "/auth"),
	   "no object: refused, naming the source (%s)", e.msg);
}

int main(void)
{
	test_anonymous();
	test_forms();
	test_fields();
	test_hostile();
	test_body();
	return tap_done();
}
