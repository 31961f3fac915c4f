/* What this vmm is and what it runs on: vmm version, and the Engine API's /version. */
#include <json-c/json.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vmm/engine/version.h"

#ifndef VMM_VERSION
#define VMM_VERSION "0.0.0-unknown"
#endif

const char *engine_version(void)
{
	return VMM_VERSION;
}

json_object *engine_version_json(void)
{
	json_object *o = json_object_new_object();
	struct utsname u;

	uname(&u);
	json_object_object_add(o, "Version", json_object_new_string(VMM_VERSION));
	json_object_object_add(o, "Os", json_object_new_string("linux"));
	json_object_object_add(o, "Arch", json_object_new_string(strcmp(u.machine, "x86_64") ? u.machine : "amd64"));
	json_object_object_add(o, "KernelVersion", json_object_new_string(u.release));
	json_object_object_add(o, "KVM", json_object_new_boolean(access("/dev/kvm", R_OK | W_OK) == 0));
	return o;
}
