/* Image references parsed and normalized as docker does. */
#include <string.h>

#include "images/oci/ref.h"
#include "tests/unit/tap.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct {
	const char *in;
	const char *full;	/* normalized, with the default tag */
	const char *shortref;	/* docker's familiar form */
} good[] = {
	{ "busybox", "docker.io/library/busybox:latest", "busybox:latest" },
	{ "busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36" },
	{ "library/busybox", "docker.io/library/busybox:latest", "busybox:latest" },
	{ "docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest" },
	{ "index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest" },
	{ "user/app", "docker.io/user/app:latest", "user/app:latest" },
	{ "user/app:v2", "docker.io/user/app:v2", "user/app:v2" },
	{ "docker.io/user/sub/app", "docker.io/user/sub/app:latest", "user/sub/app:latest" },
	{ "host:5000/a/b:tag", "host:5000/a/b:tag", "host:5000/a/b:tag" },
	{ "host:5000/a", "host:5000/a:latest", "host:5000/a:latest" },
	{ "localhost/x", "localhost/x:latest", "localhost/x:latest" },
	{ "localhost:5000/x:1", "localhost:5000/x:1", "localhost:5000/x:1" },
	{ "example.com/x", "example.com/x:latest", "example.com/x:latest" },
	{ "Example.COM/x", "Example.COM/x:latest", "Example.COM/x:latest" },
	{ "127.0.0.1:5000/x/y", "127.0.0.1:5000/x/y:latest", "127.0.0.1:5000/x/y:latest" },
	{ "[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest" },
	{ "quay.io/a-b/c_d.e__f", "quay.io/a-b/c_d.e__f:latest", "quay.io/a-b/c_d.e__f:latest" },
	{ "a/b--c", "docker.io/a/b--c:latest", "a/b--c:latest" },
	{ "busybox:V_1.2-rc", "docker.io/library/busybox:V_1.2-rc", "busybox:V_1.2-rc" },
	{ "busybox@sha256:" D64, "docker.io/library/busybox@sha256:" D64, "busybox@sha256:" D64 },
	{ "busybox:1@sha256:" D64, "docker.io/library/busybox:1@sha256:" D64,
	  "busybox:1@sha256:" D64 },
	{ "localhost:5000", "docker.io/library/localhost:5000", "localhost:5000" },
	{ "abcdef0123", "docker.io/library/abcdef0123:latest", "abcdef0123:latest" },
};

static const struct {
	const char *in;
	const char *why;	/* a word of the explanation */
} bad[] = {
	{ "", "empty" },
	{ "Busybox", "lowercase" },
	{ "user/App", "lowercase" },
	{ "busybox:", "tag" },
	{ "busybox:-x", "tag" },
	{ "busybox:a/b", "reference" },
	{ "busybox::x", "reference" },
	{ "-busybox", "reference" },
	{ "busybox-", "reference" },
	{ "a//b", "reference" },
	{ "a/b/", "reference" },
	{ "/a", "reference" },
	{ "a b", "reference" },
	{ "a_-b", "reference" },
	{ "a..b", "reference" },
	{ "a___b", "reference" },
	{ "busybox@sha256:abc", "digest" },
	{ "busybox@sha512:" D64 D64, "algorithm" },
	{ "busybox@sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "digest" },
	{ D64, "hexadecimal" },
	{ "host:port/x", "host" },
	{ "-host.com/x", "host" },
	{ "host-.com/x", "host" },
	{ "[::1/x", "host" },
	{ "busybox:0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789", "tag" },
};

static char buf[REF_STR_MAX];
static struct image_ref ref;

static void test_good(void)
{
	const char *why;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int ret = ref_parse(good[i].in, REF_DEFAULT_TAG, &ref, &why);

		ok(ret == 0, "parse '%s'%s%s", good[i].in, ret ? ": " : "", ret ? why : "");
		if (ret)
			continue;
		ref_format(&ref, buf, sizeof(buf));
		ok(!strcmp(buf, good[i].full), "'%s' normalizes to %s (got %s)", good[i].in,
		   good[i].full, buf);
		ref_format_short(&ref, buf, sizeof(buf));
		ok(!strcmp(buf, good[i].shortref), "'%s' shows as %s (got %s)", good[i].in,
		   good[i].shortref, buf);
		/* the normalized form parses back to itself */
		ref_format(&ref, buf, sizeof(buf));
		ok(ref_parse(buf, REF_DEFAULT_TAG, &ref, NULL) == 0, "'%s' parses again", buf);
	}
}

static void test_bad(void)
{
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret;

		why = NULL;
		ret = ref_parse(bad[i].in, REF_DEFAULT_TAG, &ref, &why);
		ok(ret == -22 && why && strstr(why, bad[i].why), "refuse '%.40s' (%s)", bad[i].in,
		   why ? why : "accepted");
	}
}

/* without REF_DEFAULT_TAG no tag is invented */
static void test_no_default_tag(void)
{
	ok(ref_parse("busybox", 0, &ref, NULL) == 0 && ref.tag[0] == '\0', "no default tag");
	ref_format(&ref, buf, sizeof(buf));
	ok(!strcmp(buf, "docker.io/library/busybox"), "repository only: %s", buf);
	ref_format_short_repo(&ref, buf, sizeof(buf));
	ok(!strcmp(buf, "busybox"), "short repository: %s", buf);
	ok(ref_parse("docker.io/library/a/b", 0, &ref, NULL) == 0, "library/a/b parses");
	ref_format_short_repo(&ref, buf, sizeof(buf));
	ok(!strcmp(buf, "library/a/b"), "library/ kept with a deeper path: %s", buf);
}

/* the 255-character name limit */
static void test_name_limit(void)
{
	{
		char name[300];
		const char *why;

		/* counted with the registry, as docker counts the normalized name */
		memcpy(name, "h.io/", 5);
		memset(name + 5, 'a', 250);
		name[255] = '\0';
		ok(ref_parse(name, 0, &ref, &why) == 0, "a 255-character name is fine");
		strcpy(name + 255, "b");
		ok(ref_parse(name, 0, &ref, &why) != 0 && strstr(why, "255"),
		   "a 256-character name is refused");
		ok(ref_parse(name + 5, 0, &ref, &why) != 0 && strstr(why, "255"),
		   "251 characters under docker.io/library/ are too many");
	}
}

static void test_tag_valid(void)
{
	ok(ref_tag_valid("latest") && ref_tag_valid("_x") && !ref_tag_valid(".x") &&
	   !ref_tag_valid(""), "tag validity");
}

int main(void)
{
	test_good();
	test_bad();
	test_no_default_tag();
	test_name_limit();
	test_tag_valid();
	return tap_done();
}
