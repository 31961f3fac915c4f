/* vmm snapshot ls|rm: the saved VMs that make `vmm run` start warm. */
#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "vmm/cli/cli.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/base/log.h"
#include "vmm/machine/snapshot.h"
#include "vmm/base/util.h"

static void usage(void)
{
	printf("Usage: vmm snapshot ls [-q]\n"
	       "       vmm snapshot rm KEY... | --all\n\n"
	       "vmm run saves a booted, agent-ready VM the first time it meets a VM shape\n"
	       "(kernel, agent, memory, vCPUs, devices) and restores it for later runs\n"
	       "(--cold boots from scratch). Snapshots live in $VMM_ROOT/snapshots/.\n");
}

static int ls(struct cli *cli, bool quiet)
{
	char dir[4096];
	struct dirent *de;
	DIR *d;

	snapshot_dir(cli->paths.root, NULL, dir, sizeof(dir));
	if (!quiet)
		printf("%-14s %-16s %-8s %-6s %s\n", "SNAPSHOT", "CREATED", "MEMORY", "CPUS", "SIZE");
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[4400], when[64], mem[32], used[32];
		struct snap_header h;
		struct snapreader r;
		uint8_t *body;
		struct stat st;

		if (strlen(de->d_name) != SNAP_KEY_LEN)
			continue;
		snprintf(path, sizeof(path), "%s/%s/state", dir, de->d_name);
		if (snap_read(path, de->d_name, &h, &body, &r)) {
			if (!quiet)
				printf("%.12s   (corrupt: vmm run replaces it)\n", de->d_name);
			continue;
		}
		free(body);
		if (quiet) {
			printf("%s\n", de->d_name);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s/memory", dir, de->d_name);
		fmt_since(h.created, when, sizeof(when));
		format_size_iec(h.mem_size, mem, sizeof(mem));
		format_size_iec(stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0, used, sizeof(used));
		printf("%-14.12s %-16s %-8s %-6u %s\n", de->d_name, when, mem, h.ncpus, used);
	}
	closedir(d);
	return 0;
}

int cmd_snapshot(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false, all = false;
	const char *sub;
	int c, status = 0;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage();
		return argc < 2 ? EXIT_VMM_ERROR : 0;
	}
	sub = argv[1];
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "qah", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case 'a': all = true; break;
		case 'h': usage(); return 0;
		default: return cli_bad_option("snapshot", argv);
		}
	}
	if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
		return ls(cli, quiet);
	if (strcmp(sub, "rm"))
		return cli_usage_error("snapshot", "unknown subcommand '%s' (ls or rm)", sub);
	if (all)
		return snapshot_remove(cli->paths.root, NULL) ? 1 : 0;
	if (optind >= argc)
		return cli_usage_error("snapshot", "rm needs KEY... or --all");
	for (int i = optind; i < argc; i++) {
		char dir[4096];
		struct dirent *de;
		DIR *d;
		int matches = 0;

		/* A key or a unique prefix of one, as listed by vmm snapshot ls. */
		snapshot_dir(cli->paths.root, NULL, dir, sizeof(dir));
		d = opendir(dir);
		while (d && (de = readdir(d))) {
			if (strlen(de->d_name) == SNAP_KEY_LEN && str_has_prefix(de->d_name, argv[i])) {
				matches++;
				if (matches == 1 && snapshot_remove(cli->paths.root, de->d_name))
					status = 1;
			}
		}
		if (d)
			closedir(d);
		if (matches != 1) {
			pr_err("snapshot %s: %s", argv[i], matches ? "ambiguous prefix" : "no such snapshot");
			status = 1;
		}
	}
	return status;
}
