/* Registry client pieces without a network: challenges, names, paths, origins, credential files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/oci/auth.h"
#include "images/oci/creds.h"
#include "images/oci/ref.h"
#include "images/oci/registry.h"
#include "images/oci/registry-internal.h"
#include "tests/unit/tap.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *s, struct auth_challenge *v, size_t max)
{
	return www_auth_parse(s, strlen(s), v, max);
}

static void test_challenges(void)
{
	struct auth_challenge v[AUTH_CHALLENGES_MAX];
	const struct auth_challenge *pick;
	char big[3000], many[400];
	int n;

	n = parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
		  "scope=\"repository:library/busybox:pull\"", v, 8);
	ok(n == 1 && v[0].scheme == AUTH_BEARER, "docker hub's challenge: one Bearer (%d)", n);
	ok(!strcmp(v[0].realm, "https://auth.docker.io/token") &&
	   !strcmp(v[0].service, "registry.docker.io") &&
	   !strcmp(v[0].scope, "repository:library/busybox:pull"), "realm, service, scope");

	n = parse("Basic realm=\"vmm-test\"", v, 8);
	ok(n == 1 && v[0].scheme == AUTH_BASIC && !strcmp(v[0].realm, "vmm-test"),
	   "docker-registry's htpasswd challenge");

	n = parse("Basic realm=\"a\", Bearer realm=\"https://x/token\",service=\"s\"", v, 8);
	pick = www_auth_pick(v, n > 0 ? (size_t)n : 0);
	ok(n == 2 && v[0].scheme == AUTH_BASIC && v[1].scheme == AUTH_BEARER &&
	   !strcmp(v[1].service, "s"), "two challenges in one header");
	ok(pick == &v[1], "Bearer is preferred over Basic");

	n = parse("bearer REALM = \"r\" ,  Service= s1 ,error=\"insufficient_scope\"", v, 8);
	ok(n == 1 && v[0].scheme == AUTH_BEARER && !strcmp(v[0].realm, "r") &&
	   !strcmp(v[0].service, "s1") && !strcmp(v[0].error, "insufficient_scope"),
	   "case-insensitive names, spaces around '=', token values, error");

	n = parse("Bearer realm=\"a\\\"b\\\\c\"", v, 8);
	ok(n == 1 && !strcmp(v[0].realm, "a\"b\\c"), "quoted-pair escapes (%s)", v[0].realm);

	n = parse("Negotiate abc==, Basic dXNlcjpwYXNz, Bearer realm=\"r\"", v, 8);
	ok(n == 3 && v[0].scheme == AUTH_OTHER && v[1].scheme == AUTH_BASIC &&
	   v[2].scheme == AUTH_BEARER, "token68 challenges are skipped over (%d)", n);
	n = parse("Digest realm=\"x\", nonce=\"y\"", v, 8);
	ok(n == 1 && v[0].scheme == AUTH_OTHER && !www_auth_pick(v, 1),
	   "an unsupported scheme is parsed but never picked");
	ok(parse("Bearer", v, 8) == 1 && v[0].scheme == AUTH_BEARER && !www_auth_pick(v, 1),
	   "Bearer without a realm is not usable");
	ok(parse("", v, 8) == 0 && parse("  ,, ", v, 8) == 0, "empty headers: no challenges");

	ok(parse("Bearer realm=\"unterminated", v, 8) == -EINVAL, "unterminated quote refused");
	ok(parse("Bearer realm=\"a\", service=", v, 8) == -EINVAL, "missing value refused");
	ok(parse("Bearer realm=\"a\"junk", v, 8) == -EINVAL, "junk after a value refused");
	ok(parse("=x", v, 8) == -EINVAL && parse("Bearer \"x\"", v, 8) == -EINVAL,
	   "no scheme, or a bare quoted string, refused");
	ok(parse("Bearer realm=\"a\x01b\"", v, 8) == -EINVAL, "control characters refused");
	ok(www_auth_parse("Bearer realm=\"a\0b\"", 18, v, 8) == -EINVAL, "NUL inside refused");
	ok(www_auth_parse("Basic realm=\"abc\"XYZ", 17, v, 8) == 1 && !strcmp(v[0].realm, "abc"),
	   "only len bytes are read");

	snprintf(big, sizeof(big), "Bearer realm=\"%02900d\",service=\"s\"", 0);
	n = parse(big, v, 8);
	ok(n == 1 && v[0].scheme == AUTH_OTHER && !www_auth_pick(v, 1),
	   "a realm too long to hold makes the challenge unusable");
	many[0] = '\0';
	for (int i = 0; i < 12; i++)
		strcat(many, "Basic realm=\"x\", ");
	ok(parse(many, v, 8) == 8, "at most max challenges are filled");
}

static void test_scopes(void)
{
	const char *push[] = { "repository:a/b:pull", "repository:a/b:pull,push repository:c:pull", NULL };
	const char *dup[] = { "repository:x:pull", "repository:x:pull", "registry:catalog:*" };
	const char *odd[] = { "  repository:x:push  ", "weird", "repository:x:pull,,push" };
	char out[256];

	ok(auth_scopes_merge(push, 3, out, sizeof(out)) == 0 &&
	   !strcmp(out, "repository:a/b:pull,push repository:c:pull"),
	   "scopes: one per resource, actions merged, in the order first seen");
	ok(auth_scopes_merge(dup, 3, out, sizeof(out)) == 0 &&
	   !strcmp(out, "repository:x:pull registry:catalog:*"), "scopes: duplicates once");
	ok(auth_scopes_merge(odd, 3, out, sizeof(out)) == 0 && !strcmp(out, "repository:x:push,pull weird"),
	   "scopes: extra spaces, empty actions, a scope without actions");
	ok(auth_scopes_merge(push, 0, out, sizeof(out)) == 0 && !out[0], "scopes: none");
	ok(auth_scopes_merge(push, 3, out, 20) == -ENOSPC, "scopes: no room");
}

static void test_base64(void)
{
	char out[64];
	unsigned char bin[64];
	int n;

	ok(base64_encode("user:pass", 9, out, sizeof(out)) == 12 && !strcmp(out, "dXNlcjpwYXNz"),
	   "encode user:pass");
	ok(base64_encode("a", 1, out, sizeof(out)) == 4 && !strcmp(out, "YQ=="), "encode padding");
	ok(base64_encode("", 0, out, sizeof(out)) == 0 && !out[0], "encode nothing");
	ok(base64_encode("abcdef", 6, out, 8) == -ENOSPC, "encode: no room");
	n = base64_decode("YWxpY2U6czNjcjN0OjpY", 20, bin, sizeof(bin));
	ok(n == 15 && !memcmp(bin, "alice:s3cr3t::X", 15), "decode (%d)", n);
	ok(base64_decode("YQ==", 4, bin, sizeof(bin)) == 1 && bin[0] == 'a' &&
	   base64_decode("YQ", 2, bin, sizeof(bin)) == 1, "decode with and without padding");
	ok(base64_decode("Y$==", 4, bin, sizeof(bin)) == -EINVAL &&
	   base64_decode("Y", 1, bin, sizeof(bin)) == -EINVAL, "decode refuses garbage");
	ok(base64_decode("dXNlcjpwYXNz", 12, bin, 4) == -ENOSPC, "decode: no room");
	for (int len = 0; len < 40; len++) {
		unsigned char src[40], back[40];
		char enc[64];

		for (int i = 0; i < len; i++)
			src[i] = (unsigned char)(i * 37 + len);
		base64_encode(src, len, enc, sizeof(enc));
		if (base64_decode(enc, strlen(enc), back, sizeof(back)) != len ||
		    memcmp(src, back, len)) {
			ok(0, "round trip of %d bytes", len);
			return;
		}
	}
	ok(1, "round trips of 0..39 bytes");
}

static void test_names(void)
{
	static const struct { const char *in, *want; } norm[] = {
		{ "docker.io", "docker.io" },
		{ "https://index.docker.io/v1/", "docker.io" },
		{ "Registry-1.Docker.IO", "docker.io" },
		{ "registry.hub.docker.com", "docker.io" },
		{ "http://localhost:5000/", "localhost:5000" },
		{ "Quay.io", "quay.io" },
		{ "127.0.0.1:5000/some/path", "127.0.0.1:5000" },
		{ "[::1]:5000", "[::1]:5000" },
	};
	static const char *const bad[] = { "", "https://", "bad host", "a@b", ":5000", "/x" };
	static const char *const loop[] = {
		"localhost", "localhost:5000", "LOCALHOST:1", "127.0.0.1", "127.0.0.1:5000",
		"127.1.2.3:80", "[::1]:5000", "[::1]",
	};
	static const char *const notloop[] = {
		"128.0.0.1", "localhost.example.com", "example.com:5000", "10.0.0.1:5000",
		"docker.io", "[::2]:5000", "127.0.0.1.nip.io",
	};
	char h[AUTH_HOST_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(norm); i++)
		ok(registry_host_normalize(norm[i].in, h, sizeof(h)) == 0 && !strcmp(h, norm[i].want),
		   "normalize %s -> %s (%s)", norm[i].in, norm[i].want, h);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ok(registry_host_normalize(bad[i], h, sizeof(h)) == -EINVAL, "normalize refuses '%s'",
		   bad[i]);
	ok(!strcmp(registry_api_host("docker.io"), "registry-1.docker.io") &&
	   !strcmp(registry_api_host("quay.io"), "quay.io") &&
	   !strcmp(registry_api_host("localhost:5000"), "localhost:5000"),
	   "docker.io is served by registry-1.docker.io, others by themselves");
	for (size_t i = 0; i < ARRAY_SIZE(loop); i++)
		ok(registry_host_is_loopback(loop[i]), "%s is loopback (insecure like docker)", loop[i]);
	for (size_t i = 0; i < ARRAY_SIZE(notloop); i++)
		ok(!registry_host_is_loopback(notloop[i]), "%s is not loopback", notloop[i]);
}

/* From what the user types to the host and path of the request. */
static void test_paths(void)
{
	static const struct { const char *ref, *host, *kind, *path; } v[] = {
		{ "busybox", "registry-1.docker.io", "manifests", "/v2/library/busybox/manifests/latest" },
		{ "user/app:v2", "registry-1.docker.io", "manifests", "/v2/user/app/manifests/v2" },
		{ "quay.io/a/b/c:1.0", "quay.io", "manifests", "/v2/a/b/c/manifests/1.0" },
		{ "localhost:5000/x@sha256:" D64, "localhost:5000", "manifests",
		  "/v2/x/manifests/sha256:" D64 },
		{ "127.0.0.1:5000/one:v1", "127.0.0.1:5000", "blobs", "/v2/one/blobs/v1" },
	};
	char buf[512];

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct image_ref r;
		const char *reference;

		if (ref_parse(v[i].ref, REF_DEFAULT_TAG, &r, NULL)) {
			ok(0, "parse %s", v[i].ref);
			continue;
		}
		reference = r.digest[0] ? r.digest : r.tag;
		ok(!strcmp(registry_api_host(r.domain), v[i].host) &&
		   registry_api_path(buf, sizeof(buf), r.path, v[i].kind, reference) == 0 &&
		   !strcmp(buf, v[i].path), "%s -> %s%s (%s)", v[i].ref, v[i].host, v[i].path, buf);
	}
	ok(registry_api_path(buf, sizeof(buf), "../x", "blobs", "sha256:" D64) == -EINVAL &&
	   registry_api_path(buf, sizeof(buf), "/x", "blobs", "a") == -EINVAL &&
	   registry_api_path(buf, sizeof(buf), "x", "manifests", "a/b") == -EINVAL &&
	   registry_api_path(buf, sizeof(buf), "x", "manifests", "a?b") == -EINVAL &&
	   registry_api_path(buf, sizeof(buf), "x", "manifests", "") == -EINVAL,
	   "paths outside the reference grammar refused");
	ok(registry_api_path(buf, 10, "library/busybox", "manifests", "latest") == -ENAMETOOLONG,
	   "path too long for the buffer");
}

