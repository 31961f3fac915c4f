/* Internals shared by runner.c (the VM and main process) and runner-ctl.c (the control socket). */
#ifndef VMM_ENGINE_RUNNER_INTERNAL_H
#define VMM_ENGINE_RUNNER_INTERNAL_H

#include <stdbool.h>
#include <termios.h>

#include "guest-agent/protocol.h"
#include "vmm/confine.h"
#include "vmm/engine/container-mounts.h"
#include "vmm/engine/lan.h"
#include "vmm/engine/logfile.h"
#include "vmm/machine/machine.h"
#include "vmm/engine/runner.h"

/* An OCI bundle's root folder: the first shared folder, by this tag */
#define RUNNER_ROOT_TAG		"vmmfs0"

/* console.log: the guest kernel's messages; more is a flood, kept out of the store */
#define RUNNER_CONSOLE_MAX	(8ULL << 20)

struct agent_client;
struct agent_proc;
struct container;
struct ctl_client;
struct error;

struct runner {
	const struct paths *paths;
	struct container *ct;
	struct runner_opts opts;
	struct machine *m;
	/* What the machine is made of (describe_machine). */
	char disk_path[4096], disk_dir[4096];
	const char *trusted[2];
	struct machine_disk_config disk;
	struct machine_vsock_config vsock_cfg;
	struct machine_net_config net_cfg;
	/* Shared folders and mounts (runner-mounts.c). */
	struct machine_share_config shares[MACHINE_MAX_SHARES];
	char share_tags[MACHINE_MAX_SHARES][16];
	char share_socks[MACHINE_MAX_SHARES][108];
	unsigned share_of[CONTAINER_MOUNTS_MAX];	/* mount i's share */
	unsigned nshares;
	char share_dir[4096];		/* $VMM_RUNTIME/<id>: the daemons' sockets */
	char virtiofsd[4096];
	struct proto_mount mounts[CONTAINER_MOUNTS_MAX];
	char mount_opts[CONTAINER_MOUNTS_MAX][64];
	char **net_hosts, **net_dns;	/* spec strings we made (runner-net.c) */
	/* On user networks while we run (lan[i].fd -1: not): the first is net.network, then the
	 * more ones; a network joined while running takes a free slot (eth0:i in the guest). */
	struct lan_endpoint lan[NETCFG_MAX_NETWORKS];
	struct machine_lan_config lan_cfg[NETCFG_MAX_NETWORKS];
	char net_extra[NETCFG_MAX_NETWORKS * 20];	/* the agent's net_extra */
	char **lan_links;		/* --link's aliases for our DNS: "ALIAS ID" */
	struct agent_client *agent;
	struct agent_proc *main;	/* the container's main process, while it runs */
	int main_pid;
	bool main_started;
	bool run_sent;
	bool held;			/* opts.hold: booted, the process not sent yet */
	char snap_key[65];
	bool snap_save;		/* cold boot: save a snapshot at the agent's first HELLO */
	bool signalled;
	struct logfile log;
	int pipe_rd[2], pipe_wr[2];	/* container stdout/stderr, indexed by enum log_stream */
	int ctl_fd;
	char ctl_path[256];
	struct ctl_client *clients;
	int stop_timer_fd;
	int timeout_fd;		/* --timeout's timer, from the process's start; -1: none */
	int status;		/* vmm's exit status so far */
	char error[512];
	bool tty_raw;
	struct termios saved_tio;
	enum confine_mode confine;	/* $VMM_CONFINE */
};

/* The machine's confine hook (vm_start): r's VMM keeps its folders only, no capabilities, a filter. */
int runner_confine(void *opaque, struct error *e);
/*
 * Fork run (the VMM) and wait for it, passing on signals; its state reloaded
 * after, or set to exited if it died of a signal. run's status, or 128+n.
 */
int runner_supervised(const struct paths *paths, struct container *ct, const struct runner_opts *opts,
		      int (*run)(const struct paths *, struct container *, const struct runner_opts *, pid_t));

/* End the VM with status after a failure, telling a waiting `run -d` why. */
void runner_fail(struct runner *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Send the agent the container's process (the agent is ready; with opts.hold, at "start"). */
void runner_begin(struct runner *r);
/* The RUN spec of the container (strings borrowed from its config; free the arrays only). */
void runner_spec(struct runner *r, struct proto_spec *spec);
void runner_spec_free(struct proto_spec *spec);
/* Forward our terminal's size to the main process (tty, attached). */
void runner_send_winsize(struct runner *r);

/*
 * runner-net.c: the machine's network interface (NULL: none), the published
 * ports (after the machine is made, before boot), the spec's network fields.
 */
const struct machine_net_config *runner_net_config(struct runner *r);
int runner_net_publish(struct runner *r, struct error *e);
/* A user network: join it before the machine is made (address, names), leave it after. */
int runner_net_join(struct runner *r, struct error *e);
void runner_net_leave(struct runner *r);
/*
 * runner-lan.c, while the container runs: join network (a free slot, whose
 * number is *slot: the agent is told next), leave one (not the first), or
 * undo a join the guest refused. 0, or -errno with e.
 */
int runner_lan_connect(struct runner *r, const char *network, const char *ip, char *const *aliases, int *slot,
		       struct error *e);
int runner_lan_disconnect(struct runner *r, const char *network, struct error *e);
int runner_lan_leave_slot(struct runner *r, int slot, struct error *e);
/* state.json's addresses on the networks we are on now. */
void runner_net_state(struct runner *r);
/* One network's place, as the machine takes it. */
void runner_lan_config(const struct lan_endpoint *ep, struct machine_lan_config *out);
/* The agent's net_extra for lan[1...]: eth0:1, eth0:2... */
const char *runner_net_extra(struct runner *r);
void runner_net_spec(struct runner *r, struct proto_spec *spec);
void runner_net_free(struct runner *r);

/* runner-netns.c: enter config.netns (if any) with our tap redirected to its interface. 0 or -errno with e. */
int runner_netns_enter(struct runner *r, struct error *e);

/* runner-mounts.c: the machine's shared folders for the mounts, and the spec's mounts. */
int runner_mounts_config(struct runner *r, struct machine_config *mc, struct error *e);
void runner_mounts_spec(struct runner *r, struct proto_spec *spec);
void runner_mounts_free(struct runner *r);

int runner_ctl_start(struct runner *r, struct error *e);
void runner_ctl_stop(struct runner *r);

#endif
