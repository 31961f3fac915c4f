/*
 * The build cache: a step's result (the config document and the layers it
 * reached) stored under a key made of its parent step, its instruction and,
 * for COPY/ADD, the digest of the layer it made. A result whose layer blobs
 * were collected since is a miss. $VMM_ROOT/build-cache/<key>.json
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/spec.h"
#include "vmm/base/digest.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/engine/build-internal.h"

#define CACHE_ENTRY_MAX	(CONFIG_MAX_SIZE + (1u << 20))

void build_cache_key(const char *parent, const char *what, const char *args, const char *content,
		     char key[DIGEST_BUF])
{
	struct sha256 *h = sha256_new();

	if (!h) {
		key[0] = '\0';
		return;
	}
	sha256_update(h, parent, strlen(parent) + 1);
	sha256_update(h, what, strlen(what) + 1);
	sha256_update(h, args, strlen(args) + 1);
	sha256_update(h, content, strlen(content) + 1);
	sha256_final(h, key);
	sha256_free(h);
}

static int entry_path(struct builder *b, const char *key, char *path, size_t len)
{
	if (!digest_valid(key))
		return -EINVAL;
	return snprintf(path, len, "%s/build-cache/%s.json", b->p->root, digest_hex(key)) >= (int)len ?
	       -ENAMETOOLONG : 0;
}

/* The layers must be blobs the store still has, and the document a valid config. */
static int entry_usable(struct builder *b, json_object *doc, json_object *layers)
{
	struct image_config ic = { 0 };
	const char *s = json_compact(doc);
	int ret;

	if (!json_object_is_type(layers, json_type_array) || json_object_array_length(layers) > LAYERS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < json_object_array_length(layers); i++) {
		struct descriptor d = { 0 };
		uint64_t size;

		ret = descriptor_parse(json_object_array_get_idx(layers, i), "layer", &d, NULL);
		if (!ret && (store_blob_size(b->s, d.digest, &size) || size != d.size))
			ret = -ENOENT;
		descriptor_free(&d);
		if (ret)
			return ret;
	}
	ret = config_parse(s, strlen(s), &ic, NULL);
	if (!ret && strv_len(ic.diff_ids) != json_object_array_length(layers))
		ret = -EINVAL;
	config_free(&ic);
	return ret;
}

int build_cache_get(struct builder *b, const char *key, struct image_draft *d)
{
	json_object *o, *doc, *layers;
	char path[4096], *text = NULL;
	size_t len;
	int ret = entry_path(b, key, path, sizeof(path));

	if (!ret)
		ret = read_file(AT_FDCWD, path, CACHE_ENTRY_MAX, &text, &len);
	if (ret)
		return -ENOENT;
	o = json_parse_object(text, len, NULL);
	free(text);
	if (!o)
		return -ENOENT;
	if (!json_object_object_get_ex(o, "config", &doc) || !json_object_object_get_ex(o, "layers", &layers) ||
	    !json_object_is_type(doc, json_type_object) || entry_usable(b, doc, layers)) {
		json_object_put(o);
		return -ENOENT;
	}
	image_draft_free(d);
	d->doc = json_object_get(doc);
	d->layers = json_object_get(layers);
	json_object_put(o);
	return 0;
}

void build_cache_put(struct builder *b, const char *key, struct image_draft *d)
{
	json_object *o = json_object_new_object();
	char path[4096], *doc = image_draft_render(d, NULL);
	const char *s;

	if (!doc || entry_path(b, key, path, sizeof(path)) || mkdir_parent(path, 0700)) {
		free(doc);
		json_object_put(o);
		return;
	}
	json_object_object_add(o, "config", json_tokener_parse(doc));
	json_object_object_add(o, "layers", json_object_get(d->layers));
	s = json_compact(o);
	if (write_file_atomic(AT_FDCWD, path, s, strlen(s), 0600))
		pr_debug("build cache: cannot write %s", path);
	free(doc);
	json_object_put(o);
}
