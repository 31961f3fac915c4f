/* /_ping, /version and /info. */
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "images/oci/image.h"
#include "images/oci/store.h"
#include "vmm/api/api.h"
#include "vmm/base/error.h"
#include "vmm/engine/container.h"
#include "vmm/engine/version.h"

void api_ping(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	w->status = 200;
	w->raw = strdup("OK");
	w->raw_len = w->raw ? 2 : 0;
	w->content_type = "text/plain; charset=utf-8";
}

/* Copy field key of from into to. */
static void copy_field(json_object *to, const char *key, json_object *from, const char *from_key)
{
	json_object *v;

	if (json_object_object_get_ex(from, from_key, &v))
		json_object_object_add(to, key, json_object_get(v));
}

void api_version(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *v = engine_version_json(), *o = json_object_new_object();
	json_object *platform = json_object_new_object(), *comps = json_object_new_array();
	json_object *engine = json_object_new_object(), *details = json_object_new_object();

	json_object_object_add(platform, "Name", json_object_new_string("vmm (KVM micro-VMs)"));
	json_object_object_add(o, "Platform", platform);
	json_object_object_add(engine, "Name", json_object_new_string("Engine"));
	copy_field(engine, "Version", v, "Version");
	json_object_object_add(details, "ApiVersion", json_object_new_string(API_VERSION));
	json_object_object_add(details, "MinAPIVersion", json_object_new_string(API_MIN_VERSION));
	copy_field(details, "Os", v, "Os");
	copy_field(details, "Arch", v, "Arch");
	copy_field(details, "KernelVersion", v, "KernelVersion");
	json_object_object_add(engine, "Details", details);
	json_object_array_add(comps, engine);
	json_object_object_add(o, "Components", comps);
	copy_field(o, "Version", v, "Version");
	json_object_object_add(o, "ApiVersion", json_object_new_string(API_VERSION));
	json_object_object_add(o, "MinAPIVersion", json_object_new_string(API_MIN_VERSION));
	json_object_object_add(o, "GitCommit", json_object_new_string(""));
	json_object_object_add(o, "GoVersion", json_object_new_string("none (C)"));
	copy_field(o, "Os", v, "Os");
	copy_field(o, "Arch", v, "Arch");
	copy_field(o, "KernelVersion", v, "KernelVersion");
	json_object_put(v);
	api_reply_json(w, 200, o);
}

/* How many distinct images the store holds; -1 when it cannot be read. */
static int count_images(const char *root)
{
	struct error e = { 0 };
	struct image_entry *v;
	struct store *s;
	size_t n, distinct = 0;

	if (store_open(root, &s, &e))
		return -1;
	if (image_entries(s, &v, &n, &e)) {
		store_close(s);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(v[i].digest, v[j].digest);
		distinct += !seen;
	}
	image_entries_free(v, n);
	store_close(s);
	return (int)distinct;
}

void api_info(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *o = json_object_new_object(), *v = engine_version_json(), *rt = json_object_new_object();
	json_object *swarm = json_object_new_object();
	struct container **list;
	struct error e = { 0 };
	struct sysinfo si;
	char host[256] = "";
	size_t n;
	int running = 0, paused = 0, stopped = 0;

	if (container_list(ctx->paths.root, &list, &n, &e)) {
		json_object_put(o);
		json_object_put(v);
		json_object_put(rt);
		json_object_put(swarm);
		api_reply_err(w, &e);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct container_state st;

		container_effective_state(list[i], &st);
		running += st.status == CONTAINER_RUNNING && !st.paused;	/* docker counts apart */
		paused += st.status == CONTAINER_RUNNING && st.paused;
		stopped += st.status == CONTAINER_EXITED;
	}
	container_list_free(list, n);
	gethostname(host, sizeof(host) - 1);
	sysinfo(&si);
	json_object_object_add(o, "ID", json_object_new_string(host));
	json_object_object_add(o, "Containers", json_object_new_int((int)n));
	json_object_object_add(o, "ContainersRunning", json_object_new_int(running));
	json_object_object_add(o, "ContainersPaused", json_object_new_int(paused));
	json_object_object_add(o, "ContainersStopped", json_object_new_int(stopped));
	json_object_object_add(o, "Images", json_object_new_int(count_images(ctx->paths.root)));
	json_object_object_add(o, "Driver", json_object_new_string("qcow2"));
	json_object_object_add(o, "Name", json_object_new_string(host));
	json_object_object_add(o, "OperatingSystem", json_object_new_string("vmm: each container in its own KVM micro-VM"));
	json_object_object_add(o, "OSType", json_object_new_string("linux"));
	copy_field(o, "Architecture", v, "Arch");
	copy_field(o, "KernelVersion", v, "KernelVersion");
	copy_field(o, "ServerVersion", v, "Version");
	copy_field(o, "KVM", v, "KVM");
	json_object_object_add(o, "NCPU", json_object_new_int((int)sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(o, "MemTotal", json_object_new_int64((int64_t)si.totalram * si.mem_unit));
	json_object_object_add(o, "DockerRootDir", json_object_new_string(ctx->paths.root));
	json_object_object_add(rt, "vmm", json_object_new_object());
	json_object_object_add(o, "Runtimes", rt);
	json_object_object_add(o, "DefaultRuntime", json_object_new_string("vmm"));
	json_object_object_add(o, "Isolation", json_object_new_string("kvm"));
	json_object_object_add(swarm, "LocalNodeState", json_object_new_string("inactive"));
	json_object_object_add(o, "Swarm", swarm);
	json_object_object_add(o, "SecurityOptions", json_object_new_array());
	json_object_put(v);
	api_reply_json(w, 200, o);
}
