/* Descriptors, image manifests and image indexes: parse, validate, serialize. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/spec.h"

const char *compression_name(enum compression c)
{
	switch (c) {
	case COMPRESSION_GZIP: return "gzip";
	case COMPRESSION_ZSTD: return "zstd";
	default: return "none";
	}
}

enum media_kind media_type_kind(const char *mt, enum compression *comp)
{
	static const struct {
		const char *type;
		enum media_kind kind;
		enum compression comp;
	} types[] = {
		{ MT_OCI_MANIFEST, MEDIA_MANIFEST, COMPRESSION_NONE },
		{ MT_DOCKER_MANIFEST, MEDIA_MANIFEST, COMPRESSION_NONE },
		{ MT_OCI_INDEX, MEDIA_INDEX, COMPRESSION_NONE },
		{ MT_DOCKER_LIST, MEDIA_INDEX, COMPRESSION_NONE },
		{ MT_OCI_CONFIG, MEDIA_CONFIG, COMPRESSION_NONE },
		{ MT_DOCKER_CONFIG, MEDIA_CONFIG, COMPRESSION_NONE },
		{ MT_OCI_LAYER, MEDIA_LAYER, COMPRESSION_NONE },
		{ MT_OCI_LAYER_GZIP, MEDIA_LAYER, COMPRESSION_GZIP },
		{ MT_OCI_LAYER_ZSTD, MEDIA_LAYER, COMPRESSION_ZSTD },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar", MEDIA_LAYER, COMPRESSION_NONE },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", MEDIA_LAYER, COMPRESSION_GZIP },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", MEDIA_LAYER, COMPRESSION_ZSTD },
		{ MT_DOCKER_LAYER, MEDIA_LAYER, COMPRESSION_NONE },
		{ MT_DOCKER_LAYER_GZIP, MEDIA_LAYER, COMPRESSION_GZIP },
		{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", MEDIA_LAYER, COMPRESSION_GZIP },
	};

	for (size_t i = 0; mt && i < sizeof(types) / sizeof(types[0]); i++) {
		if (!strcmp(mt, types[i].type)) {
			if (comp)
				*comp = types[i].comp;
			return types[i].kind;
		}
	}
	return MEDIA_UNKNOWN;
}

bool platform_supported(const char *os, const char *arch)
{
	return os && arch && !strcmp(os, PLATFORM_OS) && !strcmp(arch, PLATFORM_ARCH);
}

void descriptor_free(struct descriptor *d)
{
	free(d->media_type);
	free(d->ref_name);
	free(d->platform_os);
	free(d->platform_arch);
	free(d->platform_variant);
	json_object_put(d->annotations);
	memset(d, 0, sizeof(*d));
}

static int dup_opt(const char *s, char **out, struct error *e)
{
	*out = NULL;
	if (s && !(*out = strdup(s)))
		return err_set(e, -ENOMEM, "out of memory");
	return 0;
}

static int media_type_check(const char *s, const char *ctx, struct error *e)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255)
		return err_set(e, -EINVAL, "%s.mediaType: empty or too long", ctx);
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return err_set(e, -EINVAL, "%s.mediaType: invalid character", ctx);
	return 0;
}

/* An object whose members are all strings (annotations, labels). */
static int string_map_check(json_object *o, const char *ctx, struct error *e)
{
	json_object_object_foreach(o, key, val) {
		char name[192];
		const char *s;

		snprintf(name, sizeof(name), "%s[\"%.64s\"]", ctx, key);
		if (jstring(val, name, &s, e))
			return -EINVAL;
	}
	return 0;
}

