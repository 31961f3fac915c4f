/* Push an image: blobs (skipped, mounted or uploaded), then its manifests, then the tag. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/auth.h"
#include "images/oci/creds.h"
#include "images/oci/image.h"
#include "images/oci/push-internal.h"
#include "images/oci/registry.h"
#include "vmm/base/log.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"

struct pusher {
	struct store *s;
	struct registry *reg;
	const struct push_opts *o;
	const char *label;		/* the name as typed */
	struct image_ref ref;
	struct push_plan plan;
	struct push_source *src;	/* blobs other repositories there have */
	size_t n_src;
	char **done;			/* blobs dealt with in this push */
	size_t n_layers, layer;		/* layers in the plan, and the one going now */
	uint64_t chunk;
	struct push_result *res;
	struct error *e;
};

/* One blob on its way out: read from its file, hashed once, in order. */
struct outgoing {
	struct pusher *p;
	const char *what;		/* "layer", "config" */
	const char *digest;
	uint64_t size;
	int fd;
	struct sha256 *h;
	uint64_t hashed;		/* bytes hashed so far: a resent range is not hashed again */
	struct push_progress prog;
	bool report;			/* a layer: progress events */
};

static void progress(struct pusher *p, const struct push_progress *pp)
{
	if (p->o->progress)
		p->o->progress(p->o->progress_arg, pp);
}

/* A registry call failed: its account of why, unless ours (a source's) came first. */
static int reg_fail(struct pusher *p, int ret)
{
	if (err_is_set(p->e))
		return ret;
	return err_copy(p->e, registry_error(p->reg), ret);
}

static ssize_t blob_read(void *arg, void *buf, size_t len, uint64_t off)
{
	struct outgoing *b = arg;
	char got[DIGEST_BUF];
	ssize_t n = pread(b->fd, buf, len, (off_t)off);

	if (n < 0)
		return err_sys(b->p->e, -errno, "%s: %s %s in the store", b->p->label, b->what, b->digest);
	if (n == 0)
		return err_set(b->p->e, -EBADMSG, "%s: %s %s in the store is shorter than its %llu bytes (pull or "
			       "load the image again)", b->p->label, b->what, b->digest, (unsigned long long)b->size);
	if (off <= b->hashed && off + (uint64_t)n > b->hashed) {
		sha256_update(b->h, (char *)buf + (b->hashed - off), (size_t)(off + (uint64_t)n - b->hashed));
		b->hashed = off + (uint64_t)n;
		if (b->hashed == b->size) {
			/* before the last bytes leave: a corrupt blob is never completed there */
			sha256_final(b->h, got);
			if (strcmp(got, b->digest))
				return err_set(b->p->e, -EBADMSG, "%s: %s %s in the store is corrupt (its content hashes "
					       "to %s; pull or load the image again)", b->p->label, b->what,
					       b->digest, got);
		}
		if (b->report) {
			b->prog.done = b->hashed;
			progress(b->p, &b->prog);
		}
	}
	return n;
}

/* Send the blob into an open session: whole, or in chunks when larger than one. */
static int upload(struct pusher *p, struct registry_upload *up, struct outgoing *b)
{
	struct registry_body body = { .read = blob_read, .arg = b, .len = b->size };
	int ret;

	if (b->size <= p->chunk) {
		ret = registry_upload_finish(p->reg, up, b->digest, &body);
		return ret ? reg_fail(p, ret) : 0;
	}
	for (uint64_t off = 0; off < b->size; off += body.len) {
		body.off = off;
		body.len = MIN(p->chunk, b->size - off);
		if ((ret = registry_upload_chunk(p->reg, up, &body)))
			return reg_fail(p, ret);
		p->res->chunks++;
	}
	ret = registry_upload_finish(p->reg, up, b->digest, NULL);
	return ret ? reg_fail(p, ret) : 0;
}

static const char *source_of(const struct pusher *p, const char *digest)
{
	for (size_t i = 0; i < p->n_src; i++)
		if (!strcmp(p->src[i].digest, digest))
			return p->src[i].repo;
	return NULL;
}

