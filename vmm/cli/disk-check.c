/* vmm disk check [-r leaks|all] FILE: exit codes as qemu-img check. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "images/disk/qcow2.h"
#include "vmm/cli/disk.h"
#include "vmm/base/log.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmm disk check [-r leaks|all] FILE\n\n"
		"Check a qcow2 image's refcounts and tables, as qemu-img check does.\n\n"
		"  -r leaks   free leaked clusters (harmless: wasted space)\n"
		"  -r all     also fix refcount errors (refcounts are rebuilt) and OFLAG_COPIED\n\n"
		"Exit status: 0 no errors, 1 check could not be completed, 2 corruptions found,\n"
		"3 only leaks found (after repair, what is left).\n");
}

int cmd_disk_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "repair", required_argument, NULL, 'r' },
		{ "allow-unsafe-backing", no_argument, NULL, DISK_OPT_ALLOW_UNSAFE },
		{ NULL, 0, NULL, 0 },
	};
	struct qcow2_check_result r;
	enum disk_format fmt = DISK_FMT_AUTO;
	int c, fix = 0, ret;
	struct error e = { 0 };
	struct disk *d;

	while ((c = getopt_long(argc, argv, "+r:f:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (!strcmp(optarg, "leaks"))
				fix = QCOW2_FIX_LEAKS;
			else if (!strcmp(optarg, "all"))
				fix = QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS;
			else
				return cli_usage_error("disk check", "-r: leaks or all");
			break;
		case 'f':
			if ((ret = disk_cli_format("disk check", optarg, &fmt)))
				return ret;
			break;
		case 'q':
		case DISK_OPT_ALLOW_UNSAFE:
			break;	/* the check never reads backing files */
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_usage_error("disk check", "bad option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("disk check", "expected one FILE");
	if (disk_cli_open(cli, argv[optind], fmt, true, false, true, &d))
		return 1;
	if (!disk_is_qcow2(d)) {
		pr_err("%s: %s images have no metadata to check", argv[optind],
		       disk_format_name(d->format));
		disk_close(d);
		return 63;	/* as qemu-img: format does not support checks */
	}
	disk_close(d);
	ret = qcow2_check_file(argv[optind], fix, stderr, &r, &e);
	if (ret) {
		err_print(&e);
		return 1;
	}
	if (r.leaks_fixed || r.corruptions_fixed) {
		printf("The following inconsistencies were found and repaired:\n\n"
		       "    %llu leaked clusters\n    %llu corruptions\n\n"
		       "Double checking the fixed image now...\n",
		       (unsigned long long)r.leaks_fixed, (unsigned long long)r.corruptions_fixed);
	}
	if (!r.corruptions && !r.leaks && !r.check_errors)
		printf("No errors were found on the image.\n");
	if (r.corruptions)
		printf("\n%llu errors were found on the image.\n"
		       "Data may be corrupted, or further writes to the image may corrupt it.\n",
		       (unsigned long long)r.corruptions);
	if (r.leaks)
		printf("\n%llu leaked clusters were found on the image.\n"
		       "This means waste of disk space, but no harm to data.\n",
		       (unsigned long long)r.leaks);
	if (r.check_errors)
		printf("\n%llu internal errors have occurred during the check.\n",
		       (unsigned long long)r.check_errors);
	if (r.total_clusters && r.allocated_clusters)
		printf("%llu/%llu = %.2f%% allocated, %.2f%% fragmented, %.2f%% compressed clusters\n",
		       (unsigned long long)r.allocated_clusters, (unsigned long long)r.total_clusters,
		       100.0 * r.allocated_clusters / r.total_clusters,
		       100.0 * r.fragmented_clusters / r.allocated_clusters,
		       100.0 * r.compressed_clusters / r.allocated_clusters);
	printf("Image end offset: %llu\n", (unsigned long long)r.image_end_offset);
	if (r.check_errors)
		return 1;
	if (r.corruptions)
		return 2;
	return r.leaks ? 3 : 0;
}
