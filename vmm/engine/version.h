/* vmm's version and the host it runs on. */
#ifndef VMM_ENGINE_VERSION_H
#define VMM_ENGINE_VERSION_H

#include <json-c/json.h>

/* "1.2.3-4-gabcdef" (git describe at build time). */
const char *engine_version(void);
/* {Version, Os, Arch, KernelVersion, KVM}: vmm version -f's fields. */
json_object *engine_version_json(void);

#endif
