/* docker info's data: the containers by state, the images, the host. */
#ifndef VMM_ENGINE_INFO_H
#define VMM_ENGINE_INFO_H

#include <json-c/json.h>

struct error;

/*
 * The Engine API's /info object (ID, Containers, ContainersRunning,
 * ContainersPaused, ContainersStopped, Images, Driver, ServerVersion, NCPU,
 * MemTotal, DockerRootDir, KVM...) for the store at root; NULL with e when
 * its containers cannot be listed.
 */
json_object *engine_info_json(const char *root, struct error *e);

#endif
