/*
 * state.json round trips (vmm/engine/container.c): what a supervisor reads
 * back after its VMM exited is what the VMM wrote, absent fields included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/error.h"
#include "vmm/engine/container.h"
#include "tests/unit/tap.h"

int main(void)
{
	char dir[] = "/tmp/vmm-state.XXXXXX", root[300], cmdline[400];
	char *cmd[] = { (char *)"true", NULL };
	struct container_config cfg = { .name = (char *)"st", .image = (char *)"sha256:0", .argv = cmd };
	struct container *ct;
	struct error e = { 0 };

	if (!mkdtemp(dir))
		return 1;
	snprintf(root, sizeof(root), "%s/root", dir);
	memset(cfg.id, 'b', CONTAINER_ID_LEN);
	if (container_create(root, &cfg, &ct, &e)) {
		ok(0, "a container record: %s", e.msg);
		return tap_done();
	}
	/* exited 3, never restarted: state.json has no RestartCount */
	ct->state = (struct container_state){ .status = CONTAINER_EXITED, .exit_code = 3, .finished_ns = 7 };
	container_save_state(ct);
	ct->state.restart_count = 99;	/* the reader's stale copy */
	ok(container_reload_state(ct) == 0, "reload: state.json read back");
	ok(ct->state.restart_count == 0 && ct->state.exit_code == 3 && ct->state.status == CONTAINER_EXITED,
	   "reload: no RestartCount in the file is 0 restarts, not another field's value (got %u, exit %d)",
	   ct->state.restart_count, ct->state.exit_code);
	ct->state = (struct container_state){ .status = CONTAINER_EXITED, .restart_count = 2 };
	container_save_state(ct);
	ct->state.restart_count = 0;
	container_reload_state(ct);
	ok(ct->state.restart_count == 2 && ct->state.exit_code == 0 && ct->state.pid == 0,
	   "reload: RestartCount 2 with no ExitCode or Pid: 2, 0, 0");
	container_free(ct);
	snprintf(cmdline, sizeof(cmdline), "rm -rf %s", dir);
	if (system(cmdline) != 0)
		ok(0, "cleanup of %s", dir);
	return tap_done();
}
