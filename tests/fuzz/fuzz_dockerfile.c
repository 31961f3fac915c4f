/*
 * libFuzzer target for Dockerfiles (vmm build reads them from build contexts):
 * the parser, and docker's substitution over every argument it yields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/strv.h"
#include "vmm/engine/dockerfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(void *arg, const char *name)
{
	(void)arg;
	return name[0] == 'A' ? "a value" : name[0] == 'E' ? "" : NULL;
}

static void expand_all(const struct df_instr *in, char escape)
{
	for (unsigned i = 0; i < in->nargs; i++) {
		struct error e;
		char *out = NULL, **words = NULL;

		if (!df_expand(in->args[i], escape, true, lookup, NULL, &out, &e))
			free(out);
		if (!df_expand_words(in->args[i], escape, lookup, NULL, &words, &e))
			strv_free(words);
	}
	if (in->inner)
		expand_all(in->inner, escape);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dockerfile df;
	struct error e;

	if (dockerfile_parse((const char *)data, size, &df, &e)) {
		if (e.code >= 0 || !e.msg[0])
			abort();
		return 0;
	}
	for (unsigned i = 0; i < df.n; i++) {
		if (df.instrs[i].kind > DF_SHELL || !df.instrs[i].line)
			abort();
		expand_all(&df.instrs[i], df.escape);
	}
	dockerfile_free(&df);
	return 0;
}
