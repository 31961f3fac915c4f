/*
 * Containers on disk: $VMM_ROOT/containers/<id>/ holds config.json (what to
 * run, written once), state.json (status, written atomically by the vmm
 * process that runs it), disk.qcow2 (the overlay on the image's base disk),
 * console.log and container.log (stdout/stderr, docker's json-file format).
 *
 * The vmm process running a container holds an exclusive flock on
 * containers/<id>/lock for its whole life: when it dies, even by SIGKILL,
 * the lock goes with it, so a "running" state without the lock is a
 * container whose vmm crashed. Nobody is ever shown as a ghost "running".
 */
#ifndef VMM_ENGINE_CONTAINER_H
#define VMM_ENGINE_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "guest-agent/protocol.h"
#include "vmm/engine/container-mounts.h"
#include "vmm/engine/logfile.h"
#include "vmm/engine/netcfg.h"
#include "vmm/engine/restart.h"

struct error;

#define CONTAINER_ID_LEN 64

enum container_status { CONTAINER_CREATED, CONTAINER_RUNNING, CONTAINER_EXITED };

/* What runs; fixed at create time. Strings and arrays are owned (container_config_free). */
struct container_config {
	char id[CONTAINER_ID_LEN + 1];
	char *name;
	char *image;		/* config digest "sha256:..." (the image ID) */
	char *image_name;	/* as the user gave it */
	int64_t created;	/* unix seconds */
	char **argv;		/* resolved entrypoint + cmd, NULL-terminated */
	char **env;		/* KEY=VALUE, NULL-terminated */
	char *workdir;
	char *user;
	char **groups;		/* supplementary groups (docker's --group-add), NULL-terminated or NULL */
	char *hostname;
	char **labels;		/* "KEY=VALUE", NULL-terminated or NULL */
	bool tty;
	bool interactive;
	bool stdin_once;		/* docker's StdinOnce: the attached client's EOF closes stdin */
	bool read_only;
	bool auto_remove;
	struct restart_policy restart;	/* --restart */
	bool init;		/* --init: an init as the container's PID 1 */
	uint64_t memory;	/* bytes, 0: no limit */
	uint64_t vm_memory;	/* guest RAM in bytes */
	unsigned vcpus;
	uint64_t cpu_quota;	/* cpu.max quota per 100000 us, 0: no limit */
	int64_t pids_limit;	/* 0: no limit */
	struct log_opts log;	/* --log-opt */
	int64_t timeout_ns;	/* --timeout: the process's time before the VM is stopped; 0: none */
	uint64_t storage_size;	/* --storage-opt size: the root disk's bytes; 0: the default */
	struct net_config net;	/* network mode, published ports, DNS, hosts */
	struct container_mount *mounts;	/* volumes, bind mounts, tmpfs (container-mounts.h) */
	unsigned nmounts;
	char *virtiofsd;	/* --virtiofsd: the daemon for its shares (absolute), NULL: found at start */
	char *rootfs;		/* an OCI bundle's root folder (absolute), shared into the guest as its
				 * root (virtio-fs); NULL: the image's disk (disk.qcow2) */
	/* An OCI process's privileges (proto_spec's): capability sets when caps_set, rlimits
	 * ("RESOURCE SOFT HARD"; NULL: none), no_new_privs. */
	char *netns;		/* an engine's network namespace to run in (absolute path), NULL: ours */
	char *netns_if;		/* its interface the VM's tap is redirected to and from (net.tap) */
	bool caps_set;
	uint64_t caps[PROTO_CAP_SETS];
	char **rlimits;
	bool no_new_privs;
};

#define STORAGE_SIZE_MIN (16ULL << 20)	/* --storage-opt size: the least root disk */
#define STORAGE_SIZE_MAX (16ULL << 40)	/* and the most (ext4 without 64-bit block numbers) */

