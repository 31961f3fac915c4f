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

int opt_parse_disk(char *arg, struct disk_spec *spec, const char **bad)
{
	char *save = NULL, *part;

	memset(spec, 0, sizeof(*spec));
	spec->format = DISK_FMT_AUTO;
	spec->path = strtok_r(arg, ",", &save);
	if (!spec->path || !*spec->path) {
		*bad = "missing PATH";
		return -EINVAL;
	}
	while ((part = strtok_r(NULL, ",", &save))) {
		if (!strcmp(part, "ro") || !strcmp(part, "readonly")) {
			spec->read_only = true;
		} else if (str_has_prefix(part, "format=")) {
			if (disk_format_parse(part + 7, &spec->format)) {
				*bad = part;
				return -EINVAL;
			}
		} else if (str_has_prefix(part, "serial=")) {
			spec->serial = part + 7;
			if (strlen(spec->serial) > 20) {
				*bad = part;
				return -EINVAL;
			}
		} else {
			*bad = part;
			return -EINVAL;
		}
	}
	return 0;
}
