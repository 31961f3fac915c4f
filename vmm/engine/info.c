/* docker info's data (info.h). */
#include <stdbool.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "images/oci/image.h"
#include "images/oci/store.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"
#include "vmm/engine/container.h"
#include "vmm/engine/info.h"
#include "vmm/engine/version.h"

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

json_object *engine_info_json(const char *root, struct error *e)
{
	json_object *o = json_object_new_object(), *v = engine_version_json(), *rt = json_object_new_object();
	json_object *swarm = json_object_new_object();
	struct container **list;
	struct sysinfo si;
	char host[256] = "";
	size_t n;
	int running = 0, paused = 0, stopped = 0;

	if (container_list(root, &list, &n, e)) {
		json_object_put(o);
		json_object_put(v);
		json_object_put(rt);
		json_object_put(swarm);
		return NULL;
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
	json_object_object_add(o, "Images", json_object_new_int(count_images(root)));
	json_object_object_add(o, "Driver", json_object_new_string("qcow2"));
	json_object_object_add(o, "Name", json_object_new_string(host));
	json_object_object_add(o, "OperatingSystem", json_object_new_string("vmm: each container in its own KVM micro-VM"));
	json_object_object_add(o, "OSType", json_object_new_string("linux"));
	json_copy_field(o, "Architecture", v, "Arch");
	json_copy_field(o, "KernelVersion", v, "KernelVersion");
	json_copy_field(o, "ServerVersion", v, "Version");
	json_copy_field(o, "KVM", v, "KVM");
	json_object_object_add(o, "NCPU", json_object_new_int((int)sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(o, "MemTotal", json_object_new_int64((int64_t)si.totalram * si.mem_unit));
	json_object_object_add(o, "DockerRootDir", json_object_new_string(root));
	json_object_object_add(rt, "vmm", json_object_new_object());
	json_object_object_add(o, "Runtimes", rt);
	json_object_object_add(o, "DefaultRuntime", json_object_new_string("vmm"));
	json_object_object_add(o, "Isolation", json_object_new_string("kvm"));
	json_object_object_add(swarm, "LocalNodeState", json_object_new_string("inactive"));
	json_object_object_add(o, "Swarm", swarm);
	json_object_object_add(o, "SecurityOptions", json_object_new_array());
	json_object_put(v);
	return o;
}
