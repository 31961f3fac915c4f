/*
 * The vmm process that runs one container: boots its VM (agent initramfs,
 * the container's overlay disk, vsock), hands the agent the process spec,
 * streams stdio (to the terminal when attached, always to container.log),
 * serves the control socket ($VMM_RUNTIME/<id>/ctl.sock) for stop, kill,
 * exec, cp and top, keeps state.json current and holds the run lock.
 */
#ifndef VMM_ENGINE_RUNNER_H
#define VMM_ENGINE_RUNNER_H

#include <stdbool.h>

#include "vmm/engine/paths.h"

struct container;
struct error;
struct net_config;

struct runner_opts {
	bool attach;		/* stdio is the terminal's (foreground run / start -a) */
	bool interactive;	/* forward our stdin (-i) */
	int ready_fd;		/* -d: write "ok\n" or the error line here once started; else -1 */
	bool cold;		/* never use a snapshot */
	int out_fds[2];		/* attached: where stdout and stderr go; 0: our own 1 and 2 */
	bool hold;		/* boot, say ready, then wait for the control socket's "start" to run the
				 * process (`vmm oci create`); the state says created, with our pid */
};

/*
 * Run the container until its main process exits. Returns vmm's exit status:
 * the container's, or 125 (vmm failed), 126/127 (command not runnable).
 * The container must be locked by the caller (container_lock).
 */
int runner_run(const struct paths *paths, struct container *ct, const struct runner_opts *opts);

/*
 * Before boot (and before `vmm run` creates anything): are the published host
 * ports free, is the tap device there and ours, does the network exist? 0, or
 * -errno with e naming the port and its holder, or the device and what to do.
 */
int runner_net_check(const char *root, const struct net_config *n, struct error *e);
/* One more network to join: it exists, ip (NULL: none) is one of its hosts. */
int runner_net_check_one(const char *root, const char *network, const char *ip, struct error *e);
/* Can a container with this network config start at all? -ENOTSUP with e saying why not. */

/* Paths of the guest payloads: next to the vmm binary, or $VMM_KERNEL / $VMM_AGENT_INITRD. */
int runner_kernel_path(char *buf, size_t len);
int runner_initrd_path(char *buf, size_t len);

#endif
