/* vmm disk: shared helpers of the disk subcommands. */
#ifndef VMM_CLI_DISK_H
#define VMM_CLI_DISK_H

#include <stdbool.h>
#include <stdint.h>

#include "images/disk/disk.h"
#include "vmm/cli/cli.h"

#define DISK_OPT_ALLOW_UNSAFE 0x100	/* getopt value of --allow-unsafe-backing */

/*
 * Open path for a disk subcommand: the store's disks/ directory is a trusted
 * backing place. Prints why it cannot.
 */
int disk_cli_open(struct cli *cli, const char *path, enum disk_format fmt, bool read_only,
		  bool allow_unsafe, bool no_backing, struct disk **out);
/* Parse -f/-O values; prints a usage error and returns 2 on a bad name. */
int disk_cli_format(const char *cmd, const char *name, enum disk_format *fmt);

int cmd_disk_create(struct cli *cli, int argc, char **argv);
int cmd_disk_info(struct cli *cli, int argc, char **argv);
int cmd_disk_check(struct cli *cli, int argc, char **argv);
int cmd_disk_convert(struct cli *cli, int argc, char **argv);
int cmd_disk_resize(struct cli *cli, int argc, char **argv);

#endif