/* Open the blob's file and start its hash: the empty blob is checked here, it is never read. */
static int outgoing_open(struct pusher *p, struct outgoing *b)
{
	char path[4096], empty[DIGEST_BUF];

	if (!b->size) {
		digest_buf("", 0, empty);
		if (strcmp(empty, b->digest))
			return err_set(p->e, -EBADMSG, "%s: %s %s: the manifest says 0 bytes, which hash to %s", p->label,
				       b->what, b->digest, empty);
	}
	if (store_blob_path(p->s, b->digest, path, sizeof(path)))
		return err_set(p->e, -EINVAL, "%s: %s %s: invalid digest", p->label, b->what, b->digest);
	if ((b->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_sys(p->e, -errno, "%s: %s %s in the store", p->label, b->what, b->digest);
	if (!(b->h = sha256_new()))
		return err_set(p->e, -ENOMEM, "out of memory");
	return 0;
}

/*
 * One blob: nothing when the registry has it, a mount when another repository
 * there has it, else an upload. diff_id is NULL for a config.
 */
static int push_blob(struct pusher *p, const struct descriptor *d, const char *diff_id)
{
	struct outgoing b = {
		.p = p, .what = diff_id ? "layer" : "config", .digest = d->digest, .size = d->size,
		.fd = -1, .report = diff_id != NULL,
		.prog = { .digest = d->digest, .diff_id = diff_id, .layer = p->layer,
			  .n_layers = p->n_layers, .total = d->size },
	};
	struct registry_upload up;
	int ret;

	for (size_t i = 0; p->done && p->done[i]; i++)
		if (!strcmp(p->done[i], d->digest))
			return 0;
	if (strv_push(&p->done, d->digest))
		return err_set(p->e, -ENOMEM, "out of memory");
	ret = registry_blob_exists(p->reg, p->ref.path, d->digest);
	if (ret == 0) {
		p->res->existing++;
		b.prog.event = PUSH_LAYER_EXISTS;
		if (b.report)
			progress(p, &b.prog);
		return 0;
	}
	if (ret != -ENOENT)
		return reg_fail(p, ret);
	b.prog.from = source_of(p, d->digest);
	ret = registry_upload_start(p->reg, p->ref.path, d->digest, b.prog.from, &up);
	if (ret == 1) {
		p->res->mounted++;
		b.prog.event = PUSH_LAYER_MOUNTED;
		if (b.report)
			progress(p, &b.prog);
		return 0;
	}
	if (ret)
		return reg_fail(p, ret);
	b.prog.from = NULL;
	if (!(ret = outgoing_open(p, &b))) {
		b.prog.event = PUSH_LAYER_START;
		if (b.report)
			progress(p, &b.prog);
		b.prog.event = PUSH_LAYER_BYTES;
		ret = upload(p, &up, &b);
	}
	if (ret) {
		registry_upload_cancel(p->reg, &up);
	} else {
		p->res->pushed++;
		b.prog.event = PUSH_LAYER_DONE;
		if (b.report)
			progress(p, &b.prog);
	}
	if (b.fd >= 0)
		close(b.fd);
	sha256_free(b.h);
	return ret;
}

/* A manifest's blobs (layers, then its config), then the manifest itself under reference. */
static int push_manifest(struct pusher *p, const struct push_manifest *pm, const char *reference)
{
	int ret = 0;

	for (size_t i = 0; i < pm->m.n_layers && !ret; i++, p->layer++)
		ret = push_blob(p, &pm->m.layers[i], pm->diff_ids ? pm->diff_ids[i] : pm->m.layers[i].digest);
	if (!ret)
		ret = push_blob(p, &pm->m.config, NULL);
	if (!ret && (ret = registry_put_manifest(p->reg, p->ref.path, reference, pm->m.media_type, pm->data,
						 pm->len)))
		ret = reg_fail(p, ret);
	return ret;
}

static int push_all(struct pusher *p)
{
	struct push_plan *plan = &p->plan;
	int ret = 0;

	if (plan->partial_index[0]) {
		struct push_progress pp = { .event = PUSH_INDEX_PARTIAL, .digest = plan->partial_index };

		progress(p, &pp);
	}
	for (size_t i = 0; i < plan->n_mans; i++)
		p->n_layers += plan->mans[i].m.n_layers;
	if (!plan->index_digest[0]) {
		ret = push_manifest(p, &plan->mans[0], p->ref.tag);
		memcpy(p->res->digest, plan->mans[0].digest, DIGEST_BUF);
		p->res->size = plan->mans[0].len;
		return ret;
	}
	for (size_t i = 0; i < plan->n_mans && !ret; i++)
		ret = push_manifest(p, &plan->mans[i], plan->mans[i].digest);
	if (!ret && (ret = registry_put_manifest(p->reg, p->ref.path, p->ref.tag, plan->index_media_type,
						 plan->index_data, plan->index_len)))
		ret = reg_fail(p, ret);
	memcpy(p->res->digest, plan->index_digest, DIGEST_BUF);
	p->res->size = plan->index_len;
	p->res->index = true;
	return ret;
}

/* The image the name tags in the store (a name, not an ID: the name says where it goes). */
static int find_image(struct pusher *p, struct descriptor *top)
{
	char digest[DIGEST_BUF], tag[REF_STR_MAX];
	const char *why;
	int ret;

	if (ref_parse(p->label, REF_DEFAULT_TAG, &p->ref, &why))
		return err_set(p->e, -EINVAL, "%s: invalid reference format: %s", p->label, why);
	if (p->ref.digest[0])
		return err_set(p->e, -EINVAL, "%s: cannot push a digest reference (push a NAME[:TAG])", p->label);
	ref_format(&p->ref, p->res->ref, sizeof(p->res->ref));
	if ((ret = image_resolve(p->s, p->label, digest, tag, sizeof(tag), p->e)))
		return ret;
	if (!tag[0])
		return err_set(p->e, -EINVAL, "%s: an image ID names no repository to push to (vmm tag %s "
			       "HOST/NAME:TAG, then push that name)", p->label, p->label);
	return store_index_find(p->s, digest, top, p->e);
}

int image_push(struct store *s, const char *name, const struct push_opts *o,
	       struct push_result *res, struct error *e)
{
	struct pusher p = { .s = s, .o = o, .label = name, .res = res, .e = e,
			    .chunk = o->chunk_size ? MAX(o->chunk_size, PUSH_CHUNK_MIN) : PUSH_CHUNK_SIZE };
	struct registry_opts ro = { .label = name, .insecure = o->insecure,
				    .stall_timeout = o->stall_timeout, .login_cmd = o->login_cmd };
	struct descriptor top = { 0 };
	char host[AUTH_HOST_MAX], *scope = NULL;
	struct creds creds;
	int ret;

	memset(res, 0, sizeof(*res));
	if ((ret = find_image(&p, &top)) || (ret = push_plan_make(s, &top, name, &p.plan, e)))
		goto out;
	if ((ret = push_sources_find(s, &p.plan, top.digest, p.ref.domain, p.ref.path, &p.src, &p.n_src,
				     &scope))) {
		ret = err_set(e, ret, "out of memory");
		goto out;
	}
	ro.scope = scope;
	if (o->creds)
		ro.creds = o->creds;
	else if (o->auth_files && registry_host_normalize(p.ref.domain, host, sizeof(host)) == 0 &&
	    creds_lookup(o->auth_files, host, &creds) == 0) {
		pr_debug("%s: using the credentials of %s from %s", host, creds.user, creds.file);
		ro.creds = &creds;
	}
	if ((ret = registry_open(p.ref.domain, &ro, &p.reg, e)))
		goto out;
	ret = push_all(&p);
out:
	registry_close(p.reg);
	push_sources_free(p.src, p.n_src);
	push_plan_free(&p.plan);
	strv_free(p.done);
	descriptor_free(&top);
	free(scope);
	explicit_bzero(&creds, sizeof(creds));
	return ret;
}
