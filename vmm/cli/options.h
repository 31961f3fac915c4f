/* Parsers for options shared by several subcommands (--memory, --cpus, --host-quirks). */
#ifndef VMM_CLI_OPTIONS_H
#define VMM_CLI_OPTIONS_H

#include <stdint.h>

#include "images/disk/disk.h"
#include "vmm/vm.h"

/* "256" (MiB) or "512M", "2G": bytes. 0 or -EINVAL. Range checks come later. */
int opt_parse_memory(const char *s, uint64_t *bytes);
int opt_parse_cpus(const char *s, unsigned *ncpus);
int opt_parse_quirks(const char *s, enum quirks_mode *mode);

/* --disk PATH[,format=raw|qcow2][,ro][,serial=S] */
struct disk_spec {
	char *path;		/* points into the (modified) argument */
	enum disk_format format;
	bool read_only;
	const char *serial;
};
/* Parses in place (commas become NULs). 0, or -EINVAL with *bad naming the bad part. */
int opt_parse_disk(char *arg, struct disk_spec *spec, const char **bad);

#endif
