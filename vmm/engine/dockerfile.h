/*
 * The Dockerfile language, as docker's builder reads it: parser directives
 * (escape, syntax), comments, line continuations, here-documents, exec (JSON)
 * and shell forms, flags (--from=, --chown=...), and the variable
 * substitution rules of docker's shell-word processing. Dockerfiles come from
 * users and from build contexts, so everything is bounded.
 */
#ifndef VMM_ENGINE_DOCKERFILE_H
#define VMM_ENGINE_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/base/error.h"

#define DOCKERFILE_MAX		(1 << 20)	/* bytes */
#define DOCKERFILE_INSTR_MAX	4096
#define DOCKERFILE_ARGS_MAX	256
#define DOCKERFILE_FLAGS_MAX	16

enum df_kind {
	DF_FROM, DF_RUN, DF_CMD, DF_LABEL, DF_MAINTAINER, DF_EXPOSE, DF_ENV, DF_ADD, DF_COPY,
	DF_ENTRYPOINT, DF_VOLUME, DF_USER, DF_WORKDIR, DF_ARG, DF_ONBUILD, DF_STOPSIGNAL,
	DF_HEALTHCHECK, DF_SHELL,
};

struct df_heredoc {
	char *name;		/* the delimiter: EOF */
	char *body;		/* the lines up to it, each ending in \n */
	bool expand;		/* unquoted delimiter: variables are substituted */
};

struct df_instr {
	enum df_kind kind;
	unsigned line;		/* where it starts, from 1 */
	char *text;		/* as written, continuations joined: history's created_by */
	/*
	 * Arguments. Exec form: the JSON array's strings. Shell form of RUN, CMD,
	 * ENTRYPOINT, SHELL-less HEALTHCHECK CMD: one string, the command line.
	 * ENV, LABEL, ARG: "key=value" pairs (ARG without a default: "key").
	 * Others: the words.
	 */
	char **args;
	unsigned nargs;
	bool json;		/* exec form */
	char **flags;		/* "--from=stage" ... as given */
	unsigned nflags;
	struct df_heredoc *heredocs;
	unsigned nheredocs;
	struct df_instr *inner;	/* ONBUILD's instruction; HEALTHCHECK CMD's command */
};

struct dockerfile {
	struct df_instr *instrs;
	unsigned n;
	char escape;		/* '\\' or '`' (# escape=) */
};

/* Parse a Dockerfile. 0, or -EINVAL with e naming the line ("line 3: unknown instruction: FOO"). */
int dockerfile_parse(const char *text, size_t len, struct dockerfile *df, struct error *e);
void dockerfile_free(struct dockerfile *df);
const char *df_kind_name(enum df_kind k);
/* The value of flag name ("from" for --from=x) or NULL; "" for a bare --flag. */
const char *df_flag(const struct df_instr *in, const char *name);

/*
 * docker's variable substitution in one word: $VAR, ${VAR}, ${VAR:-word},
 * ${VAR-word}, ${VAR:+word}, ${VAR+word}, ${VAR:?message}, ${VAR?message};
 * the escape character keeps the next character literal; single quotes are
 * literal, double quotes substitute; quotes themselves are removed when
 * unquote is set. lookup returns NULL for an unset variable.
 * 0 with *out malloc'd, or -EINVAL with e (a bad substitution, a :? error).
 */
typedef const char *(*df_lookup_fn)(void *arg, const char *name);
int df_expand(const char *in, char escape, bool unquote, df_lookup_fn lookup, void *arg, char **out,
	      struct error *e);
/*
 * The same over a list of words split at unquoted blanks (EXPOSE, VOLUME,
 * COPY sources...): a malloc'd NULL-terminated vector.
 */
int df_expand_words(const char *in, char escape, df_lookup_fn lookup, void *arg, char ***out,
		    struct error *e);

#endif
