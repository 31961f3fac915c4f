/* Dockerfiles: the parser (directives, continuations, forms, heredocs, errors) and docker's substitution rules. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/base/strv.h"
#include "vmm/engine/dockerfile.h"

static const char *env_lookup(void *arg, const char *name)
{
	static const char *const vars[][2] = {
		{ "NAME", "world" }, { "EMPTY", "" }, { "SPACED", "a b  c" }, { "PORT", "8080" },
		{ "DIR", "/srv/app" }, { "X_1", "x1" },
	};

	(void)arg;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (!strcmp(vars[i][0], name))
			return vars[i][1];
	return NULL;
}

static void expand(const char *in, const char *want)
{
	struct error e = { 0 };
	char *out = NULL;
	int ret = df_expand(in, '\\', true, env_lookup, NULL, &out, &e);

	ok(ret == 0 && !strcmp(out, want), "expand %s -> '%s' (got '%s')", in, want, ret ? e.msg : out);
	free(out);
}

static void expand_fails(const char *in, const char *want)
{
	struct error e = { 0 };
	char *out = NULL;
	int ret = df_expand(in, '\\', true, env_lookup, NULL, &out, &e);

	ok(ret == -EINVAL && strstr(e.msg, want), "expand %s refused: '%s' (got '%s')", in, want,
	   ret ? e.msg : out);
	free(out);
}

/* One test per rule of docker's "Environment replacement". */
static void test_substitution_rules(void)
{
	expand("$NAME", "world");
	expand("${NAME}", "world");
	expand("hello-${NAME}-x", "hello-world-x");
	expand("$NAME_suffix", "");			/* the name runs to the first non-name char */
	expand("${NAME}_suffix", "world_suffix");
	expand("${UNSET}", "");
	expand("${UNSET:-default}", "default");
	expand("${NAME:-default}", "world");
	expand("${EMPTY:-default}", "default");		/* ':' treats empty as unset */
	expand("${EMPTY-default}", "");			/* without ':' only unset counts */
	expand("${UNSET-default}", "default");
	expand("${NAME:+alt}", "alt");
	expand("${EMPTY:+alt}", "");
	expand("${EMPTY+alt}", "alt");
	expand("${UNSET+alt}", "");
	expand("${UNSET:-${NAME}}", "world");		/* words substitute too */
	expand("${UNSET:-$DIR/bin}", "/srv/app/bin");
	expand("\\$NAME", "$NAME");			/* escaped: literal */
	expand("\\${NAME}", "${NAME}");
	expand("'$NAME'", "$NAME");			/* single quotes: literal */
	expand("\"$NAME\"", "world");			/* double quotes: substituted */
	expand("\"a \\\"q\\\" $NAME\"", "a \"q\" world");
	expand("$", "$");
	expand("a$ b", "a$ b");
	expand("$X_1", "x1");
	expand("${NAME:?must be set}", "world");
	expand_fails("${UNSET:?must be set}", "UNSET: must be set");
	expand_fails("${EMPTY:?}", "EMPTY: parameter not set or null");
	expand_fails("${NAME", "missing '}'");
	expand_fails("${}", "bad substitution");
	expand_fails("x${w:", "bad substitution");	/* fuzzer: ':' at the very end read past it */
	expand_fails("${NAME/x/y}", "bad substitution: unexpected '/'");
	expand_fails("'open", "matching '");
	expand_fails("\"open", "matching \"");
}

static void test_escape_directive_char(void)
{
	struct error e = { 0 };
	char *out = NULL;

	ok(df_expand("`$NAME \\x", '`', true, env_lookup, NULL, &out, &e) == 0 && !strcmp(out, "$NAME \\x"),
	   "with # escape=` the backtick escapes and the backslash is plain: '%s'", out ? out : e.msg);
	free(out);
	ok(df_expand("a'$NAME'\"b\"", '\\', false, env_lookup, NULL, &out, &e) == 0 &&
	   !strcmp(out, "a'$NAME'\"b\""), "without unquoting, quotes stay: '%s'", out ? out : e.msg);
	free(out);
}

static void test_words(void)
{
	struct error e = { 0 };
	char **w = NULL;

	ok(df_expand_words("80/tcp  $PORT \"a b\" ''", '\\', env_lookup, NULL, &w, &e) == 0 &&
	   strv_len(w) == 4 && !strcmp(w[0], "80/tcp") && !strcmp(w[1], "8080") && !strcmp(w[2], "a b") &&
	   !strcmp(w[3], ""), "words: blanks split, quotes group, '' is an empty word");
	strv_free(w);
	ok(df_expand_words("$SPACED \"$SPACED\"", '\\', env_lookup, NULL, &w, &e) == 0 && strv_len(w) == 4 &&
	   !strcmp(w[2], "c") && !strcmp(w[3], "a b  c"), "an unquoted value splits, a quoted one does not");
	strv_free(w);
}

