/* /_ping, /version and /info. */
#include <stdlib.h>
#include <string.h>

#include "vmm/api/api.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"
#include "vmm/engine/info.h"
#include "vmm/engine/version.h"

void api_ping(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	w->status = 200;
	w->raw = strdup("OK");
	w->raw_len = w->raw ? 2 : 0;
	w->content_type = "text/plain; charset=utf-8";
}

void api_version(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *v = engine_version_json(), *o = json_object_new_object();
	json_object *platform = json_object_new_object(), *comps = json_object_new_array();
	json_object *engine = json_object_new_object(), *details = json_object_new_object();

	json_object_object_add(platform, "Name", json_object_new_string("vmm (KVM micro-VMs)"));
	json_object_object_add(o, "Platform", platform);
	json_object_object_add(engine, "Name", json_object_new_string("Engine"));
	json_copy_field(engine, "Version", v, "Version");
	json_object_object_add(details, "ApiVersion", json_object_new_string(API_VERSION));
	json_object_object_add(details, "MinAPIVersion", json_object_new_string(API_MIN_VERSION));
	json_copy_field(details, "Os", v, "Os");
	json_copy_field(details, "Arch", v, "Arch");
	json_copy_field(details, "KernelVersion", v, "KernelVersion");
	json_object_object_add(engine, "Details", details);
	json_object_array_add(comps, engine);
	json_object_object_add(o, "Components", comps);
	json_copy_field(o, "Version", v, "Version");
	json_object_object_add(o, "ApiVersion", json_object_new_string(API_VERSION));
	json_object_object_add(o, "MinAPIVersion", json_object_new_string(API_MIN_VERSION));
	json_object_object_add(o, "GitCommit", json_object_new_string(""));
	json_object_object_add(o, "GoVersion", json_object_new_string("none (C)"));
	json_copy_field(o, "Os", v, "Os");
	json_copy_field(o, "Arch", v, "Arch");
	json_copy_field(o, "KernelVersion", v, "KernelVersion");
	json_object_put(v);
	api_reply_json(w, 200, o);
}

void api_info(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct error e = { 0 };
	json_object *o = engine_info_json(ctx->paths.root, &e);

	if (o)
		api_reply_json(w, 200, o);
	else
		api_reply_err(w, &e);
}
