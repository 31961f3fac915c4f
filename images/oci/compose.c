/* New images from a base and new layers: the config document, the manifest, the index entry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "images/oci/compose.h"
#include "images/oci/layer.h"
#include "images/oci/store.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"

void format_rfc3339(int64_t secs, long nsec, char *buf, size_t len)
{
	time_t t = (time_t)secs;
	struct tm tm;
	char day[32];

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", day, nsec);
}

static json_object *now_string(void)
{
	struct timespec ts;
	char when[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	format_rfc3339(ts.tv_sec, ts.tv_nsec, when, sizeof(when));
	return json_object_new_string(when);
}

static json_object *object_member(json_object *o, const char *key, json_type type)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, type))
		return v;
	v = type == json_type_array ? json_object_new_array() : json_object_new_object();
	json_object_object_add(o, key, v);
	return v;
}

static json_object *layer_descriptor(const struct draft_layer *l)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "mediaType",
			       json_object_new_string(l->media_type ? l->media_type : MT_OCI_LAYER));
	json_object_object_add(o, "digest", json_object_new_string(l->digest));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)l->size));
	return o;
}

int image_draft_init(struct image_draft *d, const struct image *base, struct error *e)
{
	json_object *rootfs;

	memset(d, 0, sizeof(*d));
	d->layers = json_object_new_array();
	if (!base) {
		d->doc = json_object_new_object();
		json_object_object_add(d->doc, "architecture", json_object_new_string(PLATFORM_ARCH));
		json_object_object_add(d->doc, "os", json_object_new_string(PLATFORM_OS));
		json_object_object_add(d->doc, "config", json_object_new_object());
	} else {
		d->doc = json_parse_object(base->config_json, base->config_len, e);
		if (!d->doc) {
			image_draft_free(d);
			return -EINVAL;
		}
		for (size_t i = 0; i < base->n_layers; i++) {
			struct draft_layer l = {
				.size = base->layers[i].size,
				.media_type = layer_media_type(base->layers[i].compression),
			};

			memcpy(l.digest, base->layers[i].digest, DIGEST_BUF);
			json_object_array_add(d->layers, layer_descriptor(&l));
		}
	}
	/* a fresh rootfs object: its diff_ids are the layers' (verified when base was opened) */
	rootfs = json_object_new_object();
	json_object_object_add(rootfs, "type", json_object_new_string("layers"));
	json_object *ids = json_object_new_array();
	for (size_t i = 0; base && base->config.diff_ids[i]; i++)
		json_object_array_add(ids, json_object_new_string(base->config.diff_ids[i]));
	json_object_object_add(rootfs, "diff_ids", ids);
	json_object_object_add(d->doc, "rootfs", rootfs);
	object_member(d->doc, "history", json_type_array);
	/* a container's leftovers do not belong in a new image */
	json_object_object_del(d->doc, "container");
	json_object_object_del(d->doc, "container_config");
	json_object_object_del(d->doc, "docker_version");
	return 0;
}

int image_draft_copy(struct image_draft *dst, const struct image_draft *src, struct error *e)
{
	memset(dst, 0, sizeof(*dst));
	if (json_object_deep_copy(src->doc, &dst->doc, NULL) ||
	    json_object_deep_copy(src->layers, &dst->layers, NULL)) {
		image_draft_free(dst);
		return err_set(e, -ENOMEM, "out of memory copying an image config");
	}
	dst->created = src->created;
	return 0;
}

void image_draft_free(struct image_draft *d)
{
	json_object_put(d->doc);
	json_object_put(d->layers);
	memset(d, 0, sizeof(*d));
}

json_object *image_draft_config(struct image_draft *d)
{
	return object_member(d->doc, "config", json_type_object);
}

void image_draft_set(struct image_draft *d, const char *key, const char *value)
{
	if (value)
		json_object_object_add(d->doc, key, json_object_new_string(value));
	else
		json_object_object_del(d->doc, key);
}

static int history_add(struct image_draft *d, const char *created_by, const char *comment,
		       bool empty)
{
	json_object *h = json_object_new_object();

	json_object_object_add(h, "created", now_string());
	if (created_by)
		json_object_object_add(h, "created_by", json_object_new_string(created_by));
	if (comment && *comment)
		json_object_object_add(h, "comment", json_object_new_string(comment));
	if (empty)
		json_object_object_add(h, "empty_layer", json_object_new_boolean(1));
	return json_object_array_add(object_member(d->doc, "history", json_type_array), h) ? -ENOMEM : 0;
}

