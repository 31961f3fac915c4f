/* Interpret an archive as a docker-archive or an OCI layout; validate all, then commit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/oci/image.h"
#include "images/oci/layer.h"
#include "images/oci/load.h"
#include "images/oci/ref.h"
#include "images/oci/source.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"

#define ARCHIVE_IMAGES_MAX	1024

/* One image to add, fully validated before anything is committed. */
struct plan {
	struct descriptor desc;		/* the manifest, for index.json */
	char *manifest_json;		/* generated (docker-archive), else NULL */
	size_t manifest_len;
	struct member *manifest;	/* from the archive (OCI), else NULL */
	struct member *config;
	struct member **layers;
	size_t n_layers;
	char config_digest[DIGEST_BUF];
	char **diff_ids;		/* from the config */
	char **refs;			/* full references, NULL-terminated */
};

struct loader {
	struct source src;
	struct error *e;		/* why the load failed */
	struct plan *plans;
	size_t n_plans;
	unsigned skipped;		/* index entries that are not images */
	char skipped_type[128];
};

static void plan_free(struct plan *p)
{
	descriptor_free(&p->desc);
	free(p->manifest_json);
	free(p->layers);
	strv_free(p->diff_ids);
	strv_free(p->refs);
}

static struct plan *plan_new(struct loader *l)
{
	struct plan *v;

	if (l->n_plans >= ARCHIVE_IMAGES_MAX) {
		err_set(l->e, -E2BIG, "%s: more than %d images in one archive", l->src.label, ARCHIVE_IMAGES_MAX);
		return NULL;
	}
	v = realloc(l->plans, (l->n_plans + 1) * sizeof(*v));
	if (!v) {
		err_set(l->e, -ENOMEM, "out of memory");
		return NULL;
	}
	l->plans = v;
	v = &v[l->n_plans++];
	memset(v, 0, sizeof(*v));
	v->refs = calloc(1, sizeof(char *));
	if (!v->refs)
		err_set(l->e, -ENOMEM, "out of memory");
	return v->refs ? v : NULL;
}

static struct plan *plan_find(struct loader *l, const char *manifest_digest)
{
	for (size_t i = 0; i < l->n_plans; i++)
		if (!strcmp(l->plans[i].desc.digest, manifest_digest))
			return &l->plans[i];
	return NULL;
}

/* A blob of an OCI layout: present, with the digest and size its descriptor states. */
static struct member *layout_blob(struct loader *l, const char *digest, uint64_t size,
				  const char *what)
{
	char path[128];
	struct member *m;

	snprintf(path, sizeof(path), "blobs/sha256/%s", digest_hex(digest));
	m = source_get(&l->src, path, NULL);
	if (!m)
		err_set(l->e, -ENOENT, "%s: %s %s is missing from the layout", l->src.label, what, digest);
	else if (strcmp(m->digest, digest))
		err_set(l->e, -EBADMSG, "%s: %s: content does not match its digest (it hashes to %s)",
			l->src.label, path, m->digest);
	else if (size != UINT64_MAX && m->size != size)
		err_set(l->e, -EBADMSG, "%s: %s: %llu bytes, its descriptor says %llu", l->src.label, path,
			(unsigned long long)m->size, (unsigned long long)size);
	else
		return m;
	return NULL;
}

/* Read and validate a config member; fills the plan's config fields. */
static int check_config(struct loader *l, struct plan *p, struct member *m, size_t n_layers,
			const char *what)
{
	struct image_config c;
	struct error e;
	size_t len, n_diff;
	char *buf;
	int ret;

	if ((ret = source_read(&l->src, m, CONFIG_MAX_SIZE, &buf, &len, l->e)))
		return ret;
	ret = config_parse(buf, len, &c, &e);
	free(buf);
	if (ret)
		return err_set(l->e, ret, "%s: %s: invalid image config: %s", l->src.label, what, e.msg);
	if (!platform_supported(c.os, c.architecture)) {
		ret = err_set(l->e, -ENOTSUP, "%s: %s is a %s/%s image; vmm runs %s/%s images only", l->src.label,
			      what, c.os, c.architecture, PLATFORM_OS, PLATFORM_ARCH);
		config_free(&c);
		return ret;
	}
	n_diff = strv_len(c.diff_ids);
	if (n_diff != n_layers) {
		ret = err_set(l->e, -EINVAL, "%s: %s: %zu layers, but the config lists %zu diff_ids", l->src.label,
			      what, n_layers, n_diff);
		config_free(&c);
		return ret;
	}
	p->config = m;
	memcpy(p->config_digest, m->digest, DIGEST_BUF);
	p->layers = calloc(n_layers + 1, sizeof(*p->layers));
	if (!p->layers) {
		config_free(&c);
		return err_set(l->e, -ENOMEM, "out of memory");
	}
	p->n_layers = n_layers;
	p->diff_ids = c.diff_ids;
	c.diff_ids = NULL;
	config_free(&c);
	return 0;
}

