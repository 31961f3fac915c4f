/*
 * Talking to a running container's vmm process through its control socket
 * (ctl.h): stop, kill, exec and top from other vmm processes.
 */
#ifndef VMM_ENGINE_CLIENT_H
#define VMM_ENGINE_CLIENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/engine/paths.h"

struct container;
struct error;

/* Open container ref and connect to its control socket. 0, or -errno with e (-ESRCH: not running). */
int engine_connect(const struct paths *p, const char *ref, struct container **ct, int *fd,
		   struct error *e);
/* Send req (taken: freed) with fds. 0 or -errno with e. */
int engine_send(int fd, json_object *req, const int *fds, unsigned nfds, struct error *e);
/* Wait for the next reply. 0, or -errno with e (an {"error"} reply too). */
int engine_reply(int fd, json_object **reply, struct error *e);
/* Both. */
int engine_call(int fd, json_object *req, const int *fds, unsigned nfds, json_object **reply,
		struct error *e);

/* SIGTERM, then SIGKILL after timeout seconds; returns once the VM is gone (0 when not running). */
int engine_stop(const struct paths *p, const char *ref, uint64_t timeout, struct error *e);
/* Send sig to the container's main process. */
int engine_kill(const struct paths *p, const char *ref, int sig, struct error *e);
/* The running container's main process's terminal size (docker's container resize). */
int engine_resize(const struct paths *p, const char *ref, unsigned rows, unsigned cols, struct error *e);
/*
 * vmm attach: what is read from fd goes to the main process's stdin, which
 * create -i holds open. fd's EOF leaves it open, or closes it with
 * close_at_eof (docker's StdinOnce). The caller keeps fd.
 */
int engine_attach_stdin(const struct paths *p, const char *ref, int fd, bool close_at_eof,
			struct error *e);
/* docker pause/unpause: park the VM's vCPUs, or let them go. -ESRCH: not running;
 * -EBUSY: already paused (pause) or not paused (unpause). */
int engine_pause(const struct paths *p, const char *ref, bool pause, struct error *e);

/* One process of `vmm top`. */
struct engine_proc {
	int pid;
	const char *user;
	int64_t time_ms;
	const char *cmd;
};
/* A process's user, cumulative time (HH:MM:SS) and command, sanitized for a terminal (the guest names them). */
struct engine_proc_text {
	char user[64], time[32], cmd[4096];
};
void engine_proc_text(const struct engine_proc *p, struct engine_proc_text *t);
/* The container's processes, each passed to fn. */
int engine_top(const struct paths *p, const char *ref,
	       void (*fn)(void *arg, const struct engine_proc *proc), void *arg, struct error *e);

/* `vmm stats`: one sample of a running container. */
struct engine_stats {
	uint64_t cpu_ns;		/* the VM's vmm process: vCPUs and devices */
	uint64_t uptime_ns;		/* since the VM started */
	uint64_t net_rx, net_tx;	/* bytes through virtio-net */
	uint64_t blk_read, blk_write;	/* bytes through virtio-blk */
	bool guest;			/* the guest answered (not while paused): */
	uint64_t mem, mem_max, pids;	/* its memory in use and limit, its tasks */
};
int engine_stats(const struct paths *p, const char *ref, struct engine_stats *out, struct error *e);
/* The same in two halves, to ask many containers at once: the request, then (fd closed) its reply. */
int engine_stats_ask(const struct paths *p, const char *ref, int *fd, struct error *e);
int engine_stats_reply(int fd, struct engine_stats *out, struct error *e);

/* What `vmm exec` runs; strings borrowed. */
struct exec_config {
	char *const *argv;
	char *const *env;	/* -e entries (KEY=VALUE, or KEY: ours) over the container's Env */
	const char *workdir;	/* NULL: the container's */
	const char *user;	/* NULL: the container's */
	bool tty, interactive;
	bool detach;		/* exec -d: return once it started; its stdio is /dev/null */
	int size_fd;		/* tty: "ROWS COLS" lines of window sizes come here (the Engine API's
				 * resize); only a descriptor above stderr counts */
};
/*
 * Run a process in the running container with our stdio, forwarding our
 * signals and window size, until it exits: *status is its exit status.
 * Detached (c->detach): until it started (*status 0), or failed to start (its
 * status, 126 or 127, and e). 0, or -errno with e when it could not be run.
 */
int engine_exec(const struct paths *p, const char *ref, const struct exec_config *c, int *status,
		struct error *e);

#endif
