/* Where the engine keeps things: the only global knowledge an engine call needs. */
#ifndef VMM_ENGINE_PATHS_H
#define VMM_ENGINE_PATHS_H

struct paths {
	const char *root;	/* images, disks, containers, snapshots: $VMM_ROOT, /var/lib/vmm... */
	const char *runtime;	/* running containers' control sockets: $VMM_RUNTIME, /run/vmm... */
};

#endif
