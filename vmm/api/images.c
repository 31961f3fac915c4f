/* /images: list, inspect, tag, remove. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/oci/image.h"
#include "images/oci/ref.h"
#include "vmm/api/api.h"
#include "vmm/base/error.h"
#include "vmm/engine/filters.h"
#include "vmm/engine/image-filter.h"
#include "vmm/engine/image-json.h"
#include "vmm/engine/image-remove.h"

/* Open the store, or reply why not. */
static struct store *store_or_reply(const struct api_ctx *ctx, struct api_response *w)
{
	struct error e = { 0 };
	struct store *s;

	if (store_open(ctx->paths.root, &s, &e)) {
		api_reply_err(w, &e);
		return NULL;
	}
	return s;
}

/* docker's ImageSummary: one per image, with all its names. */
static json_object *summary_json(struct store *s, const struct image_entry *v, size_t n, size_t first)
{
	json_object *o = json_object_new_object(), *tags = json_object_new_array();
	json_object *digests = json_object_new_array();
	struct image *img = NULL;
	struct error e = { 0 };

	for (size_t i = first; i < n; i++) {
		struct image_ref ref;
		char name[REF_STR_MAX], rd[REF_STR_MAX + DIGEST_BUF];

		if (strcmp(v[i].digest, v[first].digest) || !v[i].ref || ref_parse(v[i].ref, 0, &ref, NULL))
			continue;
		ref_format_short(&ref, name, sizeof(name));
		if (!ref.digest[0])
			json_object_array_add(tags, json_object_new_string(name));
		ref_format_short_repo(&ref, name, sizeof(name));
		snprintf(rd, sizeof(rd), "%s@%s", name, v[i].digest);
		json_object_array_add(digests, json_object_new_string(rd));
	}
	json_object_object_add(o, "Id", json_object_new_string(v[first].config_digest));
	json_object_object_add(o, "ParentId", json_object_new_string(""));
	json_object_object_add(o, "RepoTags", tags);
	json_object_object_add(o, "RepoDigests", digests);
	if (!image_open_digest(s, v[first].digest, &img, &e)) {
		json_object_object_add(o, "Created", json_object_new_int64(img->config.created_time));
		json_object_object_add(o, "Size", json_object_new_int64((int64_t)img->size));
		json_object_object_add(o, "VirtualSize", json_object_new_int64((int64_t)img->size));
		image_close(img);
	}
	json_object_object_add(o, "SharedSize", json_object_new_int(-1));
	json_object_object_add(o, "Labels", json_object_new_object());
	json_object_object_add(o, "Containers", json_object_new_int(-1));
	return o;
}

void api_images_list(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct filters f = { .keys = image_filter_keys };
	struct store *s = store_or_reply(ctx, w);
	struct image_entry *v;
	struct error e = { 0 };
	json_object *out;
	size_t n;

	if (!s)
		return;
	if (api_filters(r, &f, &e) || image_filters_check(&f, &e) || image_entries(s, &v, &n, &e)) {
		filters_free(&f);
		store_close(s);
		api_reply_err(w, &e);
		return;
	}
	out = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		bool seen = !v[i].config_digest[0], wanted = false;
		struct image *img = NULL;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(v[i].digest, v[j].digest);
		if (seen)
			continue;
		if (filters_get(&f, "label") && image_open_digest(s, v[i].digest, &img, NULL))
			continue;
		/* one summary per image: wanted when one of its names is */
		for (size_t j = i; j < n; j++)
			if (!strcmp(v[j].digest, v[i].digest))
				wanted |= image_entry_wanted(&f, &v[j], img);
		image_close(img);
		if (wanted)
			json_object_array_add(out, summary_json(s, v, n, i));
	}
	image_entries_free(v, n);
	store_close(s);
	filters_free(&f);
	api_reply_json(w, 200, out);
}

/* Reply with what fn makes of the image named in the path. */
static void reply_image(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w,
			json_object *(*fn)(const struct image *img))
{
	struct store *s = store_or_reply(ctx, w);
	struct error e = { 0 };
	struct image *img;

	if (!s)
		return;
	if (image_open(s, r->args[0], &img, &e)) {
		/* docker's words: clients (compose) tell a missing image by "No such image" */
		if (e.code == -ENOENT)
			api_reply_error(w, 404, "No such image: %s", r->args[0]);
		else
			api_reply_err(w, &e);
	} else {
		api_reply_json(w, 200, fn(img));
		image_close(img);
	}
	store_close(s);
}

void api_image_inspect(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	reply_image(ctx, r, w, image_to_json);
}

void api_image_history(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	reply_image(ctx, r, w, image_history_json);
}

void api_image_tag(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	const char *repo = r->query(r, "repo"), *tag = r->query(r, "tag");
	struct error e = { 0 };
	char target[REF_STR_MAX];
	struct store *s;

	if (!repo || !*repo) {
		api_reply_error(w, 400, "tag needs ?repo=NAME (and ?tag=TAG)");
		return;
	}
	if ((size_t)snprintf(target, sizeof(target), "%s%s%s", repo, tag && *tag ? ":" : "",
			     tag && *tag ? tag : "") >= sizeof(target)) {
		api_reply_error(w, 400, "%s: reference too long", repo);
		return;
	}
	if (!(s = store_or_reply(ctx, w)))
		return;
	if (image_tag(s, r->args[0], target, &e))
		api_reply_err(w, &e);
	else
		api_reply_empty(w, 201);
	store_close(s);
}

static void report(void *arg, const char *what, const char *name)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, what, json_object_new_string(name));
	json_object_array_add(arg, o);
}

void api_image_delete(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *out = json_object_new_array();
	struct image_removal rm = { .report = report, .arg = out,
				    .force = api_query_bool(r, "force", false) };
	struct error e = { 0 };
	int ret;

	if (image_removal_begin(&rm, ctx->paths.root, &e)) {
		json_object_put(out);
		api_reply_err(w, &e);
		return;
	}
	ret = image_removal_one(&rm, r->args[0], &e);
	if (ret)
		api_reply_err(w, &e);
	else
		api_reply_json(w, 200, json_object_get(out));
	json_object_put(out);
	/* unneeded blobs go now, or at the next prune when another vmm holds the store */
	image_removal_end(&rm, &e);
}
