#include <errno.h>
#include <signal.h>
#include <string.h>

#include "vmm/cli/cli.h"
#include "vmm/cli/options.h"
#include "vmm/machine/machine.h"
#include "vmm/base/util.h"

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

int opt_parse_share(char *arg, struct machine_share_config *share, const char **bad)
{
	char *save = NULL, *part;

	share->host_dir = strtok_r(arg, ",", &save);
	if (!share->host_dir || !*share->host_dir) {
		*bad = "missing DIR";
		return -EINVAL;
	}
	while ((part = strtok_r(NULL, ",", &save))) {
		if (!strcmp(part, "ro") || !strcmp(part, "readonly")) {
			share->read_only = true;
		} else if (str_has_prefix(part, "tag=") && part[4] && strlen(part + 4) <= 36) {
			share->tag = part + 4;
		} else {
			*bad = part;
			return -EINVAL;
		}
	}
	return 0;
}

int opt_vm(const char *cmd, int c, const char *arg, struct machine_config *cfg,
	   const char **console_path)
{
	switch (c) {
	case OPT_VM_KERNEL:
		cfg->kernel = arg;
		return 1;
	case OPT_VM_INITRD:
		cfg->initrd = arg;
		return 1;
	case OPT_VM_CMDLINE:
		cfg->user_cmdline = arg;
		return 1;
	case 'm':
		if (opt_parse_memory(arg, &cfg->mem_size)) {
			cli_usage_error(cmd, "--memory %s: not a size (e.g. 256, 512M, 2G)", arg);
			return EXIT_VMM_ERROR;
		}
		return 1;
	case OPT_VM_CPUS:
		if (opt_parse_cpus(arg, &cfg->ncpus)) {
			cli_usage_error(cmd, "--cpus %s: not a number from 1 to %d", arg, VM_MAX_CPUS);
			return EXIT_VMM_ERROR;
		}
		return 1;
	case OPT_VM_CONSOLE:
		*console_path = arg;
		return 1;
	case OPT_VM_QUIRKS:
		if (opt_parse_quirks(arg, &cfg->quirks)) {
			cli_usage_error(cmd, "--host-quirks %s: use auto, on or off", arg);
			return EXIT_VMM_ERROR;
		}
		return 1;
	default:
		return 0;
	}
}

int opt_parse_bool(const char *arg, bool *out)
{
	if (!arg || !strcmp(arg, "true") || !strcmp(arg, "1"))
		*out = true;
	else if (!strcmp(arg, "false") || !strcmp(arg, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}
