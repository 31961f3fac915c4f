/* vmm system df: what images, containers, volumes and the build cache take on disk. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "images/oci/image.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/engine/container.h"
#include "vmm/engine/prune.h"
#include "vmm/engine/volume.h"

struct usage {
	unsigned total, active;
	uint64_t size, reclaimable;
};

/* Bytes a file or a tree takes (allocated blocks: sparse disks count what they hold). */
static uint64_t tree_bytes(const char *path)
{
	struct stat st;
	uint64_t sum = 0;
	DIR *d;
	struct dirent *de;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return (uint64_t)st.st_blocks * 512;
	if (!(d = opendir(path)))
		return 0;
	while ((de = readdir(d))) {
		char sub[4096];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) < (int)sizeof(sub))
			sum += tree_bytes(sub);
	}
	closedir(d);
	return sum;
}

/* Images: layer and config blobs, each counted once; active: a container uses the image. */
static void images(struct store *s, struct usage *u)
{
	char **seen = NULL, **ids = NULL, **used = NULL, **users = NULL;
	struct image_entry *v = NULL;
	size_t n = 0;

	store_images_in_use(s, &used, &users);
	if (image_entries(s, &v, &n, NULL))
		return;
	for (size_t i = 0; i < n; i++) {
		struct image *img;
		uint64_t own = 0;

		if (!v[i].config_digest[0] || strv_contains(ids, v[i].config_digest) ||
		    image_open_digest(s, v[i].digest, &img, NULL))
			continue;
		strv_push(&ids, v[i].config_digest);
		u->total++;
		for (size_t j = 0; j < img->n_layers; j++) {
			if (strv_contains(seen, img->layers[j].digest))
				continue;
			strv_push(&seen, img->layers[j].digest);
			own += img->layers[j].size;
		}
		own += img->config_len;
		u->size += own;
		if (strv_contains(used, v[i].config_digest))
			u->active++;
		else
			u->reclaimable += own;
		image_close(img);
	}
	image_entries_free(v, n);
	strv_free(seen);
	strv_free(ids);
	strv_free(used);
	strv_free(users);
}

static void containers(const char *root, struct usage *u)
{
	struct container **list;
	size_t n;

	if (container_list(root, &list, &n, NULL))
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t b = tree_bytes(list[i]->dir);

		u->total++;
		u->size += b;
		if (container_is_running(list[i]))
			u->active++;
		else
			u->reclaimable += b;
	}
	container_list_free(list, n);
}

static void volumes(const char *root, struct usage *u)
{
	char **names = NULL;

	if (volume_list(root, &names, NULL))
		return;
	for (size_t i = 0; names && names[i]; i++) {
		struct volume v;
		char **users = NULL;
		uint64_t b;

		if (volume_get(root, names[i], &v, NULL))
			continue;
		b = tree_bytes(v.mountpoint);
		u->total++;
		u->size += b;
		if (!volume_users(root, names[i], &users, NULL) && users && users[0])
			u->active++;
		else
			u->reclaimable += b;
		strv_free(users);
		volume_free(&v);
	}
	strv_free(names);
}

static void row(const char *type, const struct usage *u)
{
	char size[32], rec[32], pct[16] = "";

	format_size_si(u->size, size, sizeof(size));
	format_size_si(u->reclaimable, rec, sizeof(rec));
	if (u->size)
		snprintf(pct, sizeof(pct), " (%u%%)", (unsigned)(u->reclaimable * 100 / u->size));
	printf("%-15s %-9u %-9u %-10s %s%s\n", type, u->total, u->active, size, rec, pct);
}

int system_df(struct cli *cli, int argc, char **argv)
{
	struct usage im = { 0 }, ct = { 0 }, vo = { 0 }, bc = { 0 };
	struct store *s;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: vmm system df\n\nShow what images, containers, local volumes and the build cache\n"
		       "take on disk, and what a prune could reclaim.\n");
		return 0;
	}
	if (argc > 1)
		return cli_usage_error("system df", "unexpected argument '%s'", argv[1]);
	if (!(s = cli_store_open(cli->paths.root)))
		return 1;
	images(s, &im);
	store_close(s);
	containers(cli->paths.root, &ct);
	volumes(cli->paths.root, &vo);
	build_cache_usage(cli->paths.root, &bc.total, &bc.size);
	bc.reclaimable = bc.size;
	printf("%-15s %-9s %-9s %-10s %s\n", "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
	row("Images", &im);
	row("Containers", &ct);
	row("Local Volumes", &vo);
	row("Build Cache", &bc);
	return 0;
}
