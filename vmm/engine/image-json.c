/* docker inspect's JSON of an image, for the CLI and the API alike. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/image.h"
#include "images/oci/ref.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/image-json.h"

static json_object *str_or_empty(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *container_config(const struct image_config *c)
{
	json_object *o = json_object_new_object(), *ports = NULL, *vols = NULL, *labels = NULL;

	json_object_object_add(o, "User", str_or_empty(c->user));
	if (c->n_ports) {
		ports = json_object_new_object();
		for (size_t i = 0; i < c->n_ports; i++) {
			char key[16];

			snprintf(key, sizeof(key), "%u/%s", c->ports[i].port, c->ports[i].proto);
			json_object_object_add(ports, key, json_object_new_object());
		}
	}
	json_object_object_add(o, "ExposedPorts", ports);
	json_object_object_add(o, "Env", (c->env ? strv_to_json(c->env) : NULL));
	json_object_object_add(o, "Cmd", (c->cmd ? strv_to_json(c->cmd) : NULL));
	if (c->volumes) {
		vols = json_object_new_object();
		for (size_t i = 0; c->volumes[i]; i++)
			json_object_object_add(vols, c->volumes[i], json_object_new_object());
	}
	json_object_object_add(o, "Volumes", vols);
	json_object_object_add(o, "WorkingDir", str_or_empty(c->working_dir));
	json_object_object_add(o, "Entrypoint", (c->entrypoint ? strv_to_json(c->entrypoint) : NULL));
	if (c->label_keys) {
		labels = json_object_new_object();
		for (size_t i = 0; c->label_keys[i]; i++)
			json_object_object_add(labels, c->label_keys[i],
					       json_object_new_string(c->label_values[i]));
	}
	json_object_object_add(o, "Labels", labels);
	if (c->stop_signal)
		json_object_object_add(o, "StopSignal", json_object_new_string(c->stop_signal));
	return o;
}

json_object *image_to_json(const struct image *img)
{
	json_object *o = json_object_new_object(), *tags = json_object_new_array();
	json_object *digests = json_object_new_array(), *rootfs, *desc;

	json_object_object_add(o, "Id", json_object_new_string(img->config_digest));
	for (size_t i = 0; img->tags[i]; i++) {
		char name[REF_STR_MAX], repodigest[REF_STR_MAX + DIGEST_BUF];
		struct image_ref ref;
		bool dup = false;

		if (ref_parse(img->tags[i], 0, &ref, NULL))
			continue;
		ref_format_short(&ref, name, sizeof(name));
		if (!ref.digest[0])	/* name@digest (a pull by digest) is only a repo digest */
			json_object_array_add(tags, json_object_new_string(name));
		ref_format_short_repo(&ref, name, sizeof(name));
		snprintf(repodigest, sizeof(repodigest), "%s@%s", name, img->digest);
		for (size_t j = 0; j < json_object_array_length(digests); j++)
			dup |= !strcmp(json_object_get_string(json_object_array_get_idx(digests, j)),
				       repodigest);
		if (!dup)
			json_object_array_add(digests, json_object_new_string(repodigest));
	}
	json_object_object_add(o, "RepoTags", tags);
	json_object_object_add(o, "RepoDigests", digests);
	json_object_object_add(o, "Parent", json_object_new_string(""));
	json_object_object_add(o, "Comment", json_object_new_string(""));
	json_object_object_add(o, "Created", str_or_empty(img->config.created));
	json_object_object_add(o, "Author", str_or_empty(img->config.author));
	json_object_object_add(o, "Config", container_config(&img->config));
	json_object_object_add(o, "Architecture", json_object_new_string(img->config.architecture));
	if (img->config.variant)
		json_object_object_add(o, "Variant", json_object_new_string(img->config.variant));
	json_object_object_add(o, "Os", json_object_new_string(img->config.os));
	json_object_object_add(o, "Size", json_object_new_int64((int64_t)img->size));
	rootfs = json_object_new_object();
	json_object_object_add(rootfs, "Type", json_object_new_string("layers"));
	json_object_object_add(rootfs, "Layers", (img->config.diff_ids ? strv_to_json(img->config.diff_ids) : NULL));
	json_object_object_add(o, "RootFS", rootfs);
	desc = json_object_new_object();
	json_object_object_add(desc, "mediaType", json_object_new_string(img->manifest.media_type));
	json_object_object_add(desc, "digest", json_object_new_string(img->manifest_digest));
	json_object_object_add(desc, "size", json_object_new_int64((int64_t)img->manifest_len));
	json_object_object_add(o, "Descriptor", desc);
	return o;
}

json_object *image_history_json(const struct image *img)
{
	json_object *out = json_object_new_array();
	/* one row per history entry (newest first); without history, one per layer */
	size_t n = img->config.n_history ? img->config.n_history : img->n_layers, layer = 0;
	json_object **rows = calloc(n + 1, sizeof(*rows));

	for (size_t i = 0; rows && i < n; i++) {
		const struct image_history *h = img->config.n_history ? &img->config.history[i] : NULL;
		json_object *o = json_object_new_object(), *tags = NULL;
		uint64_t size = 0;
		int64_t t = 0;

		if (!h || !h->empty_layer) {
			if (layer < img->n_layers)
				size = img->layers[layer].size;
			layer++;
		}
		if (h && h->created)
			rfc3339_parse(h->created, &t);
		if (i == n - 1) {
			tags = json_object_new_array();
			for (size_t j = 0; img->tags[j]; j++) {
				struct image_ref ref;
				char name[REF_STR_MAX];

				if (!ref_parse(img->tags[j], 0, &ref, NULL) && !ref.digest[0]) {
					ref_format_short(&ref, name, sizeof(name));
					json_object_array_add(tags, json_object_new_string(name));
				}
			}
		}
		json_object_object_add(o, "Id", json_object_new_string(i == n - 1 ? img->config_digest : "<missing>"));
		json_object_object_add(o, "Created", json_object_new_int64(t));
		json_object_object_add(o, "CreatedBy", str_or_empty(h ? h->created_by : NULL));
		json_object_object_add(o, "Tags", tags);
		json_object_object_add(o, "Size", json_object_new_int64((int64_t)size));
		json_object_object_add(o, "Comment", str_or_empty(h ? h->comment : NULL));
		rows[n - 1 - i] = o;
	}
	for (size_t i = 0; rows && i < n; i++)
		json_object_array_add(out, rows[i]);
	free(rows);
	return out;
}