int descriptor_parse(json_object *o, const char *ctx, struct descriptor *d, struct error *e)
{
	const char *mt, *digest, *s = NULL;
	json_object *ann, *plat, *v;
	char sub[160];
	int ret;

	memset(d, 0, sizeof(*d));
	if (!json_object_is_type(o, json_type_object))
		return err_set(e, -EINVAL, "%s: want an object", ctx);
	if ((ret = jget_string(o, "mediaType", true, ctx, &mt, e)) ||
	    (ret = media_type_check(mt, ctx, e)) ||
	    (ret = jget_string(o, "digest", true, ctx, &digest, e)) ||
	    (ret = jget_u64(o, "size", true, BLOB_MAX_SIZE, ctx, &d->size, NULL, e)) ||
	    (ret = jget_object(o, "annotations", false, ctx, &ann, e)) ||
	    (ret = jget_object(o, "platform", false, ctx, &plat, e)))
		return ret;
	if (!digest_valid(digest)) {
		if (digest_algorithm_known(digest) && strncmp(digest, DIGEST_PREFIX, 7))
			return err_set(e, -EINVAL, "%s.digest: unsupported algorithm in %.80s (only sha256)", ctx, digest);
		return err_set(e, -EINVAL, "%s.digest: invalid digest '%.80s'", ctx, digest);
	}
	memcpy(d->digest, digest, DIGEST_BUF);
	if ((ret = dup_opt(mt, &d->media_type, e)))
		goto fail;
	if (ann) {
		snprintf(sub, sizeof(sub), "%s.annotations", ctx);
		if ((ret = string_map_check(ann, sub, e)))
			goto fail;
		d->annotations = json_object_get(ann);
		if (json_object_object_get_ex(ann, ANNOT_REF_NAME, &v))
			s = json_object_get_string(v);
		if ((ret = dup_opt(s, &d->ref_name, e)))
			goto fail;
	}
	if (plat) {
		const char *os, *arch, *variant;

		snprintf(sub, sizeof(sub), "%s.platform", ctx);
		if ((ret = jget_string(plat, "os", true, sub, &os, e)) ||
		    (ret = jget_string(plat, "architecture", true, sub, &arch, e)) ||
		    (ret = jget_string(plat, "variant", false, sub, &variant, e)) ||
		    (ret = dup_opt(os, &d->platform_os, e)) ||
		    (ret = dup_opt(arch, &d->platform_arch, e)) ||
		    (ret = dup_opt(variant, &d->platform_variant, e)))
			goto fail;
	}
	return 0;
fail:
	descriptor_free(d);
	return ret;
}

json_object *descriptor_to_json(const struct descriptor *d)
{
	json_object *o = json_object_new_object();
	json_object *ann = NULL;

	json_object_object_add(o, "mediaType", json_object_new_string(d->media_type));
	json_object_object_add(o, "digest", json_object_new_string(d->digest));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)d->size));
	if (d->platform_os && d->platform_arch) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "architecture", json_object_new_string(d->platform_arch));
		json_object_object_add(p, "os", json_object_new_string(d->platform_os));
		if (d->platform_variant)
			json_object_object_add(p, "variant", json_object_new_string(d->platform_variant));
		json_object_object_add(o, "platform", p);
	}
	/* Copy the annotations, with ref.name as the struct says. */
	if (d->annotations) {
		json_object_object_foreach(d->annotations, key, val) {
			if (!strcmp(key, ANNOT_REF_NAME))
				continue;
			if (!ann)
				ann = json_object_new_object();
			json_object_object_add(ann, key, json_object_get(val));
		}
	}
	if (d->ref_name) {
		if (!ann)
			ann = json_object_new_object();
		json_object_object_add(ann, ANNOT_REF_NAME, json_object_new_string(d->ref_name));
	}
	if (ann)
		json_object_object_add(o, "annotations", ann);
	return o;
}

static int schema_version(json_object *root, struct error *e)
{
	uint64_t v;
	int ret = jget_u64(root, "schemaVersion", true, 100, "", &v, NULL, e);

	if (ret)
		return ret;
	if (v != 2)
		return err_set(e, -EINVAL, "schemaVersion %llu is not supported (want 2)", (unsigned long long)v);
	return 0;
}

void manifest_free(struct manifest *m)
{
	free(m->media_type);
	descriptor_free(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		descriptor_free(&m->layers[i]);
	free(m->layers);
	json_object_put(m->annotations);
	memset(m, 0, sizeof(*m));
}

int manifest_parse(const char *buf, size_t len, struct manifest *m, struct error *e)
{
	json_object *root, *cfg, *layers, *ann;
	const char *mt;
	int ret;

	memset(m, 0, sizeof(*m));
	if (len > MANIFEST_MAX_SIZE)
		return err_set(e, -EINVAL, "manifest larger than %u bytes", MANIFEST_MAX_SIZE);
	root = json_parse_object(buf, len, e);
	if (!root)
		return -EINVAL;
	if ((ret = schema_version(root, e)) ||
	    (ret = jget_string(root, "mediaType", false, "", &mt, e)))
		goto out;
	if (mt && media_type_kind(mt, NULL) != MEDIA_MANIFEST) {
		ret = media_type_kind(mt, NULL) == MEDIA_INDEX ?
			err_set(e, -EINVAL, "an image index where an image manifest was expected") :
			err_set(e, -EINVAL, "unsupported manifest media type '%.100s'", mt);
		goto out;
	}
	if (!mt && json_object_object_get_ex(root, "manifests", NULL)) {
		ret = err_set(e, -EINVAL, "an image index where an image manifest was expected");
		goto out;
	}
	if ((ret = jget_object(root, "config", true, "", &cfg, e)) ||
	    (ret = jget_array(root, "layers", true, LAYERS_MAX, "", &layers, e)) ||
	    (ret = jget_object(root, "annotations", false, "", &ann, e)))
		goto out;
	if (!(m->media_type = strdup(mt ? mt : MT_OCI_MANIFEST))) {
		ret = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = descriptor_parse(cfg, "config", &m->config, e)))
		goto out;
	if (media_type_kind(m->config.media_type, NULL) != MEDIA_CONFIG) {
		ret = err_set(e, -EINVAL, "unsupported config media type '%.100s' (not a container image)",
			    m->config.media_type);
		goto out;
	}
	if (m->config.size > CONFIG_MAX_SIZE) {
		ret = err_set(e, -EINVAL, "config larger than %u bytes", CONFIG_MAX_SIZE);
		goto out;
	}
	m->layers = calloc(json_object_array_length(layers) + 1, sizeof(*m->layers));
	if (!m->layers) {
		ret = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(layers); i++) {
		struct descriptor *d = &m->layers[i];
		char ctx[32];

		snprintf(ctx, sizeof(ctx), "layers[%zu]", i);
		if ((ret = descriptor_parse(json_object_array_get_idx(layers, i), ctx, d, e)))
			goto out;
		m->n_layers++;
		if (media_type_kind(d->media_type, NULL) != MEDIA_LAYER) {
			ret = err_set(e, -EINVAL, "%s: unsupported layer media type '%.100s'", ctx, d->media_type);
			goto out;
		}
	}
	if (ann) {
		if ((ret = string_map_check(ann, "annotations", e)))
			goto out;
		m->annotations = json_object_get(ann);
	}
out:
	json_object_put(root);
	if (ret)
		manifest_free(m);
	return ret;
}