/* A layer member: its (sniffed) compression matches what is declared and its diff_id the config's. */
static int check_layer(struct loader *l, struct plan *p, size_t i, struct member *m,
		       const enum compression *declared)
{
	const char *want = p->diff_ids[i];

	if (declared && *declared != m->compression)
		return err_set(l->e, -EINVAL, "%s: layer %s: its media type says %s but the data is %s", l->src.label,
			       m->name, compression_name(*declared), compression_name(m->compression));
	if (!m->diff_id[0])
		return err_set(l->e, -EBADMSG, "%s: layer %s: corrupt or truncated %s data", l->src.label, m->name,
			       compression_name(m->compression));
	if (strcmp(m->diff_id, want))
		return err_set(l->e, -EBADMSG, "%s: layer %s: uncompressed content has digest %s, the config says %s",
			       l->src.label, m->name, m->diff_id, want);
	p->layers[i] = m;
	return 0;
}

/* --- OCI layouts --- */

/* The names an index entry gives: a full reference, or nothing for a bare tag. */
static int entry_names(struct loader *l, const struct descriptor *d, struct plan *p)
{
	const char *names[2] = { NULL, NULL };
	struct image_ref ref;
	json_object *v;

	if (d->annotations && json_object_object_get_ex(d->annotations, ANNOT_CONTAINERD_NAME, &v))
		names[0] = json_object_get_string(v);
	names[1] = d->ref_name;
	for (int i = 0; i < 2; i++) {
		char full[REF_STR_MAX];

		/* "latest" alone is a tag without a repository: leave the image untagged */
		if (!names[i] || !strpbrk(names[i], "/:@"))
			continue;
		if (ref_parse(names[i], REF_DEFAULT_TAG, &ref, NULL)) {
			pr_warn("%s: ignoring the name '%s' (not a valid reference)", l->src.label, names[i]);
			continue;
		}
		if (ref.digest[0] && !ref.tag[0])
			continue;	/* name@digest: no tag to add */
		ref.digest[0] = '\0';
		ref_format(&ref, full, sizeof(full));
		return strv_add_once(&p->refs, full);
	}
	return 0;
}

static int plan_oci_manifest(struct loader *l, const struct descriptor *d, struct plan *p)
{
	struct manifest m;
	struct member *mm, *cm;
	struct error e;
	size_t len;
	char *buf;
	int ret;

	if (!(mm = layout_blob(l, d->digest, d->size, "manifest")))
		return l->e ? l->e->code : -EINVAL;
	if ((ret = source_read(&l->src, mm, MANIFEST_MAX_SIZE, &buf, &len, l->e)))
		return ret;
	ret = manifest_parse(buf, len, &m, &e);
	free(buf);
	if (ret)
		return err_set(l->e, ret, "%s: manifest %s: %s", l->src.label, d->digest, e.msg);
	p->manifest = mm;
	memcpy(p->desc.digest, d->digest, DIGEST_BUF);
	p->desc.size = d->size;
	if (!(p->desc.media_type = strdup(m.media_type))) {
		ret = err_set(l->e, -ENOMEM, "out of memory");
		goto out;
	}
	if (!(cm = layout_blob(l, m.config.digest, m.config.size, "config"))) {
		ret = l->e ? l->e->code : -EINVAL;
		goto out;
	}
	if ((ret = check_config(l, p, cm, m.n_layers, d->digest)))
		goto out;
	for (size_t i = 0; i < m.n_layers && !ret; i++) {
		struct member *lm = layout_blob(l, m.layers[i].digest, m.layers[i].size, "layer");
		enum compression c;

		media_type_kind(m.layers[i].media_type, &c);
		ret = lm ? check_layer(l, p, i, lm, &c) : l->e ? l->e->code : -EINVAL;
	}
out:
	manifest_free(&m);
	return ret;
}