static void test_origins(void)
{
	ok(registry_same_origin("http://a/v2/", "http://a:80/x"), "default http port");
	ok(registry_same_origin("https://Host:443/v2/", "https://host"), "default https port, case");
	ok(!registry_same_origin("https://a/v2/", "http://a/v2/"), "scheme differs");
	ok(!registry_same_origin("https://a:5000/", "https://a/"), "port differs");
	ok(!registry_same_origin("https://a/", "https://a.evil/"), "host differs");
	ok(!registry_same_origin("https://a@b/", "https://a/"), "userinfo does not fool it");
	ok(!registry_same_origin("not a url", "not a url"), "garbage matches nothing");
}

static bool mode_is(const char *path, mode_t want)
{
	struct stat st;

	return stat(path, &st) == 0 && (st.st_mode & 07777) == want;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_creds(void)
{
	char dir[] = "/tmp/vmm-test-creds.XXXXXX", own[300], docker[300], sub[200];
	struct creds c = { 0 }, got;
	const char *files[3];
	char *text = NULL;
	size_t len;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(sub, sizeof(sub), "%s/cfg/vmm", dir);
	snprintf(own, sizeof(own), "%s/auth.json", sub);
	snprintf(docker, sizeof(docker), "%s/config.json", dir);
	files[0] = own;
	files[1] = docker;
	files[2] = NULL;

	ok(creds_lookup(files, "localhost:5000", &got) == -ENOENT, "no files: nothing found");
	strcpy(c.user, "alice");
	strcpy(c.pass, "pa:ss word");
	ok(creds_save(own, "localhost:5000", &c, NULL) == 0, "save");
	ok(mode_is(own, 0600) && mode_is(sub, 0700), "file 0600 in a new 0700 directory");
	ok(creds_lookup(files, "localhost:5000", &got) == 0 && !strcmp(got.user, "alice") &&
	   !strcmp(got.pass, "pa:ss word") && got.file == own, "found again, ':' in the password");
	read_file(AT_FDCWD, own, 1 << 20, &text, &len);
	ok(text && strstr(text, "\"auths\"") && strstr(text, "\"localhost:5000\"") &&
	   strstr(text, "YWxpY2U6cGE6c3Mgd29yZA=="), "docker's format: auths.host.auth = base64");
	free(text);

	write_text(docker, "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"Ym9iOmh1bnRlcjI=\"},"
			   "\"localhost:5000\":{\"auth\":\"ZXZlOng=\"},"
			   "\"old.example\":{\"username\":\"u\",\"password\":\"p\"}},"
			   "\"credsStore\":\"desktop\"}");
	ok(creds_lookup(files, "docker.io", &got) == 0 && !strcmp(got.user, "bob") &&
	   !strcmp(got.pass, "hunter2") && got.file == docker,
	   "docker's key for docker hub matches docker.io");
	ok(creds_lookup(files, "localhost:5000", &got) == 0 && !strcmp(got.user, "alice"),
	   "the first file wins");
	ok(creds_lookup(files, "old.example", &got) == 0 && !strcmp(got.user, "u") &&
	   !strcmp(got.pass, "p"), "username/password fields");

	strcpy(c.user, "carol");
	ok(creds_save(own, "https://localhost:5000/", &c, NULL) == 0 && creds_save(own, "quay.io", &c, NULL) == 0,
	   "save over another spelling, and a second host");
	ok(creds_lookup(files, "localhost:5000", &got) == 0 && !strcmp(got.user, "carol"),
	   "the entry was replaced");
	ok(creds_remove(own, "localhost:5000", NULL) == 0 && creds_remove(own, "localhost:5000", NULL) == -ENOENT,
	   "remove, then nothing to remove");
	ok(creds_lookup(files, "localhost:5000", &got) == 0 && !strcmp(got.user, "eve"),
	   "after logout, docker's credentials are next");
	ok(creds_lookup(files, "quay.io", &got) == 0 && !strcmp(got.user, "carol"),
	   "other hosts kept");

	log_set_level(LOG_NONE);	/* the next ones log on purpose */
	write_text(own, "{\"auths\":{\"x.io\":{\"auth\":\"bm9jb2xvbg==\"}}}");
	ok(creds_lookup(files, "x.io", &got) == -ENOENT, "auth without ':' is ignored");
	write_text(own, "{not json");
	ok(creds_save(own, "quay.io", &c, NULL) == -EINVAL, "a corrupt file is not overwritten");
	read_file(AT_FDCWD, own, 1 << 20, &text, &len);
	ok(text && !strcmp(text, "{not json"), "and left as it was");
	free(text);
	ok(creds_lookup(files, "docker.io", &got) == 0, "a corrupt file is skipped in lookups");
	log_set_level(LOG_WARN);

	unlink(own);
	unlink(docker);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/cfg", dir);
	rmdir(sub);
	rmdir(dir);
}

/* docker's "auth" value, shared by config files and the Engine API's X-Registry-Auth. */
static void test_creds_from_auth(void)
{
	char user[300], b64[512];
	struct creds c;

	ok(creds_from_auth("dXNlcjpwYTpzcw==", &c) == 0 && !strcmp(c.user, "user") && !strcmp(c.pass, "pa:ss"),
	   "auth: user and password split at the first colon");
	ok(creds_from_auth("dXNlcg==", &c) == -EINVAL, "auth: no colon is refused");
	ok(creds_from_auth("!!!!", &c) == -EINVAL, "auth: not base64 is refused");
	memset(user, 'u', 256);
	strcpy(user + 256, ":p");
	base64_encode(user, strlen(user), b64, sizeof(b64));
	ok(creds_from_auth(b64, &c) == -ENAMETOOLONG, "auth: a user name over 255 bytes is too long");
}

int main(void)
{
	test_challenges();
	test_scopes();
	test_base64();
	test_names();
	test_paths();
	test_origins();
	test_creds();
	test_creds_from_auth();
	return tap_done();
}
