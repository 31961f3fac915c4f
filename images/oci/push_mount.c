/*
 * Where a push can mount blobs from: the store's tags name repositories on
 * registries (a pulled image keeps the name it was pulled by, a pushed one
 * the name it was pushed under), so a blob listed by an image tagged
 * "host/a:1" is, as far as we know, in repository "a" on host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/push-internal.h"
#include "images/oci/ref.h"
#include "vmm/base/strv.h"

struct finder {
	struct store *s;
	const struct push_plan *plan;
	struct push_source *v;
	size_t n;
	char **repos;		/* distinct repositories in v */
	size_t scope_len;	/* of the scopes they need */
};

static bool planned(const struct push_plan *plan, const char *digest)
{
	for (size_t i = 0; i < plan->n_mans; i++) {
		const struct manifest *m = &plan->mans[i].m;

		if (!strcmp(m->config.digest, digest))
			return true;
		for (size_t j = 0; j < m->n_layers; j++)
			if (!strcmp(m->layers[j].digest, digest))
				return true;
	}
	return false;
}

static int add(struct finder *f, const char *digest, const char *repo)
{
	struct push_source *v;
	bool known = false;

	if (!planned(f->plan, digest))
		return 0;
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].digest, digest))
			return 0;	/* the first source found wins: the image's own tags come first */
	for (size_t i = 0; f->repos && f->repos[i] && !known; i++)
		known = !strcmp(f->repos[i], repo);
	if (!known && (strv_len(f->repos) >= PUSH_MOUNT_SOURCES_MAX ||
		       f->scope_len + strlen(repo) + sizeof(" repository::pull") > PUSH_SCOPE_MAX))
		return 0;	/* the token's scope has room for so many */
	if (!known && strv_push(&f->repos, repo))
		return -ENOMEM;
	if (!known)
		f->scope_len += strlen(repo) + sizeof(" repository::pull");
	if (!(v = realloc(f->v, (f->n + 1) * sizeof(*v))))
		return -ENOMEM;
	f->v = v;
	memcpy(v[f->n].digest, digest, DIGEST_BUF);
	if (!(v[f->n].repo = strdup(repo)))
		return -ENOMEM;
	f->n++;
	return 0;
}

/* The blobs of what an index entry names (an index: its manifests in the store). */
static int scan(struct finder *f, const struct descriptor *d, const char *repo, int depth)
{
	enum media_kind kind = media_type_kind(d->media_type, NULL);
	struct oci_index idx;
	struct manifest m;
	char *buf = NULL;
	size_t len;
	int ret = 0;

	if ((kind != MEDIA_MANIFEST && kind != MEDIA_INDEX) ||
	    store_blob_read(f->s, d->digest, MANIFEST_MAX_SIZE, &buf, &len, NULL))
		return 0;	/* best effort: what we cannot read, we do not mount */
	if (kind == MEDIA_MANIFEST && manifest_parse(buf, len, &m, NULL) == 0) {
		ret = add(f, m.config.digest, repo);
		for (size_t i = 0; i < m.n_layers && !ret; i++)
			ret = add(f, m.layers[i].digest, repo);
		manifest_free(&m);
	} else if (kind == MEDIA_INDEX && depth == 0 && index_parse(buf, len, &idx, NULL) == 0) {
		for (size_t i = 0; i < idx.n_manifests && !ret; i++)
			ret = scan(f, &idx.manifests[i], repo, depth + 1);
		index_free(&idx);
	}
	free(buf);
	return ret;
}

static int make_scope(char **repos, char **scope)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; repos && repos[i]; i++)
		len += strlen(repos[i]) + sizeof("repository::pull ");
	if (!(s = calloc(1, len)))
		return -ENOMEM;
	for (size_t i = 0; repos && repos[i]; i++)
		sprintf(s + strlen(s), "%srepository:%s:pull", i ? " " : "", repos[i]);
	*scope = s;
	return 0;
}

int push_sources_find(struct store *s, const struct push_plan *plan, const char *top_digest,
		      const char *domain, const char *path, struct push_source **out, size_t *n,
		      char **scope)
{
	struct finder f = { .s = s, .plan = plan };
	struct oci_index idx;
	int ret = 0;

	*out = NULL;
	*n = 0;
	*scope = NULL;
	if (store_index_read(s, &idx, NULL))
		return make_scope(NULL, scope);
	/* pass 0: the image's own tags; pass 1: other images' */
	for (int pass = 0; pass < 2 && !ret; pass++) {
		for (size_t i = 0; i < idx.n_manifests && !ret; i++) {
			const struct descriptor *d = &idx.manifests[i];
			struct image_ref r;

			if (!d->ref_name || (pass == 0) != !strcmp(d->digest, top_digest) ||
			    ref_parse(d->ref_name, 0, &r, NULL) || strcmp(r.domain, domain) ||
			    !strcmp(r.path, path))
				continue;
			ret = scan(&f, d, r.path, 0);
		}
	}
	index_free(&idx);
	if (!ret)
		ret = make_scope(f.repos, scope);
	strv_free(f.repos);
	if (ret) {
		push_sources_free(f.v, f.n);
		return ret;
	}
	*out = f.v;
	*n = f.n;
	return 0;
}

void push_sources_free(struct push_source *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].repo);
	free(v);
}