static int load_oci(struct loader *l)
{
	struct oci_index idx;
	struct member *im;
	struct error e;
	size_t len;
	char *buf;
	int ret;

	if (!(im = source_get(&l->src, "index.json", l->e)))
		return l->e ? l->e->code : -EINVAL;
	if ((ret = source_read(&l->src, im, MANIFEST_MAX_SIZE, &buf, &len, l->e)))
		return ret;
	ret = index_parse(buf, len, &idx, &e);
	free(buf);
	if (ret)
		return err_set(l->e, ret, "%s: index.json: %s", l->src.label, e.msg);
	for (size_t i = 0; i < idx.n_manifests && !ret; i++) {
		struct descriptor *d = &idx.manifests[i], *target = d;
		struct oci_index child = { 0 };
		struct plan *p;

		switch (media_type_kind(d->media_type, NULL)) {
		case MEDIA_MANIFEST:
			break;
		case MEDIA_INDEX: {
			struct member *cm = layout_blob(l, d->digest, d->size, "image index");
			char why[256];
			int at;

			if (!cm) {
				ret = l->e ? l->e->code : -EINVAL;
				break;
			}
			if ((ret = source_read(&l->src, cm, MANIFEST_MAX_SIZE, &buf, &len, l->e)))
				break;
			ret = index_parse(buf, len, &child, &e);
			free(buf);
			if (ret) {
				err_set(l->e, ret, "%s: image index %s: %s", l->src.label, d->digest, e.msg);
				break;
			}
			at = index_select_platform(&child, why, sizeof(why));
			if (at < 0) {
				ret = err_set(l->e, -ENOTSUP, "%s: no %s/%s image in %s (it has %s)", l->src.label,
					      PLATFORM_OS, PLATFORM_ARCH, d->ref_name ? d->ref_name : d->digest,
					      why);
				break;
			}
			target = &child.manifests[at];
			break;
		}
		default:
			l->skipped++;
			snprintf(l->skipped_type, sizeof(l->skipped_type), "%s", d->media_type);
			continue;
		}
		if (!ret) {
			p = plan_find(l, target->digest);
			if (!p) {
				if (!(p = plan_new(l)))
					ret = l->e ? l->e->code : -ENOMEM;
				else
					ret = plan_oci_manifest(l, target, p);
			}
			if (!ret)
				ret = entry_names(l, d, p);
		}
		index_free(&child);
	}
	index_free(&idx);
	return ret;
}

/* --- docker-archive --- */

static int docker_entry(struct loader *l, json_object *o, size_t i)
{
	json_object *tags, *layers;
	struct member *cm;
	struct plan *p, *same;
	const char *cfg;
	struct manifest m = { 0 };
	struct error e;
	char ctx[48];
	int ret;

	snprintf(ctx, sizeof(ctx), "manifest.json[%zu]", i);
	if (!json_object_is_type(o, json_type_object))
		return err_set(l->e, -EINVAL, "%s: %s: want an object", l->src.label, ctx);
	if (jget_string(o, "Config", true, ctx, &cfg, &e) ||
	    jget_array(o, "RepoTags", false, 4096, ctx, &tags, &e) ||
	    jget_array(o, "Layers", true, LAYERS_MAX, ctx, &layers, &e))
		return err_set(l->e, -EINVAL, "%s: %s", l->src.label, e.msg);
	if (!(cm = source_get(&l->src, cfg, l->e)))
		return l->e ? l->e->code : -EINVAL;
	if (!(p = plan_new(l)))
		return l->e ? l->e->code : -ENOMEM;
	if ((ret = check_config(l, p, cm, json_object_array_length(layers), cfg)))
		return ret;

	m.media_type = MT_OCI_MANIFEST;
	m.config.media_type = MT_OCI_CONFIG;
	memcpy(m.config.digest, cm->digest, DIGEST_BUF);
	m.config.size = cm->size;
	m.layers = calloc(p->n_layers + 1, sizeof(*m.layers));
	if (!m.layers)
		return err_set(l->e, -ENOMEM, "out of memory");
	m.n_layers = p->n_layers;
	for (size_t j = 0; j < p->n_layers && !ret; j++) {
		struct member *lm;
		const char *name;
		char lctx[80];

		snprintf(lctx, sizeof(lctx), "%s.Layers[%zu]", ctx, j);
		if (jstring(json_object_array_get_idx(layers, j), lctx, &name, &e)) {
			ret = err_set(l->e, -EINVAL, "%s: %s", l->src.label, e.msg);
			break;
		}
		if (!(lm = source_get(&l->src, name, l->e))) {
			ret = l->e ? l->e->code : -EINVAL;
			break;
		}
		if ((ret = check_layer(l, p, j, lm, NULL)))
			break;
		m.layers[j].media_type = (char *)layer_media_type(lm->compression);
		memcpy(m.layers[j].digest, lm->digest, DIGEST_BUF);
		m.layers[j].size = lm->size;
	}
	if (!ret) {
		p->manifest_json = manifest_to_json(&m);
		if (!p->manifest_json)
			ret = err_set(l->e, -ENOMEM, "out of memory");
	}
	free(m.layers);
	if (ret)
		return ret;
	p->manifest_len = strlen(p->manifest_json);
	digest_buf(p->manifest_json, p->manifest_len, p->desc.digest);
	p->desc.size = p->manifest_len;
	if (!(p->desc.media_type = strdup(MT_OCI_MANIFEST)))
		return err_set(l->e, -ENOMEM, "out of memory");

	for (size_t j = 0; tags && j < json_object_array_length(tags); j++) {
		char tctx[80], full[REF_STR_MAX];
		struct image_ref ref;
		const char *t, *why;

		snprintf(tctx, sizeof(tctx), "%s.RepoTags[%zu]", ctx, j);
		if (jstring(json_object_array_get_idx(tags, j), tctx, &t, &e))
			return err_set(l->e, -EINVAL, "%s: %s", l->src.label, e.msg);
		if (ref_parse(t, REF_DEFAULT_TAG, &ref, &why) || ref.digest[0])
			return err_set(l->e, -EINVAL, "%s: %s: invalid tag '%s': %s", l->src.label, tctx, t,
				       why ? why : "a digest is not a tag");
		ref_format(&ref, full, sizeof(full));
		if ((ret = strv_add_once(&p->refs, full)))
			return err_set(l->e, ret, "out of memory");
	}
	/* the same image listed twice: one plan, all names */
	same = plan_find(l, p->desc.digest);
	if (same && same != p) {
		for (size_t j = 0; p->refs[j] && !ret; j++)
			ret = strv_add_once(&same->refs, p->refs[j]);
		plan_free(p);
		l->n_plans--;
	}
	return ret;
}