static struct dockerfile parse(const char *text)
{
	struct dockerfile df;
	struct error e = { 0 };

	if (dockerfile_parse(text, strlen(text), &df, &e)) {
		ok(0, "parse failed: %s", e.msg);
		memset(&df, 0, sizeof(df));
	}
	return df;
}

static void test_parse(void)
{
	struct dockerfile df = parse(
		"# syntax=docker/dockerfile:1\n"
		"ARG BASE=busybox\n"
		"FROM --platform=linux/amd64 $BASE AS build\n"
		"# a comment\n"
		"RUN echo one \\\n"
		"  # a comment inside\n"
		"\n"
		"  two\n"
		"run [\"/bin/sh\", \"-c\", \"echo exec\"]\n"
		"ENV A=1 B=\"two words\" C=x\\ y\n"
		"ENV LEGACY value with spaces\n"
		"LABEL org.title=\"vmm\" version=1\n"
		"COPY --from=build --chown=1:2 /a /b /dest/\n"
		"ADD [\"src with space\", \"/dst\"]\n"
		"WORKDIR /my dir\n"
		"EXPOSE 80 443/udp\n"
		"VOLUME [\"/data\", \"/logs\"]\n"
		"USER 1000:1000\n"
		"HEALTHCHECK --interval=5s CMD wget -q localhost\n"
		"ONBUILD RUN echo child\n"
		"SHELL [\"/bin/bash\", \"-c\"]\n"
		"STOPSIGNAL SIGTERM\n"
		"CMD [\"httpd\", \"-f\"]\n"
		"ENTRYPOINT /bin/entry --flag\n");

	if (!df.n)
		return;
	ok(df.n == 19 && df.escape == '\\', "19 instructions (got %u)", df.n);
	ok(df.instrs[0].kind == DF_ARG && !strcmp(df.instrs[0].args[0], "BASE=busybox"), "ARG before FROM");
	ok(df.instrs[1].kind == DF_FROM && df.instrs[1].nargs == 3 && !strcmp(df.instrs[1].args[2], "build") &&
	   !strcmp(df_flag(&df.instrs[1], "platform"), "linux/amd64"), "FROM with --platform and AS");
	ok(df.instrs[2].kind == DF_RUN && !df.instrs[2].json && df.instrs[2].line == 5 &&
	   !strcmp(df.instrs[2].args[0], "echo one   two"),
	   "RUN continued over a comment and an empty line: '%s'", df.instrs[2].args[0]);
	ok(df.instrs[3].kind == DF_RUN && df.instrs[3].json && df.instrs[3].nargs == 3 &&
	   !strcmp(df.instrs[3].args[2], "echo exec"), "lower-case run, exec form");
	ok(df.instrs[4].nargs == 3 && !strcmp(df.instrs[4].args[1], "B=\"two words\"") &&
	   !strcmp(df.instrs[4].args[2], "C=x\\ y"), "ENV pairs keep their quotes for substitution");
	ok(!strcmp(df.instrs[5].args[0], "LEGACY=value with spaces"), "ENV key value (legacy form)");
	ok(df.instrs[6].kind == DF_LABEL && df.instrs[6].nargs == 2, "LABEL pairs");
	ok(df.instrs[7].kind == DF_COPY && df.instrs[7].nargs == 3 && !strcmp(df_flag(&df.instrs[7], "from"), "build") &&
	   !strcmp(df_flag(&df.instrs[7], "chown"), "1:2") && !df_flag(&df.instrs[7], "chmod"), "COPY flags");
	ok(df.instrs[8].kind == DF_ADD && df.instrs[8].json && !strcmp(df.instrs[8].args[0], "src with space"),
	   "ADD in exec form");
	ok(!strcmp(df.instrs[9].args[0], "/my dir"), "WORKDIR takes the rest of the line");
	ok(df.instrs[10].nargs == 2 && df.instrs[11].json && df.instrs[11].nargs == 2, "EXPOSE words, VOLUME array");
	ok(df.instrs[13].kind == DF_HEALTHCHECK && !strcmp(df_flag(&df.instrs[13], "interval"), "5s") &&
	   df.instrs[13].inner && df.instrs[13].inner->kind == DF_CMD &&
	   !strcmp(df.instrs[13].inner->args[0], "wget -q localhost"), "HEALTHCHECK CMD");
	ok(df.instrs[14].kind == DF_ONBUILD && df.instrs[14].inner->kind == DF_RUN, "ONBUILD RUN");
	ok(df.instrs[15].kind == DF_SHELL && df.instrs[15].json, "SHELL");
	ok(df.instrs[17].json && df.instrs[18].kind == DF_ENTRYPOINT && !df.instrs[18].json,
	   "CMD exec form, ENTRYPOINT shell form");
	ok(!strcmp(df.instrs[2].text, "RUN echo one   two"), "the instruction as written, for history");
	dockerfile_free(&df);
}

