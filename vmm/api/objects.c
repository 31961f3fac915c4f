/* /volumes and /networks: create, list, inspect, remove. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api/api.h"
#include "vmm/base/error.h"
#include "vmm/engine/filters.h"
#include "vmm/base/json.h"
#include "vmm/base/strv.h"
#include "vmm/engine/lan.h"
#include "vmm/engine/netcfg.h"
#include "vmm/engine/network-connect.h"
#include "vmm/engine/network.h"
#include "vmm/engine/volume.h"

/* {"k": "v"} (Labels, DriverOpts) as "k=v" strings. */
static int key_values(json_object *body, const char *key, char ***out, struct error *e)
{
	json_object *o;
	int ret = jget_object(body, key, false, "", &o, e);

	*out = NULL;
	if (ret || !o)
		return ret;
	json_object_object_foreach(o, k, v) {
		const char *s;
		char *kv;

		if (jstring(v, key, &s, e))
			return e->code;
		if (asprintf(&kv, "%s=%s", k, s) < 0)
			return err_set(e, -ENOMEM, "out of memory");
		ret = strv_push(out, kv);
		free(kv);
		if (ret)
			return err_set(e, -ENOMEM, "out of memory");
	}
	return 0;
}

/* A driver name: absent, "" or the one we have. */
static int driver_ok(json_object *body, const char *ours, struct error *e)
{
	const char *d;

	if (jget_string(body, "Driver", false, "", &d, e))
		return e->code;
	if (d && *d && strcmp(d, ours))
		return err_set(e, -EINVAL, "Driver %s: not supported (only %s)", d, ours);
	return 0;
}

void api_volumes_list(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *o = json_object_new_object(), *vols = json_object_new_array();
	struct error e = { 0 };
	char **names;

	json_object_object_add(o, "Volumes", vols);
	json_object_object_add(o, "Warnings", json_object_new_array());
	if (volume_list(ctx->paths.root, &names, &e)) {
		json_object_put(o);
		api_reply_err(w, &e);
		return;
	}
	for (size_t i = 0; names[i]; i++) {
		struct volume v;

		if (volume_get(ctx->paths.root, names[i], &v, NULL))
			continue;	/* removed meanwhile */
		json_object_array_add(vols, volume_to_json(&v));
		volume_free(&v);
	}
	strv_free(names);
	api_reply_json(w, 200, o);
}

void api_volume_create(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *body = api_body_object(r, w);
	struct volume_create_opts o = { 0 };
	char **labels = NULL, **opts = NULL;
	struct error e = { 0 };
	struct volume v;

	if (!body)
		return;
	if (jget_string(body, "Name", false, "", &o.name, &e) || driver_ok(body, "local", &e) ||
	    key_values(body, "Labels", &labels, &e) || key_values(body, "DriverOpts", &opts, &e)) {
		api_reply_err(w, &e);
		goto out;
	}
	o.name = o.name && *o.name ? o.name : NULL;
	o.labels = (const char *const *)labels;
	o.opts = (const char *const *)opts;
	if (volume_create(ctx->paths.root, &o, &v, &e)) {
		api_reply_err(w, &e);
		goto out;
	}
	api_reply_json(w, 201, volume_to_json(&v));
	volume_free(&v);
out:
	strv_free(labels);
	strv_free(opts);
	json_object_put(body);
}

void api_volume_inspect(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct error e = { 0 };
	struct volume v;

	if (volume_get(ctx->paths.root, r->args[0], &v, &e)) {
		api_reply_err(w, &e);
		return;
	}
	api_reply_json(w, 200, volume_to_json(&v));
	volume_free(&v);
}

void api_volume_delete(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct error e = { 0 };

	if (volume_remove(ctx->paths.root, r->args[0], &e))
		api_reply_err(w, &e);
	else
		api_reply_empty(w, 204);
}

void api_networks_list(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	static const char *const keys[] = { "name", "id", "driver", "type", NULL };
	struct filters f = { .keys = keys };
	struct error e = { 0 };
	json_object *out;
	char **names;

	if (api_filters(r, &f, &e) || network_list(ctx->paths.root, &names, &e)) {
		filters_free(&f);
		api_reply_err(w, &e);
		return;
	}
	out = json_object_new_array();
	for (size_t i = 0; names[i]; i++) {
		struct network n;

		if (network_get(ctx->paths.root, names[i], &n, NULL))
			continue;
		if (filters_allow(&f, "name", n.name, FILTER_SUBSTRING) && filters_allow(&f, "id", n.id, FILTER_PREFIX))
			json_object_array_add(out, network_to_json(&n));
		network_free(&n);
	}
	strv_free(names);
	filters_free(&f);
	api_reply_json(w, 200, out);
}