struct container_state {
	enum container_status status;
	int pid;		/* of the vmm process, while running */
	int64_t started_ns, finished_ns;	/* realtime ns, 0 if never */
	int exit_code;
	bool oom_killed;
	bool paused;		/* running, its vCPUs parked by vmm pause */
	unsigned restart_count;	/* runs its restart policy started */
	bool restarting;	/* exited; its vmm process waits to run it again */
	bool manual_stop;	/* the last run ended by vmm stop or kill: no restart */
	char error[256];
	/* While running: the published ports as bound (free ports picked at start). */
	struct port_binding ports[NETCFG_MAX_PORTS];
	unsigned nports;
	char ip[16], gateway[16];	/* on a user network: its address (or its last) and gateway */
	/* While running: its place on each more network (net.more), by the name configured */
	struct container_lan {
		char network[65], ip[16], gateway[16];
	} lans[NETCFG_MAX_NETWORKS - 1];
	unsigned nlans;
};

struct container {
	char *dir;		/* $VMM_ROOT/containers/<id> */
	struct container_config cfg;
	struct container_state state;
	int lock_fd;		/* held while we run it, else -1 */
};

/* Give the container ref another name (unused, valid). 0 or -errno with e. */
int container_rename(const char *root, const char *ref, const char *name, struct error *e);
/* A fresh random 64-hex ID. */
int container_new_id(char id[CONTAINER_ID_LEN + 1]);
/* A docker-like random name ("brave_turing"). */
void container_new_name(char *buf, size_t len);
/* Docker's name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool container_name_valid(const char *name);

/*
 * 0 when no container is called name, else -EEXIST with docker's message. A
 * hint only: container_create checks again under the lock.
 */
int container_name_free(const char *root, const char *name, struct error *e);
/*
 * Create containers/<id>/ with config.json and a "created" state, after
 * checking the name is free (under the containers lock). -EEXIST names a clash.
 */
int container_create(const char *root, const struct container_config *cfg, struct container **out,
		     struct error *e);
/* Find by full ID, unique ID prefix or name. -ENOENT, or -EINVAL when ambiguous; e says which. */
int container_open(const char *root, const char *ref, struct container **out, struct error *e);
/* Every container, sorted by creation time (newest first). */
int container_list(const char *root, struct container ***out, size_t *n, struct error *e);
void container_free(struct container *c);
void container_list_free(struct container **list, size_t n);

/* Take the run lock (the caller becomes the vmm process running it). -EBUSY when running. */
int container_lock(struct container *c);
/*
 * Keep it from starting while its disk is read (vmm diff, export): the run lock, shared,
 * in *fd (close it to let go). -EBUSY while a vmm process runs it. Others still see it
 * stopped.
 */
int container_lock_shared(const struct container *c, int *fd);
/* Is a vmm process holding the run lock right now? */
bool container_is_running(const struct container *c);
/* The state to show: a "running" state without a live vmm becomes exited (137). */
void container_effective_state(const struct container *c, struct container_state *st);
int container_save_state(struct container *c);
/* Write config.json again after a change (network connect): 0 or -errno. */
int container_save_config(struct container *c);
/* SIGKILL the vmm process running it and wait until its run lock is free. */
int container_kill(struct container *c);
/* Block until no vmm process runs it (the run lock is free). */
int container_wait(const struct container *c);
/* Re-read state.json (after waiting). */
int container_reload_state(struct container *c);
/* Remove its directory (refuses while running). */
int container_remove(struct container *c);

const char *container_status_name(enum container_status s);
/* docker's State.Status: container_status_name, or "paused" for a paused running one. */
const char *container_state_name(const struct container_state *st);
/* A path inside the container's directory. */
int container_path(const struct container *c, const char *name, char *buf, size_t len);

void container_config_free(struct container_config *cfg);
/* HostConfig.RestartPolicy as docker shows it: {"Name": "always", "MaximumRetryCount": 0}. */
struct json_object;
struct json_object *container_restart_json(const struct restart_policy *p);

#endif
