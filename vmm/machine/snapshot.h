/*
 * Warm start: a booted, agent-ready VM saved once and restored for each
 * `vmm run`. A snapshot lives in $VMM_ROOT/snapshots/<key>/:
 *   state    vCPUs, interrupt controllers, devices (vmm/snapfile.h format)
 *   memory   guest RAM, mapped MAP_PRIVATE by restores (lazy, shared, copy-on-write)
 * The key hashes everything the saved guest depends on: the kernel and agent
 * files, RAM size, vCPU count, host quirks and the device list. Any change
 * gives another key, so a snapshot never meets a VM of another shape.
 */
#ifndef VMM_MACHINE_SNAPSHOT_H
#define VMM_MACHINE_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/snapfile.h"

struct error;
struct machine;
struct machine_config;

/*
 * The key of the machine cfg describes: kernel and initrd (their contents),
 * RAM, vCPUs, host quirks, the device list. 0 or -errno.
 */
int snapshot_key(const struct machine_config *cfg, char key[SNAP_KEY_LEN + 1]);
/* $VMM_ROOT/snapshots[/<key>] */
int snapshot_dir(const char *root, const char *key, char *buf, size_t len);
/*
 * Is there a snapshot for key whose state file verifies? A corrupt one (or
 * one of another vmm version) is removed, and why says so.
 */
bool snapshot_usable(const char *root, const char *key, struct error *why);

/*
 * Pause the running VM, save it under key (atomically: a temp directory
 * renamed into place; losing a race to another process is fine), resume.
 * Called on the loop thread. 0 or -errno with e.
 */
int snapshot_save(struct machine *m, const char *root, const char *key, struct error *e);
/*
 * Restore a machine created with cfg.mem_file = the snapshot's memory and the
 * same devices in the same order, then start its vCPUs (instead of
 * machine_boot). 0 or -errno with e.
 */
int snapshot_restore(struct machine *m, const char *root, const char *key, struct error *e);
/* Remove one snapshot (key) or all of them (key NULL). */
int snapshot_remove(const char *root, const char *key);

#endif
