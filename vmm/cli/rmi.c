/* vmm rmi: untag images, delete them with their last name, collect their blobs. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/image.h"
#include "images/oci/ref.h"
#include "vmm/base/strv.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/image-fmt.h"
#include "vmm/base/log.h"

static void usage(void)
{
	printf("Usage: vmm rmi [OPTIONS] IMAGE [IMAGE...]\n\n"
	       "Remove images: a name removes that tag (and the image with its last tag); an\n"
	       "image ID removes the image with all its tags. Blobs no image needs any more\n"
	       "are deleted.\n\n"
	       "Options:\n"
	       "  -f, --force   remove an image with several tags by ID, or one a container uses\n"
	       "  -h, --help    show this help\n");
}

struct rmi {
	struct store *s;
	bool force;
	char **used, **containers;	/* config digests containers use, and who */
	bool deleted;
};

static const char *user_of(const struct rmi *r, const char *config_digest)
{
	for (size_t i = 0; config_digest[0] && r->used[i]; i++)
		if (!strcmp(r->used[i], config_digest))
			return r->containers[i];
	return NULL;
}

/* The config digest of an index entry, "" when unreadable. */
static void config_of(struct image_entry *v, size_t n, const char *digest, char out[DIGEST_BUF])
{
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].digest, digest))
			memcpy(out, v[i].config_digest, DIGEST_BUF);
}

static void print_untagged(const char *full)
{
	char name[512];

	fmt_short_ref(full, name, sizeof(name));
	printf("Untagged: %s\n", name);
}

static int remove_one(struct rmi *r, const char *name, struct error *e)
{
	char digest[DIGEST_BUF], tag[REF_STR_MAX], config[DIGEST_BUF];
	struct image_entry *v;
	const char *user;
	char **tags;
	size_t n;
	int ret;

	if ((ret = image_resolve(r->s, name, digest, tag, sizeof(tag), e)))
		return ret;
	if ((ret = image_entries(r->s, &v, &n, e)))
		return ret;
	config_of(v, n, digest, config);
	if ((ret = store_tags_of(r->s, digest, &tags, e)))
		goto out;
	user = user_of(r, config);

	if (tag[0] && tags[0] && tags[1]) {
		/* one of several names: only the name goes */
		if (!(ret = store_tag_remove(r->s, tag, NULL, e)))
			print_untagged(tag);
		else if (ret == -ENOENT)
			err_set(e, ret, "%s: no such tag", tag);
		goto out;
	}
	if (!tag[0] && tags[0] && tags[1] && !r->force) {
		ret = err_set(e, -EEXIST, "conflict: unable to delete %.12s (must be forced) - image is "
			      "referenced in multiple repositories", config[0] ? digest_hex(config) : digest_hex(digest));
		goto out;
	}
	if (user && !r->force) {
		ret = err_set(e, -EBUSY, "conflict: unable to remove %s (must force) - container %.12s is using "
			      "its referenced image %.12s", name, user, digest_hex(config));
		goto out;
	}
	/* the image goes: every manifest with this config when named by ID */
	for (size_t i = 0; i < n && !ret; i++) {
		if (strcmp(v[i].digest, digest) &&
		    (tag[0] || !config[0] || strcmp(v[i].config_digest, config)))
			continue;
		if (v[i].ref)
			print_untagged(v[i].ref);
		ret = store_image_remove(r->s, v[i].digest, e);
	}
	if (!ret) {
		printf("Deleted: %s\n", config[0] ? config : digest);
		r->deleted = true;
	}
out:
	strv_free(tags);
	image_entries_free(v, n);
	return ret;
}

int cmd_rmi(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rmi r = { 0 };
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			r.force = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			return cli_usage_error("rmi", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("rmi", "missing IMAGE");
	if (!(r.s = cli_store_open(cli->paths.root)))
		return 1;
	if (store_images_in_use(r.s, &r.used, &r.containers)) {
		store_close(r.s);
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		struct error e = { 0 };

		if (remove_one(&r, argv[i], &e))
			status = cli_fail(&e, 1);
	}
	if (r.deleted) {
		struct error e = { 0 };
		struct gc_result res;
		int ret = store_gc(r.s, 0, &res, &e);

		if (ret == -EBUSY)
			pr_info("other vmm processes use the store: unused blobs stay until "
				"'vmm image prune'");
		else if (ret)
			status = cli_fail(&e, 1);
	}
	strv_free(r.used);
	strv_free(r.containers);
	store_close(r.s);
	return status;
}
