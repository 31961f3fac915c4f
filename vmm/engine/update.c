#include <errno.h>

#include "vmm/base/error.h"
#include "vmm/engine/container.h"
#include "vmm/engine/create.h"
#include "vmm/engine/paths.h"
#include "vmm/engine/update.h"

int engine_update(const struct paths *p, const char *ref, const struct update_opts *o, struct error *e)
{
	struct container *ct;
	int ret = container_open(p->root, ref, &ct, e);

	if (ret)
		return ret;
	if ((o->memory || o->cpus > 0 || o->pids_set) && container_is_running(ct)) {
		container_free(ct);
		return err_set(e, -EBUSY, "container %s is running: its micro-VM's memory, CPUs and process limit "
			       "are fixed while it runs; stop it, update it, and start it again", ref);
	}
	if (o->restart_set) {
		if (o->restart.mode != RESTART_NO && ct->cfg.auto_remove) {
			container_free(ct);
			return err_set(e, -EINVAL, "container %s: a restart policy cannot be set on a container "
				       "started with --rm", ref);
		}
		ct->cfg.restart = o->restart;
	}
	if (o->memory)
		create_set_memory(&ct->cfg, o->memory);
	if (o->cpus > 0)
		create_set_cpus(&ct->cfg, o->cpus);
	if (o->pids_set)
		ct->cfg.pids_limit = o->pids_limit;
	if ((ret = container_save_config(ct)))
		err_sys(e, ret, "container %s: cannot write its configuration", ref);
	container_free(ct);
	return ret;
}
