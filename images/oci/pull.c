/* Pull an image: manifest (through an index), config, layers; all verified, then committed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "images/oci/auth.h"
#include "images/oci/creds.h"
#include "images/oci/image.h"
#include "images/oci/layer.h"
#include "images/oci/pull.h"
#include "images/oci/registry.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"

#define MT_DOCKER_SCHEMA1	"application/vnd.docker.distribution.manifest.v1"

/* A document (manifest or index) as fetched and verified. */
struct doc {
	char *data;
	size_t len;
	char digest[DIGEST_BUF];
	char *media_type;
	enum media_kind kind;
};

struct puller {
	struct store *s;
	struct registry *reg;
	const struct pull_opts *o;
	const char *label;		/* the name as typed */
	struct image_ref ref;
	struct doc top, man;		/* what the reference names; the image manifest */
	struct manifest m;
	struct image_config cfg;
	struct blob_writer *cfg_w;	/* NULL when the config was in the store */
	struct blob_writer **layer_w;	/* per layer, NULL when present (or a repeat) */
	unsigned fetched, present;
	struct error *e;		/* why the pull failed */
};

/* One layer on its way in: to the blob writer and through the diff_id hasher. */
struct layer_dl {
	struct puller *p;
	struct blob_writer *w;
	struct diff_hasher *dh;
	int dh_err;
	struct pull_progress prog;
};

static void doc_free(struct doc *d)
{
	free(d->data);
	free(d->media_type);
	memset(d, 0, sizeof(*d));
}

static void progress(struct puller *p, const struct pull_progress *pp)
{
	if (p->o->progress)
		p->o->progress(p->o->progress_arg, pp);
}

/* A registry call failed: its account of why, unless ours (a sink's) came first. */
static int reg_fail(struct puller *p, int ret)
{
	if (err_is_set(p->e) || ret == -ENOENT)
		return ret;
	return err_copy(p->e, registry_error(p->reg), ret);
}

static bool present(struct store *s, const char *digest, uint64_t size)
{
	uint64_t got;

	return store_blob_size(s, digest, &got) == 0 && got == size;
}

/*
 * What a manifest is: its media type from the document, else Content-Type,
 * else its shape. Logs unsupported ones.
 */
static int classify(struct puller *p, struct doc *d, const char *content_type)
{
	const char *mt = NULL, *what = d->digest;
	uint64_t version = 0;
	json_object *o;
	struct error e;

	o = json_parse_object(d->data, d->len, &e);
	if (!o)
		return err_set(p->e, -EINVAL, "%s: the registry sent an invalid manifest %s: %s", p->label, what,
			       e.msg);
	if (jget_string(o, "mediaType", false, "", &mt, &e) ||
	    jget_u64(o, "schemaVersion", false, 100, "", &version, NULL, &e)) {
		json_object_put(o);
		return err_set(p->e, -EINVAL, "%s: the registry sent an invalid manifest %s: %s", p->label, what,
			       e.msg);
	}
	if (!mt && media_type_kind(content_type, NULL) != MEDIA_UNKNOWN)
		mt = content_type;
	if (!mt && version == 2 && json_object_object_get_ex(o, "manifests", NULL))
		mt = MT_OCI_INDEX;
	else if (!mt && version == 2 && json_object_object_get_ex(o, "layers", NULL))
		mt = MT_OCI_MANIFEST;
	if (!mt && (version == 1 || str_has_prefix(content_type, MT_DOCKER_SCHEMA1)))
		mt = MT_DOCKER_SCHEMA1;
	d->media_type = strdup(mt ? mt : content_type[0] ? content_type : "(none)");
	json_object_put(o);
	if (!d->media_type)
		return err_set(p->e, -ENOMEM, "out of memory");
	str_sanitize(d->media_type, true);	/* the registry's words end up in messages */
	d->kind = media_type_kind(d->media_type, NULL);
	if (d->kind == MEDIA_MANIFEST || d->kind == MEDIA_INDEX)
		return 0;
	if (str_has_prefix(d->media_type, MT_DOCKER_SCHEMA1))
		return err_set(p->e, -ENOTSUP, "%s: docker schema 1 manifests are not supported (push the image "
			       "again with a current docker or skopeo)", p->label);
	return err_set(p->e, -ENOTSUP, "%s: unsupported media type '%.100s' (not a container image)", p->label,
		       d->media_type);
}

