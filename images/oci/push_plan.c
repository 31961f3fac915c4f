/* What a push sends: the stored manifest, or an image index with its manifests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/image.h"
#include "images/oci/push-internal.h"
#include "vmm/base/strv.h"

static void manifest_entry_free(struct push_manifest *pm)
{
	free(pm->data);
	manifest_free(&pm->m);
	strv_free(pm->diff_ids);
	memset(pm, 0, sizeof(*pm));
}

void push_plan_free(struct push_plan *plan)
{
	for (size_t i = 0; i < plan->n_mans; i++)
		manifest_entry_free(&plan->mans[i]);
	free(plan->mans);
	free(plan->index_media_type);
	free(plan->index_data);
	memset(plan, 0, sizeof(*plan));
}

/* A verified document of the size its descriptor says; -ENOENT (no message) when missing. */
static int read_doc(struct store *s, const struct descriptor *d, size_t max, char **data,
		    size_t *len, struct error *e)
{
	int ret = store_blob_read(s, d->digest, max, data, len, e);

	if (ret)
		return ret;
	if (*len != d->size) {
		free(*data);
		*data = NULL;
		return err_set(e, -EBADMSG, "%s: blob is %zu bytes, its descriptor says %llu", d->digest, *len,
			       (unsigned long long)d->size);
	}
	return 0;
}

/*
 * Load one image manifest with its config's diff_ids, and check that every
 * blob it lists is in the store with its size. -ENOENT (no message) when
 * something is missing.
 */
static int load_manifest(struct store *s, const struct descriptor *d, struct push_manifest *pm,
			 struct error *e)
{
	struct image_config cfg = { 0 };
	char *cbuf = NULL;
	size_t clen;
	uint64_t size;
	int ret;

	memset(pm, 0, sizeof(*pm));
	memcpy(pm->digest, d->digest, DIGEST_BUF);
	if (media_type_kind(d->media_type, NULL) != MEDIA_MANIFEST)
		return -ENOENT;		/* a nested index or an artifact: not something we push */
	if ((ret = read_doc(s, d, MANIFEST_MAX_SIZE, &pm->data, &pm->len, e)))
		return ret;
	if ((ret = manifest_parse(pm->data, pm->len, &pm->m, e)))
		return err_wrap(e, ret, "%s: invalid manifest", d->digest);
	if ((ret = read_doc(s, &pm->m.config, CONFIG_MAX_SIZE, &cbuf, &clen, e)))
		return ret;
	if (config_parse(cbuf, clen, &cfg, e) == 0 && strv_len(cfg.diff_ids) == pm->m.n_layers) {
		pm->diff_ids = cfg.diff_ids;
		cfg.diff_ids = NULL;
	}
	config_free(&cfg);
	free(cbuf);
	err_clear(e);
	for (size_t i = 0; i < pm->m.n_layers; i++) {
		const struct descriptor *l = &pm->m.layers[i];

		if ((ret = store_blob_size(s, l->digest, &size)))
			return ret == -ENOENT ? ret : err_sys(e, ret, "layer %s", l->digest);
		if (size != l->size)
			return err_set(e, -EBADMSG, "layer %s is %llu bytes in the store, the manifest says %llu",
				       l->digest, (unsigned long long)size, (unsigned long long)l->size);
	}
	return 0;
}

static int add_manifest(struct store *s, const struct descriptor *d, struct push_plan *plan,
			struct error *e)
{
	struct push_manifest *v = realloc(plan->mans, (plan->n_mans + 1) * sizeof(*v));
	int ret;

	if (!v)
		return err_set(e, -ENOMEM, "out of memory");
	plan->mans = v;
	ret = load_manifest(s, d, &v[plan->n_mans], e);
	if (ret) {
		manifest_entry_free(&v[plan->n_mans]);
		return ret;
	}
	plan->n_mans++;
	return 0;
}

/* The index with all its manifests, when the store has every one complete: 0, or -ENOENT. */
static int whole_index(struct store *s, const struct oci_index *idx, struct push_plan *plan,
		       struct error *e)
{
	int ret = 0;

	for (size_t i = 0; i < idx->n_manifests && !ret; i++)
		ret = add_manifest(s, &idx->manifests[i], plan, e);
	if (ret) {
		for (size_t i = 0; i < plan->n_mans; i++)
			manifest_entry_free(&plan->mans[i]);
		plan->n_mans = 0;
	}
	return ret;
}

static int plan_index(struct store *s, const struct descriptor *top, const char *label,
		      struct push_plan *plan, struct error *e)
{
	struct oci_index idx;
	char why[256];
	int ret, at;

	if ((ret = read_doc(s, top, MANIFEST_MAX_SIZE, &plan->index_data, &plan->index_len, e)))
		return ret == -ENOENT ? err_set(e, ret, "%s: image index %s is missing from the store", label,
						top->digest) : err_wrap(e, ret, "%s", label);
	if ((ret = index_parse(plan->index_data, plan->index_len, &idx, e)))
		return err_wrap(e, ret, "%s: invalid image index %s", label, top->digest);
	ret = whole_index(s, &idx, plan, e);
	if (ret == 0) {
		memcpy(plan->index_digest, top->digest, DIGEST_BUF);
		plan->index_media_type = strdup(idx.media_type ? idx.media_type : top->media_type);
		if (!plan->index_media_type)
			ret = err_set(e, -ENOMEM, "out of memory");
	} else if (ret == -ENOENT || ret == -EBADMSG) {
		/* what the store has of it: the platform vmm runs */
		err_clear(e);
		free(plan->index_data);
		plan->index_data = NULL;
		memcpy(plan->partial_index, top->digest, DIGEST_BUF);
		at = index_select_platform(&idx, why, sizeof(why));
		if (at < 0)
			ret = err_set(e, -ENOENT, "%s: no %s/%s image in index %s (it has %s)", label, PLATFORM_OS,
				      PLATFORM_ARCH, top->digest, why);
		else
			ret = add_manifest(s, &idx.manifests[at], plan, e);
	}
	index_free(&idx);
	return ret;
}

int push_plan_make(struct store *s, const struct descriptor *top, const char *label,
		   struct push_plan *plan, struct error *e)
{
	int ret;

	memset(plan, 0, sizeof(*plan));
	switch (media_type_kind(top->media_type, NULL)) {
	case MEDIA_MANIFEST:
		ret = add_manifest(s, top, plan, e);
		break;
	case MEDIA_INDEX:
		ret = plan_index(s, top, label, plan, e);
		break;
	default:
		return err_set(e, -ENOTSUP, "%s: unsupported media type '%s' in the store", label, top->media_type);
	}
	if (ret == -ENOENT && !err_is_set(e))
		err_set(e, ret, "%s: the image is incomplete in the store (a blob is missing; pull or load it again)",
			label);
	else if (ret && e && !strstr(e->msg, label))
		err_wrap(e, ret, "%s", label);
	return ret;
}