int image_draft_add_layer(struct image_draft *d, const struct draft_layer *l,
			  const char *created_by, const char *comment)
{
	json_object *rootfs = object_member(d->doc, "rootfs", json_type_object);

	if (json_object_array_length(d->layers) >= LAYERS_MAX)
		return -E2BIG;
	json_object_array_add(d->layers, layer_descriptor(l));
	json_object_array_add(object_member(rootfs, "diff_ids", json_type_array),
			      json_object_new_string(l->diff_id));
	return history_add(d, created_by, comment, false);
}

int image_draft_add_history(struct image_draft *d, const char *created_by, const char *comment)
{
	return history_add(d, created_by, comment, true);
}

size_t image_draft_n_layers(const struct image_draft *d)
{
	return json_object_array_length(d->layers);
}

const char *image_draft_diff_id(const struct image_draft *d, size_t i)
{
	json_object *rootfs, *ids;

	if (!json_object_object_get_ex(d->doc, "rootfs", &rootfs) ||
	    !json_object_object_get_ex(rootfs, "diff_ids", &ids) || i >= json_object_array_length(ids))
		return NULL;
	return json_object_get_string(json_object_array_get_idx(ids, i));
}

int64_t image_draft_time(struct image_draft *d)
{
	json_object *hist = object_member(d->doc, "history", json_type_array), *last, *when;
	size_t n = json_object_array_length(hist);
	int64_t t;

	if (n && (last = json_object_array_get_idx(hist, n - 1)) &&
	    json_object_object_get_ex(last, "created", &when) &&
	    json_object_get_string(when) && !rfc3339_parse(json_object_get_string(when), &t))
		return t;
	return 0;
}

/* The image's "created": the last history entry's, so the same steps give the same image. */
static void set_created(struct image_draft *d)
{
	json_object *hist = object_member(d->doc, "history", json_type_array), *last, *when;
	size_t n = json_object_array_length(hist);

	if (d->created) {
		char buf[64];

		format_rfc3339(d->created, 0, buf, sizeof(buf));
		json_object_object_add(d->doc, "created", json_object_new_string(buf));
	} else if (n && (last = json_object_array_get_idx(hist, n - 1)) &&
		   json_object_object_get_ex(last, "created", &when)) {
		json_object_object_add(d->doc, "created", json_object_get(when));
	} else {
		json_object_object_add(d->doc, "created", now_string());
	}
}

char *image_draft_render(struct image_draft *d, char digest[DIGEST_BUF])
{
	char *s;

	set_created(d);
	s = strdup(json_compact(d->doc));
	if (s && digest)
		digest_buf(s, strlen(s), digest);
	return s;
}

static char *manifest_render(const struct image_draft *d, const char *config_digest,
			     size_t config_len)
{
	json_object *m = json_object_new_object(), *c = json_object_new_object();
	char *s;

	json_object_object_add(m, "schemaVersion", json_object_new_int(2));
	json_object_object_add(m, "mediaType", json_object_new_string(MT_OCI_MANIFEST));
	json_object_object_add(c, "mediaType", json_object_new_string(MT_OCI_CONFIG));
	json_object_object_add(c, "digest", json_object_new_string(config_digest));
	json_object_object_add(c, "size", json_object_new_int64((int64_t)config_len));
	json_object_object_add(m, "config", c);
	json_object_object_add(m, "layers", json_object_get(d->layers));
	s = strdup(json_compact(m));
	json_object_put(m);
	return s;
}

int image_draft_commit(struct image_draft *d, struct store *s, char *const *refs,
		       struct image_made *out, struct error *e)
{
	struct descriptor desc = { .media_type = (char *)MT_OCI_MANIFEST };
	char *config = image_draft_render(d, NULL), *manifest = NULL;
	int ret;

	if (!config)
		return err_set(e, -ENOMEM, "out of memory writing an image config");
	ret = store_blob_put(s, config, strlen(config), NULL, out->config_digest, e);
	if (!ret && !(manifest = manifest_render(d, out->config_digest, strlen(config))))
		ret = err_set(e, -ENOMEM, "out of memory writing an image manifest");
	if (!ret)
		ret = store_blob_put(s, manifest, strlen(manifest), NULL, out->manifest_digest, e);
	if (!ret) {
		memcpy(desc.digest, out->manifest_digest, DIGEST_BUF);
		desc.size = strlen(manifest);
		if (!refs || !refs[0])
			ret = store_tag_add(s, NULL, &desc, NULL, e);
		for (size_t i = 0; !ret && refs && refs[i]; i++)
			ret = store_tag_add(s, refs[i], &desc, NULL, e);
	}
	free(config);
	free(manifest);
	return ret;
}
