/* vmm system prune: stopped containers, unused networks, dangling (or all unused) images, the build cache. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/image.h"
#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/engine/image-remove.h"
#include "vmm/engine/network.h"
#include "vmm/engine/prune.h"
#include "vmm/engine/volume.h"

struct listing {
	const char *title;	/* printed before the first name */
	bool titled;
};

static void list_name(void *arg, const char *name)
{
	struct listing *l = arg;

	if (!l->titled)
		printf("%s\n", l->title);
	l->titled = true;
	printf("%s\n", name);
}

static void removal_report(void *arg, const char *what, const char *name)
{
	struct listing *l = arg;
	char line[512];

	snprintf(line, sizeof(line), "%s: %s", !strcmp(what, "Untagged") ? "untagged" : "deleted", name);
	list_name(l, line);
}

/* Images no container uses: untagged ones, or (all) every one. */
static int prune_images(struct cli *cli, bool all, struct error *e)
{
	struct listing l = { .title = "Deleted Images:" };
	struct image_removal r = { .report = removal_report, .arg = &l };
	struct image_entry *v = NULL;
	char **done = NULL;
	size_t n = 0;
	int ret = image_removal_begin(&r, cli->paths.root, e);

	if (!ret)
		ret = image_entries(r.s, &v, &n, e);
	for (size_t i = 0; !ret && i < n; i++) {
		struct error ignored = { 0 };
		bool tagged = false;

		if (!v[i].config_digest[0] || strv_contains(r.used, v[i].config_digest) ||
		    strv_contains(done, v[i].config_digest))
			continue;
		for (size_t j = 0; j < n; j++)
			tagged |= !strcmp(v[j].config_digest, v[i].config_digest) && v[j].ref;
		if (tagged && !all)
			continue;
		strv_push(&done, v[i].config_digest);
		r.force = true;	/* by ID with all its tags: the ones prune chose */
		image_removal_one(&r, v[i].config_digest, &ignored);
	}
	image_entries_free(v, n);
	strv_free(done);
	if (r.s && image_removal_end(&r, ret ? NULL : e) == -EBUSY)
		pr_info("other vmm processes use the store: unused blobs stay until 'vmm image prune'");
	return ret;
}

static bool confirmed(bool all, bool volumes)
{
	char answer[16] = "";

	fprintf(stderr, "WARNING! This will remove:\n"
		"  - all stopped containers\n"
		"  - all networks not used by at least one container\n"
		"%s"
		"  - %s\n"
		"  - all build cache\n\n"
		"Are you sure you want to continue? [y/N] ",
		volumes ? "  - all anonymous volumes not used by at least one container\n" : "",
		all ? "all images without at least one container associated to them" : "all dangling images");
	if (!fgets(answer, sizeof(answer), stdin))
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

int system_prune(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "volumes", no_argument, NULL, 'v' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct listing lc = { .title = "Deleted Containers:" }, ln = { .title = "Deleted Networks:" },
		       lv = { .title = "Deleted Volumes:" };
	bool all = false, volumes = false, force = false;
	struct error e = { 0 };
	uint64_t bytes = 0, vbytes = 0;
	unsigned entries = 0;
	char size[32];
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "afh", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'v': volumes = true; break;
		case 'f': force = true; break;
		case 'h':
			printf("Usage: vmm system prune [OPTIONS]\n\n"
			       "Remove stopped containers, networks no container uses, dangling (untagged)\n"
			       "images no container uses, and the build cache.\n\n"
			       "Options:\n"
			       "  -a, --all       every image no container uses, not only dangling ones\n"
			       "      --volumes   anonymous volumes no container uses too\n"
			       "  -f, --force     do not prompt for confirmation\n"
			       "  -h, --help      show this help\n");
			return 0;
		default:
			return cli_bad_option("system prune", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("system prune", "unexpected argument '%s'", argv[optind]);
	if (!force && !confirmed(all, volumes))
		return 0;
	if (engine_containers_prune(&cli->paths, list_name, &lc, &e))
		status = cli_fail(&e, 1);
	err_clear(&e);
	if (network_prune(cli->paths.root, list_name, &ln, &e))
		status = cli_fail(&e, 1);
	err_clear(&e);
	if (volumes && volume_prune(cli->paths.root, false, list_name, &lv, &vbytes, &e))
		status = cli_fail(&e, 1);
	err_clear(&e);
	if (prune_images(cli, all, &e))
		status = cli_fail(&e, 1);
	err_clear(&e);
	if (build_cache_prune(cli->paths.root, &entries, &bytes, &e))
		status = cli_fail(&e, 1);
	if (entries)
		printf("Deleted build cache objects: %u\n", entries);
	format_size_si(bytes + vbytes, size, sizeof(size));
	printf("\nTotal reclaimed space: %s\n", size);
	return status;
}