char *manifest_to_json(const struct manifest *m)
{
	json_object *root = json_object_new_object(), *layers = json_object_new_array();
	char *out;

	json_object_object_add(root, "schemaVersion", json_object_new_int(2));
	json_object_object_add(root, "mediaType", json_object_new_string(m->media_type));
	json_object_object_add(root, "config", descriptor_to_json(&m->config));
	for (size_t i = 0; i < m->n_layers; i++)
		json_object_array_add(layers, descriptor_to_json(&m->layers[i]));
	json_object_object_add(root, "layers", layers);
	if (m->annotations)
		json_object_object_add(root, "annotations", json_object_get(m->annotations));
	out = strdup(json_compact(root));
	json_object_put(root);
	return out;
}

void index_free(struct oci_index *idx)
{
	free(idx->media_type);
	for (size_t i = 0; i < idx->n_manifests; i++)
		descriptor_free(&idx->manifests[i]);
	free(idx->manifests);
	json_object_put(idx->annotations);
	memset(idx, 0, sizeof(*idx));
}

int index_parse(const char *buf, size_t len, struct oci_index *idx, struct error *e)
{
	json_object *root, *arr, *ann;
	const char *mt;
	int ret;

	memset(idx, 0, sizeof(*idx));
	if (len > MANIFEST_MAX_SIZE)
		return err_set(e, -EINVAL, "index larger than %u bytes", MANIFEST_MAX_SIZE);
	root = json_parse_object(buf, len, e);
	if (!root)
		return -EINVAL;
	if ((ret = schema_version(root, e)) ||
	    (ret = jget_string(root, "mediaType", false, "", &mt, e)) ||
	    (ret = jget_array(root, "manifests", true, INDEX_MAX_ENTRIES, "", &arr, e)) ||
	    (ret = jget_object(root, "annotations", false, "", &ann, e)))
		goto out;
	if (mt && media_type_kind(mt, NULL) != MEDIA_INDEX) {
		ret = err_set(e, -EINVAL, "unsupported index media type '%.100s'", mt);
		goto out;
	}
	if ((ret = dup_opt(mt, &idx->media_type, e)))
		goto out;
	idx->manifests = calloc(json_object_array_length(arr) + 1, sizeof(*idx->manifests));
	if (!idx->manifests) {
		ret = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		char ctx[32];

		snprintf(ctx, sizeof(ctx), "manifests[%zu]", i);
		if ((ret = descriptor_parse(json_object_array_get_idx(arr, i), ctx,
					    &idx->manifests[i], e)))
			goto out;
		idx->n_manifests++;
	}
	if (ann) {
		if ((ret = string_map_check(ann, "annotations", e)))
			goto out;
		idx->annotations = json_object_get(ann);
	}
out:
	json_object_put(root);
	if (ret)
		index_free(idx);
	return ret;
}

char *index_to_json(const struct oci_index *idx)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	char *out;

	json_object_object_add(root, "schemaVersion", json_object_new_int(2));
	if (idx->media_type)
		json_object_object_add(root, "mediaType", json_object_new_string(idx->media_type));
	for (size_t i = 0; i < idx->n_manifests; i++)
		json_object_array_add(arr, descriptor_to_json(&idx->manifests[i]));
	json_object_object_add(root, "manifests", arr);
	if (idx->annotations)
		json_object_object_add(root, "annotations", json_object_get(idx->annotations));
	out = strdup(json_compact(root));
	json_object_put(root);
	return out;
}
