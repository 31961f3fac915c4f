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

/* Their command lines differ: QEMU's C daemon takes "-o source=DIR", the Rust one "--shared-dir DIR". */
enum virtiofsd_flavour { VIRTIOFSD_UNKNOWN, VIRTIOFSD_QEMU, VIRTIOFSD_RUST };

struct virtiofsd_config {
	const char *binary;		/* from virtiofsd_find() */
	enum virtiofsd_flavour flavour;	/* from virtiofsd_probe(); UNKNOWN: virtiofsd_start probes */
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
/*
 * Which daemon binary is: asked once with `binary --help` (the Rust one lists
 * --shared-dir, QEMU's "-o source="), else guessed from the path ("/qemu/").
 * Cheap, but an exec: callers keep the answer for the daemons they start.
 */
enum virtiofsd_flavour virtiofsd_probe(const char *binary);
/* The decision on the help text alone (NULL: no output), the path as the fallback. */
enum virtiofsd_flavour virtiofsd_flavour_of(const char *help, const char *binary);
/* "QEMU's C virtiofsd" or "the Rust virtiofsd", for messages. */
const char *virtiofsd_flavour_name(enum virtiofsd_flavour f);
/* Start it and wait until its socket is there. 0, or -errno with e set (the daemon gone). */
int virtiofsd_start(const struct virtiofsd_config *cfg, struct virtiofsd **out, struct error *e);
pid_t virtiofsd_pid(const struct virtiofsd *d);
/* SIGTERM, then SIGKILL after a grace period; reaps it and removes the socket. */
void virtiofsd_stop(struct virtiofsd *d);

#endif
