/*
 * A VMM process shuts itself in, the three steps in their order
 * (docs/sandbox.md): its own view of files, no capabilities, the event
 * loop's allow-list. Every front door that runs a VM (a container's
 * runner, a domain, vmm boot) hooks this into vm_start.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/confine.h"

int confine_mode(enum confine_mode *mode, struct error *e)
{
	const char *v = getenv("VMM_CONFINE");

	if (!v || !*v || !strcmp(v, "on"))
		*mode = CONFINE_ON;
	else if (!strcmp(v, "log"))
		*mode = CONFINE_LOG;
	else if (!strcmp(v, "off"))
		*mode = CONFINE_OFF;
	else
		return err_set(e, -EINVAL, "VMM_CONFINE=%s: use on (the default), log or off", v);
	return 0;
}

int confine_vmm(const struct confine_vmm *c, struct error *e)
{
	/* libslirp reads the host's resolvers as the guest asks 10.0.2.3 */
	const char *files[] = { "/dev/null", "/dev/urandom", c->loop.inet ? "/etc/resolv.conf" : NULL, NULL };
	int ret = confine_jail(&(struct confine_jail){ .dirs = c->dirs, .files = files }, e);

	if (ret > 0) {	/* what the host allows is still done: no capabilities, the filter */
		pr_warn("%s: its VMM keeps the host's view of files: %s", c->who, e->msg);
		*e = (struct error){ 0 };
		ret = 0;
	}
	if (ret || (ret = confine_drop_caps(e)) || (ret = confine_loop_thread(&c->loop, e)))
		return err_wrap(e, ret, "confining the VMM (VMM_CONFINE=off runs it unconfined)");
	return 0;
}

int confine_vmm_hook(void *confine_vmm_arg, struct error *e)
{
	return confine_vmm(confine_vmm_arg, e);
}