/*
 * GET a manifest by tag or digest and verify it: the digest it must have
 * (want, or NULL for a tag: then Docker-Content-Digest when sent), the size
 * (UINT64_MAX: any).
 */
static int fetch_doc(struct puller *p, const char *reference, const char *want, uint64_t size,
		     struct doc *d)
{
	struct registry_doc rd;
	int ret;

	ret = registry_get_manifest(p->reg, p->ref.path, reference, MANIFEST_MAX_SIZE, &rd);
	if (ret == -ENOENT && d == &p->top)
		return err_set(p->e, ret, "image not found: %s (%s has no such repository or %s)", p->label,
			       p->ref.domain, p->ref.digest[0] ? "digest" : "tag");
	if (ret == -ENOENT)
		return err_set(p->e, ret, "%s: manifest %s, which the image index lists, is not on %s",
			       p->label, reference, p->ref.domain);
	if (ret)
		return reg_fail(p, ret);
	d->data = rd.data;
	d->len = rd.len;
	rd.data = NULL;
	digest_buf(d->data, d->len, d->digest);
	if (want && strcmp(want, d->digest))
		ret = err_set(p->e, -EBADMSG, "%s: the registry sent a manifest with digest %s for %s (corrupt or "
			      "tampered with)", p->label, d->digest, want);
	else if (!want && rd.digest_header[0] && strcmp(rd.digest_header, d->digest))
		ret = err_set(p->e, -EBADMSG, "%s: the manifest has digest %s, but the registry says %s (corrupt "
			      "or tampered with)", p->label, d->digest, rd.digest_header);
	else if (size != UINT64_MAX && d->len != size)
		ret = err_set(p->e, -EBADMSG, "%s: manifest %s is %zu bytes, the index says %llu", p->label,
			      d->digest, d->len, (unsigned long long)size);
	if (!ret)
		ret = classify(p, d, rd.content_type);
	registry_doc_free(&rd);
	return ret;
}

/* The image manifest: the document itself, or the linux/amd64 entry of an index. */
static int resolve_manifest(struct puller *p)
{
	const char *reference = p->ref.digest[0] ? p->ref.digest : p->ref.tag;
	struct oci_index idx;
	struct error e;
	char why[256];
	int ret, at;

	ret = fetch_doc(p, reference, p->ref.digest[0] ? p->ref.digest : NULL, UINT64_MAX, &p->top);
	if (ret)
		return ret;
	if (p->top.kind == MEDIA_INDEX) {
		if (index_parse(p->top.data, p->top.len, &idx, &e))
			return err_set(p->e, -EINVAL, "%s: invalid image index %s: %s", p->label, p->top.digest,
				       e.msg);
		at = index_select_platform(&idx, why, sizeof(why));
		if (at < 0) {
			index_free(&idx);
			return err_set(p->e, -ENOTSUP, "%s: no %s/%s image on the registry (it has %s)", p->label,
				       PLATFORM_OS, PLATFORM_ARCH, why);
		}
		ret = fetch_doc(p, idx.manifests[at].digest, idx.manifests[at].digest,
				idx.manifests[at].size, &p->man);
		index_free(&idx);
		if (!ret && p->man.kind != MEDIA_MANIFEST)
			ret = err_set(p->e, -ENOTSUP, "%s: the index entry %s is not an image manifest", p->label,
				      p->man.digest);
		if (ret)
			return ret;
	}
	if (manifest_parse(p->man.data ? p->man.data : p->top.data,
			   p->man.data ? p->man.len : p->top.len, &p->m, &e))
		return err_set(p->e, strstr(e.msg, "unsupported") ? -ENOTSUP : -EINVAL, "%s: invalid manifest %s: %s",
			       p->label, p->man.data ? p->man.digest : p->top.digest, e.msg);
	return 0;
}

