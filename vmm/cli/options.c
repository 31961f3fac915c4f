#include <errno.h>
#include <string.h>

#include "vmm/cli/options.h"
#include "vmm/util.h"

int opt_parse_memory(const char *s, uint64_t *bytes)
{
	return parse_size(s, MiB, bytes) ? -EINVAL : 0;
}

int opt_parse_cpus(const char *s, unsigned *ncpus)
{
	uint64_t v;

	if (parse_uint(s, 1, VM_MAX_CPUS, &v))
		return -EINVAL;
	*ncpus = v;
	return 0;
}

int opt_parse_quirks(const char *s, enum quirks_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = QUIRKS_AUTO;
	else if (!strcmp(s, "on"))
		*mode = QUIRKS_ON;
	else if (!strcmp(s, "off"))
		*mode = QUIRKS_OFF;
	else
		return -EINVAL;
	return 0;
}
