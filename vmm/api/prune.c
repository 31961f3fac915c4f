/* POST /containers/prune, /images/prune, /volumes/prune, /networks/prune. */
#include <stdlib.h>

#include "images/oci/store.h"
#include "vmm/api/api.h"
#include "vmm/engine/prune.h"
#include "vmm/base/error.h"
#include "vmm/engine/filters.h"
#include "vmm/engine/container.h"
#include "vmm/engine/lifecycle.h"
#include "vmm/engine/network.h"
#include "vmm/engine/volume.h"

/* The docker prune reply: {"<list>": [names...], "SpaceReclaimed": bytes}. */
static json_object *reply_object(const char *list, json_object **names)
{
	json_object *o = json_object_new_object();

	*names = json_object_new_array();
	json_object_object_add(o, list, *names);
	return o;
}

static void add_name(void *arg, const char *name)
{
	json_object_array_add(arg, json_object_new_string(name));
}

void api_containers_prune(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *names, *o = reply_object("ContainersDeleted", &names);
	struct error e = { 0 };

	if (engine_containers_prune(&ctx->paths, add_name, names, &e)) {
		json_object_put(o);
		api_reply_err(w, &e);
		return;
	}
	json_object_object_add(o, "SpaceReclaimed", json_object_new_int64(0));
	api_reply_json(w, 200, o);
}

void api_images_prune(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *names, *o = reply_object("ImagesDeleted", &names);
	struct error e = { 0 };
	struct gc_result res;
	struct store *s = NULL;

	/* vmm keeps no dangling images (rmi removes an image with its last name): what is left to
	 * prune are blobs no image needs and the cached disks of removed images */
	if (store_open(ctx->paths.root, &s, &e) || store_gc(s, GC_WAIT | GC_DISKS, &res, &e)) {
		if (s)
			store_close(s);
		json_object_put(o);
		api_reply_err(w, &e);
		return;
	}
	store_close(s);
	json_object_object_add(o, "SpaceReclaimed", json_object_new_int64((int64_t)res.bytes));
	api_reply_json(w, 200, o);
}

void api_volumes_prune(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	static const char *const keys[] = { "all", "label", NULL };
	struct filters f = { .keys = keys };
	json_object *names, *o;
	struct error e = { 0 };
	uint64_t bytes;
	bool labels;

	if (api_filters(r, &f, &e)) {
		filters_free(&f);
		api_reply_err(w, &e);
		return;
	}
	labels = filters_get(&f, "label") != NULL;
	filters_free(&f);
	if (labels) {
		api_reply_error(w, 400, "volumes/prune: the label filter is not served yet");
		return;
	}
	/* API 1.41 (ours) prunes every volume no container uses, named ones too; from 1.42 on,
	 * only anonymous ones unless all=true. vmm volume prune does the latter. */
	o = reply_object("VolumesDeleted", &names);
	if (volume_prune(ctx->paths.root, true, add_name, names, &bytes, &e)) {
		json_object_put(o);
		api_reply_err(w, &e);
		return;
	}
	json_object_object_add(o, "SpaceReclaimed", json_object_new_int64((int64_t)bytes));
	api_reply_json(w, 200, o);
}

void api_networks_prune(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *names, *o = reply_object("NetworksDeleted", &names);
	struct error e = { 0 };

	if (network_prune(ctx->paths.root, add_name, names, &e)) {
		json_object_put(o);
		api_reply_err(w, &e);
		return;
	}
	api_reply_json(w, 200, o);
}