static int writer_sink(void *arg, const void *data, size_t len)
{
	struct puller *p = arg;
	int ret = store_blob_write(p->cfg_w, data, len);

	if (ret)
		err_set(p->e, ret, "%s: config %s: cannot store it: %s", p->label, p->m.config.digest,
			strerror(-ret));
	return ret;
}

static int blob_error(struct puller *p, int ret, const char *what, const char *digest)
{
	if (ret == -ENOENT)
		return err_set(p->e, ret, "%s: %s %s is missing on %s (the image there is incomplete)", p->label,
			       what, digest, p->ref.domain);
	return reg_fail(p, ret);
}

static int check_digest(struct puller *p, struct blob_writer *w, const char *what,
			const char *want)
{
	char got[DIGEST_BUF];
	int ret = store_blob_digest(w, got);

	if (ret)
		return err_set(p->e, ret, "%s: %s %s: cannot store it: %s", p->label, what, want, strerror(-ret));
	if (strcmp(got, want))
		return err_set(p->e, -EBADMSG, "%s: %s %s does not match its digest (the data hashes to %s): the "
			       "registry sent corrupt data", p->label, what, want, got);
	return 0;
}

static int fetch_config(struct puller *p)
{
	const struct descriptor *d = &p->m.config;
	struct error e;
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if (present(p->s, d->digest, d->size)) {
		p->present++;
		ret = store_blob_read(p->s, d->digest, CONFIG_MAX_SIZE, &buf, &len, p->e);
	} else {
		if ((ret = store_blob_begin(p->s, d->size, &p->cfg_w, p->e)))
			return ret;
		ret = registry_get_blob(p->reg, p->ref.path, d->digest, d->size, writer_sink, p);
		if (ret)
			return blob_error(p, ret, "config", d->digest);
		if ((ret = check_digest(p, p->cfg_w, "config", d->digest)))
			return ret;
		p->fetched++;
		len = d->size;
		if (!(buf = malloc(len + 1)))
			return err_set(p->e, -ENOMEM, "out of memory");
		if ((ret = store_blob_pread(p->cfg_w, buf, len, 0)))
			err_set(p->e, ret, "%s: config %s: cannot read it back: %s", p->label, d->digest,
				strerror(-ret));
	}
	if (!ret && config_parse(buf, len, &p->cfg, &e))
		ret = err_set(p->e, -EINVAL, "%s: invalid image config %s: %s", p->label, d->digest, e.msg);
	free(buf);
	if (ret)
		return ret;
	if (!platform_supported(p->cfg.os, p->cfg.architecture))
		return err_set(p->e, -ENOTSUP, "%s: the image is for %s/%s; vmm runs %s/%s images only", p->label,
			       p->cfg.os, p->cfg.architecture, PLATFORM_OS, PLATFORM_ARCH);
	if (strv_len(p->cfg.diff_ids) != p->m.n_layers)
		return err_set(p->e, -EINVAL, "%s: the manifest has %zu layers but the config lists %zu diff_ids",
			       p->label, p->m.n_layers, strv_len(p->cfg.diff_ids));
	return 0;
}

static int layer_sink(void *arg, const void *data, size_t len)
{
	struct layer_dl *l = arg;
	int ret = store_blob_write(l->w, data, len);

	if (ret)
		return err_set(l->p->e, ret, "%s: layer %s: cannot store it: %s", l->p->label, l->prog.digest,
			       strerror(-ret));
	/* corrupt data is reported after the digest check, which names the cause better */
	if (!l->dh_err)
		l->dh_err = diff_hasher_update(l->dh, data, len);
	l->prog.done += len;
	progress(l->p, &l->prog);
	return 0;
}

