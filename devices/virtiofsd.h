/*
 * The backend of a shared folder: one virtiofsd per share per VM, the
 * well-kept vhost-user-fs daemon (QEMU's C one in Debian 12 at
 * /usr/lib/qemu/virtiofsd, the Rust one elsewhere at /usr/libexec/virtiofsd;
 * both are understood). It runs in its own namespace sandbox; a read-only
 * share is also a read-only bind mount in a mount namespace of its own, so
 * the host kernel refuses writes whatever the guest asks. It dies with vmm,
 * kill -9 included (PR_SET_PDEATHSIG).
 */
#ifndef VMM_DEVICES_VIRTIOFSD_H
#define VMM_DEVICES_VIRTIOFSD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vmm/base/error.h"

#define VIRTIOFSD_START_TIMEOUT_MS	10000

struct virtiofsd_config {
	const char *binary;		/* from virtiofsd_find() */
	const char *shared_dir;
	const char *socket_path;	/* created by the daemon; removed first if left over */
	bool read_only;
	const char *log_path;		/* the daemon's stderr; NULL: discarded */
};

struct virtiofsd;

/*
 * The daemon to use: override (--virtiofsd), else $VMM_VIRTIOFSD, else the
 * Debian locations. 0 with path filled, or -ENOENT with e saying what to install.
 */
int virtiofsd_find(const char *override, char *path, size_t len, struct error *e);
/* Start it and wait until its socket is there. 0, or -errno with e set (the daemon gone). */
int virtiofsd_start(const struct virtiofsd_config *cfg, struct virtiofsd **out, struct error *e);
pid_t virtiofsd_pid(const struct virtiofsd *d);
/* SIGTERM, then SIGKILL after a grace period; reaps it and removes the socket. */
void virtiofsd_stop(struct virtiofsd *d);

#endif
