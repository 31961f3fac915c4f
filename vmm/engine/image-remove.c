/* Removing images as docker rmi does (image-remove.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/image.h"
#include "images/oci/ref.h"
#include "vmm/base/strv.h"
#include "vmm/engine/image-remove.h"

int image_removal_begin(struct image_removal *r, const char *root, struct error *e)
{
	int ret = store_open(root, &r->s, e);

	if (ret)
		return ret;
	if (store_images_in_use(r->s, &r->used, &r->containers)) {
		store_close(r->s);
		r->s = NULL;
		return err_set(e, -EIO, "%s: cannot tell which images containers use", root);
	}
	return 0;
}

static const char *user_of(const struct image_removal *r, const char *config_digest)
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

static void report_untagged(const struct image_removal *r, const char *full)
{
	struct image_ref ref;
	char name[REF_STR_MAX];

	if (ref_parse(full, 0, &ref, NULL))
		snprintf(name, sizeof(name), "%s", full);
	else
		ref_format_short(&ref, name, sizeof(name));
	r->report(r->arg, "Untagged", name);
}

int image_removal_one(struct image_removal *r, const char *name, struct error *e)
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
			report_untagged(r, tag);
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
			report_untagged(r, v[i].ref);
		ret = store_image_remove(r->s, v[i].digest, e);
	}
	if (!ret) {
		r->report(r->arg, "Deleted", config[0] ? config : digest);
		r->deleted = true;
	}
out:
	strv_free(tags);
	image_entries_free(v, n);
	return ret;
}

int image_removal_end(struct image_removal *r, struct error *e)
{
	int ret = 0;

	if (r->deleted) {
		struct gc_result res;

		ret = store_gc(r->s, 0, &res, e);
	}
	strv_free(r->used);
	strv_free(r->containers);
	store_close(r->s);
	return ret;
}