static int fetch_layer(struct puller *p, size_t i)
{
	const struct descriptor *d = &p->m.layers[i];
	struct layer_dl l = {
		.p = p,
		.prog = { .event = PULL_LAYER_START, .digest = d->digest, .layer = i,
			  .n_layers = p->m.n_layers, .total = d->size },
	};
	char diff_id[DIGEST_BUF];
	enum compression c;
	int ret;

	media_type_kind(d->media_type, &c);
	if ((ret = store_blob_begin(p->s, d->size, &l.w, p->e)))
		return ret;
	p->layer_w[i] = l.w;
	if ((ret = diff_hasher_new(c, &l.dh)))
		return err_sys(p->e, ret, "%s: layer %s", p->label, d->digest);
	progress(p, &l.prog);
	l.prog.event = PULL_LAYER_BYTES;
	ret = registry_get_blob(p->reg, p->ref.path, d->digest, d->size, layer_sink, &l);
	if (ret) {
		blob_error(p, ret, "layer", d->digest);
		goto out;
	}
	if ((ret = check_digest(p, l.w, "layer", d->digest)))
		goto out;
	if (!l.dh_err)
		l.dh_err = diff_hasher_final(l.dh, diff_id, NULL);
	if (l.dh_err) {
		ret = err_set(p->e, -EBADMSG, "%s: layer %s: corrupt or truncated %s data (its media type says %s)",
			      p->label, d->digest, compression_name(c), d->media_type);
	} else if (strcmp(diff_id, p->cfg.diff_ids[i])) {
		ret = err_set(p->e, -EBADMSG, "%s: layer %s: uncompressed content has digest %s, the config says %s",
			      p->label, d->digest, diff_id, p->cfg.diff_ids[i]);
	} else {
		p->fetched++;
		l.prog.event = PULL_LAYER_DONE;
		progress(p, &l.prog);
	}
out:
	diff_hasher_free(l.dh);
	return ret;
}

static int check_present(struct puller *p, size_t i)
{
	const struct descriptor *d = &p->m.layers[i];
	char path[4096], diff_id[DIGEST_BUF];
	enum compression c;
	int fd, ret;

	media_type_kind(d->media_type, &c);
	if ((ret = store_blob_path(p->s, d->digest, path, sizeof(path))))
		return err_sys(p->e, ret, "%s: layer %s", p->label, d->digest);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(p->e, -errno, "%s: layer %s", p->label, d->digest);
	ret = layer_diff_id(fd, c, diff_id);
	close(fd);
	if (ret)
		return err_set(p->e, -EBADMSG, "%s: layer %s: corrupt or truncated %s data (its media type says %s)",
			       p->label, d->digest, compression_name(c), d->media_type);
	if (strcmp(diff_id, p->cfg.diff_ids[i]))
		return err_set(p->e, -EBADMSG, "%s: layer %s: uncompressed content has digest %s, the config says %s",
			       p->label, d->digest, diff_id, p->cfg.diff_ids[i]);
	return 0;
}

static int fetch_layers(struct puller *p)
{
	int ret = 0;

	p->layer_w = calloc(p->m.n_layers + 1, sizeof(*p->layer_w));
	if (!p->layer_w)
		return err_set(p->e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < p->m.n_layers && !ret; i++) {
		const struct descriptor *d = &p->m.layers[i];
		bool repeat = false;

		for (size_t j = 0; j < i && !repeat; j++)
			repeat = !strcmp(p->m.layers[j].digest, d->digest);
		if (repeat)
			continue;
		if (present(p->s, d->digest, d->size)) {
			struct pull_progress pp = { .event = PULL_LAYER_EXISTS, .digest = d->digest,
						    .layer = i, .n_layers = p->m.n_layers,
						    .done = d->size, .total = d->size };

			/*
			 * In the store already, fetched for another image: its content must
			 * still be what this config says (else another image's layer would
			 * pass for this one's).
			 */
			if ((ret = check_present(p, i)))
				break;
			p->present++;
			progress(p, &pp);
			continue;
		}
		ret = fetch_layer(p, i);
	}
	return ret;
}

