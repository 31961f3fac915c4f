/* index.json entries as tags: set, move, remove. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/index.h"

static char *dup_or_null(const char *s, int *err)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*err = -ENOMEM;
	return d;
}

int descriptor_copy(struct descriptor *dst, const struct descriptor *src)
{
	int err = 0;

	memset(dst, 0, sizeof(*dst));
	memcpy(dst->digest, src->digest, DIGEST_BUF);
	dst->size = src->size;
	dst->media_type = dup_or_null(src->media_type, &err);
	dst->ref_name = dup_or_null(src->ref_name, &err);
	dst->platform_os = dup_or_null(src->platform_os, &err);
	dst->platform_arch = dup_or_null(src->platform_arch, &err);
	dst->platform_variant = dup_or_null(src->platform_variant, &err);
	dst->annotations = src->annotations ? json_object_get(src->annotations) : NULL;
	if (err)
		descriptor_free(dst);
	return err;
}

long index_find_ref(const struct oci_index *idx, const char *ref)
{
	for (size_t i = 0; i < idx->n_manifests; i++)
		if (idx->manifests[i].ref_name && !strcmp(idx->manifests[i].ref_name, ref))
			return (long)i;
	return -1;
}

static long find_digest(const struct oci_index *idx, const char *digest, size_t skip)
{
	for (size_t i = 0; i < idx->n_manifests; i++)
		if (i != skip && !strcmp(idx->manifests[i].digest, digest))
			return (long)i;
	return -1;
}

bool index_has_digest(const struct oci_index *idx, const char *digest)
{
	return find_digest(idx, digest, (size_t)-1) >= 0;
}

static void remove_at(struct oci_index *idx, size_t i)
{
	descriptor_free(&idx->manifests[i]);
	memmove(&idx->manifests[i], &idx->manifests[i + 1],
		(idx->n_manifests - i - 1) * sizeof(idx->manifests[0]));
	idx->n_manifests--;
}

static int append(struct oci_index *idx, const struct descriptor *desc, const char *ref)
{
	struct descriptor *m, *d;
	int ret;

	if (idx->n_manifests >= INDEX_MAX_ENTRIES)
		return -ENOSPC;
	m = realloc(idx->manifests, (idx->n_manifests + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	idx->manifests = m;
	d = &m[idx->n_manifests];
	ret = descriptor_copy(d, desc);
	if (ret)
		return ret;
	free(d->ref_name);
	d->ref_name = NULL;
	if (ref && !(d->ref_name = strdup(ref))) {
		descriptor_free(d);
		return -ENOMEM;
	}
	idx->n_manifests++;
	return 1;
}

int index_set_ref(struct oci_index *idx, const struct descriptor *desc, const char *ref,
		  char old[DIGEST_BUF])
{
	long at, untagged = -1;

	if (old)
		old[0] = '\0';
	if (!ref)
		return index_has_digest(idx, desc->digest) ? 0 : append(idx, desc, NULL);

	at = index_find_ref(idx, ref);
	if (at >= 0) {
		struct descriptor *e = &idx->manifests[at];

		if (!strcmp(e->digest, desc->digest))
			return 0;
		/* the tag moves: the old image keeps its other names or stays untagged */
		if (find_digest(idx, e->digest, at) >= 0) {
			remove_at(idx, at);
		} else {
			if (old)
				memcpy(old, e->digest, DIGEST_BUF);
			free(e->ref_name);
			e->ref_name = NULL;
		}
	}
	for (size_t i = 0; i < idx->n_manifests; i++)
		if (!idx->manifests[i].ref_name && !strcmp(idx->manifests[i].digest, desc->digest))
			untagged = (long)i;
	if (untagged >= 0) {
		char *r = strdup(ref);

		if (!r)
			return -ENOMEM;
		idx->manifests[untagged].ref_name = r;
		return 1;
	}
	return append(idx, desc, ref);
}

int index_remove_ref(struct oci_index *idx, const char *ref, bool *gone)
{
	long at = index_find_ref(idx, ref);
	char digest[DIGEST_BUF];

	if (at < 0)
		return -ENOENT;
	memcpy(digest, idx->manifests[at].digest, DIGEST_BUF);
	remove_at(idx, at);
	if (gone)
		*gone = !index_has_digest(idx, digest);
	return 1;
}

int index_remove_digest(struct oci_index *idx, const char *digest)
{
	int changed = 0;

	for (size_t i = idx->n_manifests; i-- > 0;) {
		if (!strcmp(idx->manifests[i].digest, digest)) {
			remove_at(idx, i);
			changed = 1;
		}
	}
	return changed;
}