/* IPAM.Config[0]'s Subnet and Gateway, if given. */
static int ipam(json_object *body, struct network_create_opts *o, struct error *e)
{
	json_object *ipam, *cfg, *first;

	if (jget_object(body, "IPAM", false, "", &ipam, e) || !ipam ||
	    jget_array(ipam, "Config", false, 1, "IPAM", &cfg, e) || !cfg || !json_object_array_length(cfg))
		return err_is_set(e) ? e->code : 0;
	first = json_object_array_get_idx(cfg, 0);
	if (!json_object_is_type(first, json_type_object))
		return err_set(e, -EINVAL, "IPAM.Config[0]: want an object");
	if (jget_string(first, "Subnet", false, "IPAM.Config[0]", &o->subnet, e) ||
	    jget_string(first, "Gateway", false, "IPAM.Config[0]", &o->gateway, e))
		return e->code;
	return 0;
}

void api_network_create(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *body = api_body_object(r, w), *o;
	struct network_create_opts opts = { 0 };
	struct error e = { 0 };
	char **labels = NULL;
	struct network n;

	if (!body)
		return;
	if (jget_string(body, "Name", true, "", &opts.name, &e) || driver_ok(body, "bridge", &e) ||
	    jget_bool(body, "Internal", "", &opts.internal, &e) || key_values(body, "Labels", &labels, &e) ||
	    ipam(body, &opts, &e)) {
		api_reply_err(w, &e);
		goto out;
	}
	opts.labels = (const char *const *)labels;
	if (network_create(ctx->paths.root, &opts, &n, &e)) {
		api_reply_err(w, &e);
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "Id", json_object_new_string(n.id));
	json_object_object_add(o, "Warning", json_object_new_string(""));
	api_reply_json(w, 201, o);
	network_free(&n);
out:
	strv_free(labels);
	json_object_put(body);
}

void api_network_inspect(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct error e = { 0 };
	struct network n;

	if (network_get(ctx->paths.root, r->args[0], &n, &e)) {
		api_reply_err(w, &e);
		return;
	}
	json_object *o = network_to_json(&n);

	json_object_object_add(o, "Containers", lan_endpoints_json(ctx->paths.runtime, &n));
	api_reply_json(w, 200, o);
	network_free(&n);
}

void api_network_delete(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct error e = { 0 };

	if (network_remove(ctx->paths.root, r->args[0], &e))
		api_reply_err(w, &e);
	else
		api_reply_empty(w, 204);
}

/* {"Container": ID, "EndpointConfig": {"Aliases": [...], "IPAMConfig": {"IPv4Address": ...}}} */
void api_network_connect(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *body = api_body_object(r, w), *ep = NULL, *ipam = NULL;
	struct network_connect_opts o = { 0 };
	const char *ctr = NULL;
	struct error e = { 0 };
	char **aliases = NULL;

	if (!body)
		return;
	if (jget_string(body, "Container", true, "", &ctr, &e) ||
	    jget_object(body, "EndpointConfig", false, "", &ep, &e) ||
	    (ep && (jget_strv(ep, "Aliases", NETCFG_MAX_LIST, "EndpointConfig", &aliases, &e) ||
		    jget_object(ep, "IPAMConfig", false, "EndpointConfig", &ipam, &e))) ||
	    (ipam && jget_string(ipam, "IPv4Address", false, "IPAMConfig", &o.ip, &e))) {
		api_reply_err(w, &e);
		goto out;
	}
	if (o.ip && !*o.ip)
		o.ip = NULL;
	o.aliases = aliases;
	if (engine_network_connect(&ctx->paths, r->args[0], ctr, &o, &e))
		api_reply_err(w, &e);
	else
		api_reply_empty(w, 200);
out:
	strv_free(aliases);
	json_object_put(body);
}

/* {"Container": ID, "Force": bool} */
void api_network_disconnect(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *body = api_body_object(r, w);
	const char *ctr = NULL;
	struct error e = { 0 };
	bool force = false;

	if (!body)
		return;
	if (jget_string(body, "Container", true, "", &ctr, &e) || jget_bool(body, "Force", "", &force, &e) ||
	    engine_network_disconnect(&ctx->paths, r->args[0], ctr, &e))
		api_reply_err(w, &e);
	else
		api_reply_empty(w, 200);
	json_object_put(body);
}