/* Everything arrived and checked out: link the blobs, then name the image. */
static int commit(struct puller *p, struct pull_result *res)
{
	struct descriptor desc = { .media_type = p->top.media_type, .size = p->top.len };
	struct image_ref tagged = p->ref;
	struct oci_index idx;
	bool had = false;
	int ret = 0;

	for (size_t i = 0; i < p->m.n_layers && !ret; i++) {
		if (p->layer_w[i]) {
			ret = store_blob_commit(p->layer_w[i], p->m.layers[i].digest, NULL, p->e);
			p->layer_w[i] = NULL;
		}
	}
	if (!ret && p->cfg_w) {
		ret = store_blob_commit(p->cfg_w, p->m.config.digest, NULL, p->e);
		p->cfg_w = NULL;
	}
	if (!ret && p->man.data)
		ret = store_blob_put(p->s, p->man.data, p->man.len, p->man.digest, NULL, p->e);
	if (!ret)
		ret = store_blob_put(p->s, p->top.data, p->top.len, p->top.digest, NULL, p->e);
	if (ret)
		return err_wrap(p->e, ret, "%s: cannot store the image", p->label);
	/* by digest: name@digest, which vmm images shows untagged, as docker does */
	if (tagged.digest[0])
		tagged.tag[0] = '\0';
	ref_format(&tagged, res->ref, sizeof(res->ref));
	memcpy(desc.digest, p->top.digest, DIGEST_BUF);
	if (store_index_read(p->s, &idx, NULL) == 0) {
		for (size_t i = 0; i < idx.n_manifests && !had; i++)
			had = idx.manifests[i].ref_name &&
			      !strcmp(idx.manifests[i].ref_name, res->ref) &&
			      !strcmp(idx.manifests[i].digest, desc.digest);
		index_free(&idx);
	}
	if ((ret = store_tag_add(p->s, res->ref, &desc, NULL, p->e)))
		return ret;
	memcpy(res->digest, p->top.digest, DIGEST_BUF);
	memcpy(res->manifest_digest, p->man.data ? p->man.digest : p->top.digest, DIGEST_BUF);
	memcpy(res->config_digest, p->m.config.digest, DIGEST_BUF);
	res->updated = p->fetched > 0 || !had;
	res->blobs_fetched = p->fetched;
	res->blobs_present = p->present;
	return 0;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	/* every layer holds its unnamed temp file until the commit */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int image_pull(struct store *s, const char *name, const struct pull_opts *o,
	       struct pull_result *res, struct error *e)
{
	struct puller p = { .s = s, .o = o, .label = name, .e = e };
	struct registry_opts ro = { .label = name, .insecure = o->insecure,
				    .stall_timeout = o->stall_timeout, .login_cmd = o->login_cmd };
	char host[AUTH_HOST_MAX];
	struct creds creds;
	const char *why;
	int ret;

	memset(res, 0, sizeof(*res));
	if (ref_parse(name, REF_DEFAULT_TAG, &p.ref, &why))
		return err_set(e, -EINVAL, "%s: invalid reference format: %s", name, why);
	raise_fd_limit();
	if (o->creds)
		ro.creds = o->creds;
	else if (o->auth_files && registry_host_normalize(p.ref.domain, host, sizeof(host)) == 0 &&
	    creds_lookup(o->auth_files, host, &creds) == 0) {
		pr_debug("%s: using the credentials of %s from %s", host, creds.user, creds.file);
		ro.creds = &creds;
	}
	if ((ret = registry_open(p.ref.domain, &ro, &p.reg, e)))
		goto out;
	if ((ret = resolve_manifest(&p)) || (ret = fetch_config(&p)) || (ret = fetch_layers(&p)))
		goto out;
	ret = commit(&p, res);
out:
	for (size_t i = 0; p.layer_w && i < p.m.n_layers; i++)
		store_blob_abort(p.layer_w[i]);
	free(p.layer_w);
	store_blob_abort(p.cfg_w);
	manifest_free(&p.m);
	config_free(&p.cfg);
	doc_free(&p.top);
	doc_free(&p.man);
	registry_close(p.reg);
	explicit_bzero(&creds, sizeof(creds));
	return ret;
}