/* The legacy "repositories" file names the image when manifest.json does not. */
static void docker_repositories(struct loader *l)
{
	struct member *m = source_get(&l->src, "repositories", NULL);
	json_object *o;
	struct error e;
	size_t len;
	char *buf;

	if (!m || l->n_plans != 1 || l->plans[0].refs[0] ||
	    source_read(&l->src, m, 1 << 20, &buf, &len, NULL))
		return;
	o = json_parse_object(buf, len, &e);
	free(buf);
	if (!o)
		return;
	json_object_object_foreach(o, repo, tags) {
		if (!json_object_is_type(tags, json_type_object))
			continue;
		json_object_object_foreach(tags, tag, id) {
			char name[REF_STR_MAX], full[REF_STR_MAX];
			struct image_ref ref;

			(void)id;
			snprintf(name, sizeof(name), "%s:%s", repo, tag);
			if (ref_parse(name, REF_DEFAULT_TAG, &ref, NULL) == 0 && !ref.digest[0]) {
				ref_format(&ref, full, sizeof(full));
				strv_add_once(&l->plans[0].refs, full);
			}
		}
	}
	json_object_put(o);
}

static int load_docker(struct loader *l)
{
	struct member *mm = source_get(&l->src, "manifest.json", l->e);
	json_object *arr;
	struct error e;
	size_t len;
	char *buf;
	int ret;

	if (!mm)
		return l->e ? l->e->code : -EINVAL;
	if ((ret = source_read(&l->src, mm, MANIFEST_MAX_SIZE, &buf, &len, l->e)))
		return ret;
	arr = json_parse_any(buf, len, &e);
	free(buf);
	if (!arr)
		return err_set(l->e, -EINVAL, "%s: manifest.json: %s", l->src.label, e.msg);
	if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) == 0) {
		json_object_put(arr);
		return err_set(l->e, -EINVAL, "%s: manifest.json: want a non-empty array of images", l->src.label);
	}
	for (size_t i = 0; i < json_object_array_length(arr) && !ret; i++)
		ret = docker_entry(l, json_object_array_get_idx(arr, i), i);
	json_object_put(arr);
	if (!ret)
		docker_repositories(l);
	return ret;
}

/* --- commit --- */