static void test_heredoc_and_escape_directive(void)
{
	struct dockerfile df = parse(
		"# escape=`\n"
		"FROM busybox\n"
		"RUN <<EOF\n"
		"echo first\n"
		"echo $HOME\n"
		"EOF\n"
		"COPY <<-'CONF' /etc/app.conf\n"
		"\tkey=value\n"
		"\tCONF\n"
		"RUN echo a `\n"
		"  b\n");

	if (!df.n)
		return;
	ok(df.n == 4 && df.escape == '`', "escape directive: 4 instructions");
	ok(df.instrs[1].nheredocs == 1 && !strcmp(df.instrs[1].heredocs[0].name, "EOF") &&
	   !strcmp(df.instrs[1].heredocs[0].body, "echo first\necho $HOME\n") && df.instrs[1].heredocs[0].expand,
	   "RUN <<EOF: the body up to the delimiter");
	ok(df.instrs[2].nheredocs == 1 && !strcmp(df.instrs[2].heredocs[0].body, "key=value\n") &&
	   !df.instrs[2].heredocs[0].expand && df.instrs[2].nargs == 2,
	   "COPY <<-'CONF': tabs stripped, quoted delimiter: no substitution");
	ok(!strcmp(df.instrs[3].args[0], "echo a   b"), "the backtick continues a line: '%s'", df.instrs[3].args[0]);
	dockerfile_free(&df);
}

static void parse_fails(const char *text, const char *want)
{
	struct dockerfile df;
	struct error e = { 0 };
	int ret = dockerfile_parse(text, strlen(text), &df, &e);

	ok(ret < 0 && strstr(e.msg, want), "refused: '%s' (got: %s)", want, ret ? e.msg : "accepted");
	if (!ret)
		dockerfile_free(&df);
}

static void test_errors(void)
{
	parse_fails("FROM busybox\nFROB x\n", "Dockerfile line 2: unknown instruction: FROB");
	parse_fails("RUN echo\n", "line 1: no build stage in current context");
	parse_fails("", "the Dockerfile has no instructions");
	parse_fails("# only a comment\n\n", "no instructions");
	parse_fails("FROM a b\n", "line 1: FROM requires either one or three arguments");
	parse_fails("FROM a\nCOPY one\n", "line 2: COPY requires at least two arguments, but got 1");
	parse_fails("FROM a\nENV\n", "ENV requires at least one argument");
	parse_fails("FROM a\nLABEL novalue\n", "LABEL: 'novalue' is not KEY=VALUE");
	parse_fails("FROM a\nSHELL /bin/sh -c\n", "SHELL requires the arguments to be in JSON form");
	parse_fails("FROM a\nONBUILD ONBUILD RUN x\n", "ONBUILD cannot be nested");
	parse_fails("FROM a\nONBUILD FROM b\n", "FROM isn't allowed as an ONBUILD trigger");
	parse_fails("FROM a\nRUN <<EOF\necho\n", "line 2: here-document 'EOF' is not terminated");
	parse_fails("FROM a\nENV A=\"open\n", "unmatched \" quote");
	parse_fails("FROM a\nHEALTHCHECK wget x\n", "HEALTHCHECK takes CMD command or NONE");
	parse_fails("FROM a\nEXPOSE --fast 80\n", "EXPOSE does not take flags");
	{
		struct dockerfile df;
		struct error e = { 0 };

		ok(dockerfile_parse("FROM a\0\n", 8, &df, &e) == -EINVAL && strstr(e.msg, "NUL byte"),
		   "a NUL byte: not a text file (%s)", e.msg);
	}
}

int main(void)
{
	test_substitution_rules();
	test_escape_directive_char();
	test_words();
	test_parse();
	test_heredoc_and_escape_directive();
	test_errors();
	return tap_done();
}
