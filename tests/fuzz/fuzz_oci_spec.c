/*
 * An OCI bundle's config.json from a hostile engine or user, through
 * vmm/oci/spec.c. Input: the file. Checked: a spec that parses has a
 * command, an absolute cwd, mounts with absolute destinations, hooks with
 * absolute paths, and limits within their bounds; ASan/UBSan and the leak
 * checker do the rest (every failure path frees what it built).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vmm/base/error.h"
#include "vmm/oci/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_spec s;
	struct error e = { 0 };

	if (oci_spec_parse((const char *)data, size, &s, &e))
		return 0;
	if (!s.args || !s.args[0] || !s.cwd || s.cwd[0] != '/' || !s.root || s.ngids > OCI_MAX_GIDS ||
	    s.nrlimits > OCI_MAX_RLIMITS || (s.memory && s.memory < (6ULL << 20)) || s.cpus < 0 || s.cpus > 64 ||
	    s.pids < 0)
		__builtin_trap();
	for (size_t i = 0; i < s.nmounts; i++)
		if (s.mounts[i].destination[0] != '/' || (s.mounts[i].bind && !s.mounts[i].source))
			__builtin_trap();
	for (int k = 0; k < OCI_HOOK_KINDS; k++)
		for (size_t i = 0; i < s.nhooks[k]; i++)
			if (s.hooks[k][i].path[0] != '/')
				__builtin_trap();
	oci_spec_free(&s);
	return 0;
}
