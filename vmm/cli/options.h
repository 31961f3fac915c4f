/* Parsers for options shared by several subcommands (--memory, --cpus, --host-quirks). */
#ifndef VMM_CLI_OPTIONS_H
#define VMM_CLI_OPTIONS_H

#include <stdint.h>

#include "images/disk/disk.h"
#include "vmm/vm.h"

struct machine_config;

/* The options of every command that boots a kernel itself (vmm boot, vmm agent-test). */
enum {
	OPT_VM_KERNEL = 0x1000, OPT_VM_INITRD, OPT_VM_CMDLINE, OPT_VM_CPUS, OPT_VM_CONSOLE,
	OPT_VM_QUIRKS,
};
#define OPT_VM_LONG_OPTIONS \
	{ "kernel", required_argument, NULL, OPT_VM_KERNEL }, \
	{ "initrd", required_argument, NULL, OPT_VM_INITRD }, \
	{ "cmdline", required_argument, NULL, OPT_VM_CMDLINE }, \
	{ "memory", required_argument, NULL, 'm' }, \
	{ "cpus", required_argument, NULL, OPT_VM_CPUS }, \
	{ "console", required_argument, NULL, OPT_VM_CONSOLE }, \
	{ "host-quirks", required_argument, NULL, OPT_VM_QUIRKS }

/*
 * Apply getopt's c (with arg) if it is one of OPT_VM_LONG_OPTIONS: 1 when
 * applied, 0 when c is not one of them, EXIT_VMM_ERROR (125) after reporting a usage error.
 */
int opt_vm(const char *cmd, int c, const char *arg, struct machine_config *cfg,
	   const char **console_path);

/* "256" (MiB) or "512M", "2G": bytes. 0 or -EINVAL. Range checks come later. */
int opt_parse_memory(const char *s, uint64_t *bytes);
int opt_parse_cpus(const char *s, unsigned *ncpus);
int opt_parse_quirks(const char *s, enum quirks_mode *mode);
/* --tls-verify's optional value ("true"/"false", none = true). 0 or -EINVAL. */
int opt_parse_bool(const char *arg, bool *out);

/* --disk PATH[,format=raw|qcow2][,ro][,serial=S] */
struct disk_spec {
	char *path;		/* points into the (modified) argument */
	enum disk_format format;
	bool read_only;
	const char *serial;
};
/* Parses in place (commas become NULs). 0, or -EINVAL with *bad naming the bad part. */
int opt_parse_disk(char *arg, struct disk_spec *spec, const char **bad);

struct machine_share_config;
/* --share DIR[,tag=TAG][,ro], in place as opt_parse_disk; host_dir, tag and read_only set. */
int opt_parse_share(char *arg, struct machine_share_config *share, const char **bad);

#endif