static int commit_member(struct loader *l, struct member *m, const char *digest)
{
	struct error why = { 0 };
	int ret = source_commit(&l->src, m, digest, &why);

	if (ret)
		err_set(l->e, ret, "%s: %s: cannot store it: %s", l->src.label, m->name,
			why.code ? why.msg : strerror(-ret));
	return ret;
}

static int commit(struct loader *l, struct loaded_image *out)
{
	int ret = 0;

	/* blobs first, bottom up: index.json only ever names complete images */
	for (size_t i = 0; i < l->n_plans && !ret; i++) {
		struct plan *p = &l->plans[i];

		for (size_t j = 0; j < p->n_layers && !ret; j++)
			ret = commit_member(l, p->layers[j], p->layers[j]->digest);
		if (!ret)
			ret = commit_member(l, p->config, p->config_digest);
		if (!ret && p->manifest)
			ret = commit_member(l, p->manifest, p->desc.digest);
		else if (!ret && (ret = store_blob_put(l->src.store, p->manifest_json, p->manifest_len,
						       p->desc.digest, NULL, l->e)))
			err_wrap(l->e, ret, "%s: cannot store a manifest", l->src.label);
	}
	for (size_t i = 0; i < l->n_plans && !ret; i++) {
		struct plan *p = &l->plans[i];
		struct loaded_image *li = &out[i];
		size_t n = strv_len(p->refs);

		memcpy(li->digest, p->desc.digest, DIGEST_BUF);
		memcpy(li->config_digest, p->config_digest, DIGEST_BUF);
		li->refs = strv_dup(p->refs);
		li->replaced = calloc(n + 1, sizeof(char *));
		if (!li->refs || !li->replaced)
			return err_set(l->e, -ENOMEM, "out of memory");
		if (n == 0)
			ret = store_tag_add(l->src.store, NULL, &p->desc, NULL, l->e);
		for (size_t j = 0; j < n && !ret; j++) {
			char old[DIGEST_BUF];
			struct image *prev;

			ret = store_tag_add(l->src.store, p->refs[j], &p->desc, old, l->e);
			li->replaced[j] = strdup("");
			if (!ret && old[0] && image_open_digest(l->src.store, old, &prev, NULL) == 0) {
				free(li->replaced[j]);
				li->replaced[j] = strdup(prev->config_digest);
				image_close(prev);
			}
			if (!li->replaced[j])
				ret = err_set(l->e, -ENOMEM, "out of memory");
		}
	}
	return ret;
}

void loaded_images_free(struct loaded_image *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		strv_free(v[i].refs);
		strv_free(v[i].replaced);
	}
	free(v);
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	/* large members each hold an unnamed temp file until the end */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int image_load(struct store *s, const char *path, int fd, struct loaded_image **out, size_t *n,
	       struct error *e)
{
	struct loader l = { .e = e };
	struct loaded_image *res = NULL;
	struct stat st;
	int ret, own_fd = -1;

	raise_fd_limit();
	if (path && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		ret = source_open_dir(&l.src, s, path, e);
	} else {
		if (path) {
			own_fd = fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return err_sys(e, -errno, "%s", path);
		}
		ret = source_open_tar(&l.src, s, fd, path ? path : "stdin", e);
		if (own_fd >= 0)
			close(own_fd);
	}
	if (ret)
		goto out;
	if (source_has(&l.src, "index.json")) {
		ret = load_oci(&l);
	} else if (source_has(&l.src, "manifest.json")) {
		ret = load_docker(&l);
	} else {
		ret = err_set(e, -EINVAL, "%s: not a docker-archive or an OCI layout (no manifest.json or index.json)",
			      l.src.label);
	}
	if (!ret && l.n_plans == 0) {
		if (l.skipped)
			ret = err_set(e, -ENOTSUP, "%s: unsupported media type '%s': no container image to load",
				      l.src.label, l.skipped_type);
		else
			ret = err_set(e, -ENOTSUP, "%s: no images in the archive", l.src.label);
	}
	if (ret)
		goto out;
	if (l.skipped)
		pr_warn("%s: skipped %u entries that are not container images ('%s')", l.src.label,
			l.skipped, l.skipped_type);
	res = calloc(l.n_plans + 1, sizeof(*res));
	if (!res) {
		ret = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	ret = commit(&l, res);
	if (!ret) {
		*out = res;
		*n = l.n_plans;
		res = NULL;
	}
out:
	loaded_images_free(res, l.n_plans);
	for (size_t i = 0; i < l.n_plans; i++)
		plan_free(&l.plans[i]);
	free(l.plans);
	source_close(&l.src);
	return ret;
}
