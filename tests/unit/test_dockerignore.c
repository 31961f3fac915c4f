/* .dockerignore: docker's documented examples and rules. */
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/engine/dockerignore.h"

static struct dockerignore *load(const char *text)
{
	struct dockerignore *d = NULL;
	struct error e = { 0 };

	if (dockerignore_parse(text, strlen(text), &d, &e))
		ok(0, "parse: %s", e.msg);
	return d;
}

static void expect(const struct dockerignore *d, const char *path, bool excluded)
{
	ok(dockerignore_excludes(d, path) == excluded, "%s is %s", path, excluded ? "left out" : "kept");
}

/* The example of docker's documentation. */
static void test_docker_example(void)
{
	struct dockerignore *d = load("# comment\n*/temp*\n*/*/temp*\ntemp?\n");

	expect(d, "somedir/temporary.txt", true);
	expect(d, "somedir/temp", true);
	expect(d, "somedir/subdir/temporary.txt", true);
	expect(d, "tempa", true);
	expect(d, "tempb", true);
	expect(d, "temp", false);
	expect(d, "temporary.txt", false);
	expect(d, "a/b/c/temp", false);
	dockerignore_free(d);
}

static void test_rules(void)
{
	struct dockerignore *d = load("  *.md  \n!README*.md\nREADME-secret.md\n**/*.go\nbuild/\n/logs/../tmp\n\n.\n");

	expect(d, "notes.md", true);
	expect(d, "README.md", false);		/* '!' re-includes */
	expect(d, "README-secret.md", true);	/* the last matching line wins */
	expect(d, "docs/x.md", false);		/* *.md is the top level only */
	expect(d, "main.go", true);		/* ** spans zero elements */
	expect(d, "cmd/tool/main.go", true);	/* and several */
	expect(d, "build", true);		/* a folder pattern */
	expect(d, "build/out/app", true);	/* leaves out what it holds */
	expect(d, "tmp/x", true);		/* patterns are cleaned: /logs/../tmp is tmp */
	expect(d, "logs", false);
	expect(d, "src/main.c", false);
	dockerignore_free(d);
	d = load("**\n!keep/**\n");
	expect(d, "anything/at/all", true);
	expect(d, "keep/this", false);
	dockerignore_free(d);
	d = load("dir\n!dir/file\n");
	expect(d, "dir/other", true);
	expect(d, "dir/file", false);
	dockerignore_free(d);
	ok(!dockerignore_excludes(NULL, "x"), "no .dockerignore leaves out nothing");
}

int main(void)
{
	test_docker_example();
	test_rules();
	return tap_done();
}
