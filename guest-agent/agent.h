/*
 * vmm-agent: PID 1 of the guest (docs/agent.md). A static musl binary and the
 * only file of the initramfs: it mounts the basics, connects to the host
 * over vsock, creates the container and runs its processes, streaming
 * their stdio. Single-threaded: one poll() loop in main.c.
 *
 * No stdio: messages are assembled with scat() and written with say().
 */
#ifndef VMM_GUEST_AGENT_AGENT_H
#define VMM_GUEST_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guest-agent/protocol.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"	/* write_full, mkdir_p, parse_uint */

#define AGENT_ROOT	"/mnt/root"		/* the container's root, in the agent's namespace */
#define AGENT_CGROUP	"/sys/fs/cgroup/ctr"	/* the container's cgroup */
#define AGENT_RUN	"/run/vmm"		/* generated /etc files */
#define DEFAULT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_STREAMS	64

struct agent;

/* ---- util.c ---- */
/* With PROTO_CMDLINE_DEBUG on the kernel command line: timestamped progress lines. */
extern bool agent_tracing;
void trace(const char *what);
/* Log a line to the console: the NULL-terminated strings, concatenated. */
void say(const char *first, ...) __attribute__((sentinel));
/* Concatenate NULL-terminated strings into dst (always terminated); the length. */
size_t scat(char *dst, size_t cap, const char *first, ...) __attribute__((sentinel));
/* Decimal text of v in buf (at least 21 bytes); returns buf. */
char *utoa(uint64_t v, char *buf);
/* Read a small file into buf (NUL-terminated): its length or -errno. */
ssize_t read_text(int dirfd, const char *path, char *buf, size_t cap);
int write_text(const char *path, const char *s);
uint64_t now_ms(void);
void set_nonblock(int fd);

/* ---- user.c ---- */
#define MAX_GROUPS	64
struct user_info {
	uid_t uid;
	gid_t gid;
	char name[64];
	char home[256];
	gid_t groups[MAX_GROUPS];
	int ngroups;
};
/*
 * Resolve "name", "uid", "uid:gid", "name:group" (NULL: root) against the
 * image's /etc/passwd and /etc/group (relative to the current root), plus
 * extra groups by name or number. 0, or -errno with err filled.
 */
/*
 * privs.c: an OCI process's rlimits and bounding set (before the user
 * switch), then its capability sets and no_new_privs (after). 0, or -errno
 * with *what naming the step.
 */
int privs_before_user(const struct proto_spec *s, const char **what);
int privs_after_user(const struct proto_spec *s, const char **what);

int user_resolve(const char *spec, char *const *extra, unsigned nextra, struct user_info *u,
		 struct error *e);
/* The name of uid in a passwd file under dirfd, or its number. */
const char *user_name(int dirfd, uid_t uid, char *buf, size_t len);

/* ---- container.c ---- */
/* Where a child failed before exec: sent over the CLOEXEC error pipe. */
struct child_error {
	int32_t code;		/* exit status to report: 125, 126, 127 */
	int32_t err;		/* errno */
	char msg[200];
};

struct stdio_fds {
	int in, out, err;	/* the child's ends (unused with tty) */
	bool tty;		/* the child opens a pty and sends the master over errpipe */
};

/* Agent side, before the container's first process: root, cgroup, /etc files. */
int container_prepare(const struct proto_spec *s, struct error *e);
/*
 * Fork the container's init (new namespaces) or a process joining ctr_pid's:
 * pid or -errno. errpipe (a SOCK_SEQPACKET socket, close-on-exec) carries a
 * pty master (SCM_RIGHTS) with tty, then a struct child_error if the start
 * fails; EOF means the exec happened.
 */
/* self_pidns: an fd of our own pid namespace (struct agent's), to return to after a setns. */
pid_t container_spawn(const struct proto_spec *s, pid_t ctr_pid, const struct stdio_fds *io, int errpipe,
		      int self_pidns);
/* After the container's init died: oom kill count, then sync and unmount the root. */
bool container_oom_killed(void);
void container_teardown(bool keep_data);

/* ---- net.c ---- */
/* lo up; eth0 (when there is one) up with the spec's address and default route. */
int net_setup(const struct proto_spec *s, struct error *e);
/* eth0's other addresses, as spec's net_extra says, while the container runs (PROTO_NET_ADDRS). */
int net_set_extra(const char *list, struct error *e);

/* ---- proc.c ---- */
int proc_start(struct agent *a, uint16_t stream, uint16_t type, const uint8_t *p, size_t n);
void proc_frame(struct agent *a, const struct proto_frame *f);
void proc_reaped(struct agent *a, pid_t pid, int status);
/* Poll set for processes (struct pollfd[]); then dispatch what fired. */
int proc_poll_fill(struct agent *a, void *pfds, int max, int *timeout_ms);
void proc_poll_done(struct agent *a, void *pfds, int n);
void proc_kill_all(struct agent *a);

/* ---- copy.c: `vmm cp` as tar streams ---- */
void copy_start(struct agent *a, const struct proto_frame *f);
void copy_frame(struct agent *a, const struct proto_frame *f);
/* Produce archive data while windows allow; copy_busy: more could go now. */
void copy_pump(struct agent *a);
bool copy_busy(struct agent *a);

/* ---- copy-up.c ---- */
/*
 * A new volume's first content: when the mounted dst folder is empty, copy
 * the image's folder src (opened before the mount covered it) into it. 0 or -errno.
 */
int copy_up(int src, int dst);

/* ---- top.c ---- */
void top_reply(struct agent *a, uint16_t stream);
void stats_reply(struct agent *a, uint16_t stream);

/* ---- main.c: the connection ---- */
struct proc;
struct copy;

struct agent {
	int vsock;			/* the host connection; -1 while (re)connecting */
	bool connecting;		/* connect() in progress on vsock */
	struct proto_rx rx;
	struct proto_buf out;		/* frames for the host */
	int sigfd;
	bool debug;			/* PROTO_CMDLINE_DEBUG on the kernel command line */
	struct proc *procs[MAX_STREAMS];
	struct copy *copies[MAX_STREAMS];
	pid_t main_pid;			/* the container's init, 0 before RUN */
	bool main_done;			/* its EXIT went out */
	bool ephemeral;			/* --rm: skip syncing and unmounting the root at exit */
	uint64_t fallback_at;		/* now_ms() at which to end the VM ourselves, 0: never */
	int exit_code;
	uint64_t next_connect;		/* now_ms() of the next connection attempt */
	unsigned backoff_ms;
	int shutdown_stream;		/* a SHUTDOWN waiting for the main process; -1: none */
	int devnull;			/* /dev/null for stdio nobody wants; -1 until opened */
	int self_pidns;			/* our own pid namespace, to return to after a setns */
	uint8_t io_buf[PROTO_DATA_CHUNK];	/* scratch for one data frame (single-threaded) */
};

/* Bytes queued for the host: producers stop reading their fds above a bound. */
#define AGENT_BACKLOG_MAX	(1024 * 1024)
static inline size_t agent_backlog(const struct agent *a) { return proto_buf_pending(&a->out); }
void agent_result(struct agent *a, uint16_t stream, int code, const char *msg);
/* The main process is done: the host ends the VM; the exit device is the fallback. */
void agent_main_exited(struct agent *a, int code);
void agent_exit_device(int code);

#endif
