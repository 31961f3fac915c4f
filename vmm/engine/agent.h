/*
 * The host side of the guest agent protocol (guest-agent/protocol.h,
 * docs/agent.md): the VMM's end of the agent's vsock connection, served from
 * the event loop. Callback based; every function and callback runs on the
 * loop thread.
 *
 * Typical `vmm run`:
 *   agent_client_create(loop, &ops, ctx, &c);             before machine_boot
 *   machine_vsock_listen(m, PROTO_PORT, ...)              each connection: agent_client_attach
 *   ops.ready (HELLO)  -> agent_run(c, &spec, &stdio, &proc_ops, ctx, &p);
 *   proc_ops.started   -> the process runs (or failed: code 125/126/127, message)
 *   agent_proc_signal / agent_proc_resize / agent_exec / agent_copy_* / agent_top / agent_stats
 *   proc_ops.exited    -> all output is written out; end the VM with exit->code
 *                         (the agent has synced and unmounted the container's disk)
 *
 * stdio file descriptors may be pipes, sockets, ttys or regular files. Pollable
 * ones are switched to O_NONBLOCK while in use and restored afterwards. Output
 * is flow-controlled: when an output fd is slow, the agent stops reading the
 * process's pipe (per-stream windows), without blocking other streams.
 */
#ifndef VMM_ENGINE_AGENT_H
#define VMM_ENGINE_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "guest-agent/protocol.h"

struct event_loop;
struct agent_client;
struct agent_proc;

struct agent_client_ops {
	/* The agent said HELLO (again after a reconnect, e.g. a transport reset). */
	void (*ready)(void *opaque, const struct proto_hello *hello);
	/* The connection went away; running processes' callbacks will not fire until it is back. */
	void (*disconnected)(void *opaque);
};

struct agent_proc_ops {
	/* Started with pid (in the guest), or not: code 125/126/127 and docker's kind of message. */
	void (*started)(void *opaque, int pid, int code, const char *message);
	/* The process is gone and its output written out. The last callback; p is freed after it. */
	void (*exited)(void *opaque, const struct proto_exit *exit);
};

struct agent_stdio {
	int in;		/* the process's stdin comes from here until EOF; -1: none */
	int out;	/* its stdout goes here; -1: discarded */
	int err;	/* its stderr (may be the same fd as out); -1: discarded */
	bool hold_in;	/* in is -1, yet stdin stays open for agent_proc_set_stdin (run -di) */
};

/* Result of a request: err 0 or a positive errno from the guest, with a message. */
typedef void (*agent_done_fn)(void *opaque, int err, const char *message);
typedef void (*agent_top_fn)(void *opaque, int err, const struct proto_proc *procs, unsigned n);
typedef void (*agent_stats_fn)(void *opaque, int err, const struct proto_stats *stats);

/* A client with no connection yet. 0 or -ENOMEM. */
int agent_client_create(struct event_loop *loop, const struct agent_client_ops *ops, void *opaque,
			struct agent_client **out);
/* Serve a connection to the agent (replacing any previous one). Takes fd. 0 or -errno. */
int agent_client_attach(struct agent_client *c, int fd);
void agent_client_destroy(struct agent_client *c);
bool agent_client_connected(const struct agent_client *c);

/*
 * RUN creates the container and its main process; EXEC adds a process to the
 * running container. 0 or -errno; *out stays valid until ops->exited returns.
 */
int agent_run(struct agent_client *c, const struct proto_spec *spec, const struct agent_stdio *io,
	      const struct agent_proc_ops *ops, void *opaque, struct agent_proc **out);
int agent_exec(struct agent_client *c, const struct proto_spec *spec, const struct agent_stdio *io,
	       const struct agent_proc_ops *ops, void *opaque, struct agent_proc **out);
int agent_proc_signal(struct agent_proc *p, int sig);
/*
 * The listener opaque is going away: its streams (exec, cp, top) run on to
 * their end, but call nobody back.
 */
void agent_forget(struct agent_client *c, void *opaque);
int agent_proc_resize(struct agent_proc *p, unsigned rows, unsigned cols);
/*
 * A source for a held stdin (vmm attach): read until its EOF, which leaves the
 * process's stdin open for the next one, or closes it with eof_closes
 * (docker's StdinOnce). Replaces an earlier source. The caller keeps fd.
 * 0, -EINVAL without hold_in, or -errno.
 */
int agent_proc_set_stdin(struct agent_proc *p, int fd, bool eof_closes);

/*
 * `vmm cp`: a tar stream read from tar_fd is extracted into the directory
 * path of the container (copy_in), or path is archived into tar_fd
 * (copy_out; the archive's top entry is path's last component). done is
 * called once, after everything was written. The fd stays the caller's.
 */
int agent_copy_in(struct agent_client *c, const char *path, int tar_fd, agent_done_fn done, void *opaque);
int agent_copy_out(struct agent_client *c, const char *path, int tar_fd, agent_done_fn done, void *opaque);
/* The container's processes (PID, USER, TIME, COMMAND); procs valid during the call. */
int agent_top(struct agent_client *c, agent_top_fn done, void *opaque);
/* The container cgroup's usage (`vmm stats`); stats NULL when err. */
int agent_stats(struct agent_client *c, agent_stats_fn done, void *opaque);
/* Set the guest's clock from ours (after a snapshot restore). */
int agent_time_sync(struct agent_client *c);
/* Kill the container, sync and unmount its disk; done when safe to end the VM. */
int agent_shutdown(struct agent_client *c, agent_done_fn done, void *opaque);
/* eth0's other addresses (proto_spec.net_extra's form) while the container runs; done when set. */
int agent_net_addrs(struct agent_client *c, const char *list, agent_done_fn done, void *opaque);

#endif
