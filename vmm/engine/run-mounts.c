/* vmm run's mount flags (see run-mounts.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/strv.h"
#include "vmm/engine/run-mounts.h"

int run_mount_option(struct run_mount_opts *o, int c, const char *arg, struct error *e)
{
	int (*parse)(const char *, struct mount_spec *, struct error *);
	enum mount_flag flag;

	switch (c) {
	case RUN_MOUNT_OPT_VOLUME: parse = mount_parse_volume; flag = MOUNT_FLAG_VOLUME; break;
	case RUN_MOUNT_OPT_MOUNT: parse = mount_parse_mount; flag = MOUNT_FLAG_MOUNT; break;
	case RUN_MOUNT_OPT_TMPFS: parse = mount_parse_tmpfs; flag = MOUNT_FLAG_TMPFS; break;
	case RUN_MOUNT_OPT_VIRTIOFSD:
		if (!*arg)
			return err_set(e, -EINVAL, "--virtiofsd: give the path of a virtiofsd");
		o->virtiofsd = arg;
		return 0;
	case RUN_MOUNT_OPT_VOLUMES_FROM:
		return strv_push(&o->volumes_from, arg) ? err_set(e, -ENOMEM, "out of memory") : 0;
	default:
		return 1;
	}
	if (o->nspecs == CONTAINER_MOUNTS_MAX)
		return err_set(e, -E2BIG, "at most %d mounts per container", CONTAINER_MOUNTS_MAX);
	if (parse(arg, &o->specs[o->nspecs], e))
		return -EINVAL;
	o->specs[o->nspecs].flag = flag;
	if (!(o->specs[o->nspecs++].spec = strdup(arg)))
		return err_set(e, -ENOMEM, "out of memory");
	return 0;
}

void run_mount_opts_free(struct run_mount_opts *o)
{
	for (unsigned i = 0; i < o->nspecs; i++)
		mount_spec_free(&o->specs[i]);
	strv_free(o->volumes_from);
}
