/*
 * The <vmm:container> metadata that `vmm inspect --format libvirt` writes:
 * what makes a domain a container (image, command, environment, ports,
 * mounts). A domain that carries it runs as that container again
 * (lifecycle.h). The metadata comes back from users and libvirt, so it is
 * read as hostile: bounded, every value checked again by the engine.
 */
#ifndef VMM_DOMAIN_META_H
#define VMM_DOMAIN_META_H

#include "vmm/domain/domain.h"

#define DOMAIN_CONTAINER_XMLNS	"https://vmm.dev/xmlns/container/1"

struct domain_container {
	char *id;			/* the container's ID when dumped (64 hex digits) */
	char *name;
	char *image, *image_id;		/* as the user named it; its ID */
	char *workdir, *user, *hostname;	/* NULL: not given */
	char **argv, **env;		/* NULL-terminated; argv is the whole command line */
	char **ports;			/* -p specs: [IP:][HOSTPORT:]PORT/PROTO */
	char **volumes;			/* -v specs: SOURCE|NAME:TARGET[:ro] */
	char **tmpfs;			/* --tmpfs targets */
};

/*
 * Read d's <vmm:container>. 0 with c filled, -ENOENT when d has none (a plain
 * VM), -EINVAL or -ENOMEM with e for a malformed one.
 */
int domain_container_read(const struct domain_def *d, struct domain_container *c, struct error *e);
void domain_container_free(struct domain_container *c);

#endif
