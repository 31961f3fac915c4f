/* A container's VM written as a libvirt domain (vmm inspect --format libvirt). */
#ifndef VMM_DOMAIN_CONTAINER_H
#define VMM_DOMAIN_CONTAINER_H

#include "vmm/domain/domain.h"

struct container;

/*
 * Fill d with what vmm runs for ct (kernel, initrd, memory, vCPUs, its disk
 * and backing file, network, vsock, rng, console log), and the container's
 * facts as <vmm:container> metadata. 0, or -errno with e set (d is freed).
 */
int domain_from_container(const struct container *ct, struct domain_def *d, struct error *e);

#endif
