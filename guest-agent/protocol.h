/*
 * The agent protocol: frames over one vsock stream between the VMM and the
 * guest agent (PID 1), shared by both sides (docs/agent.md).
 *
 *   frame   = u32 length, u16 type, u16 stream, payload[length]   (little endian)
 *   control payloads are typed fields: u16 tag, u32 length, value[length]
 *   data payloads (stdin/stdout/stderr/tar bytes) are raw
 *
 * Stream 0 is the control stream (HELLO, TOP, TIME_SYNC, SHUTDOWN...);
 * each process and each file copy has its own stream, chosen by the host.
 * Data frames are flow-controlled per stream and direction by windows: a
 * sender may have at most PROTO_WINDOW_SIZE unacknowledged data bytes in flight;
 * the receiver returns credit with WINDOW frames as it consumes the data, so
 * neither side ever has to stop reading the connection.
 *
 * Everything received is hostile: decoders check every length and count and
 * return -EINVAL (malformed) or -E2BIG (over a limit); they never read out
 * of bounds. No stdio, no allocation beyond malloc: this file is linked into
 * the static guest agent as well as libvmm.
 */
#ifndef VMM_GUEST_AGENT_PROTOCOL_H
#define VMM_GUEST_AGENT_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION		1
#define PROTO_PORT		1024		/* host vsock port the agent connects to */
/* vmm's exit-status MMIO page: a byte written there ends the VM with that status. */
#define PROTO_EXIT_DEVICE	0xd0000000ULL
/* Kernel command line keys the agent reads. */
#define PROTO_CMDLINE_DEBUG	"vmm_agent.debug"	/* timestamped progress lines on the console */
#define PROTO_HDR_SIZE		8
#define PROTO_MAX_PAYLOAD	(1024 * 1024)	/* enforced on decode */
#define PROTO_WINDOW_SIZE	(256 * 1024)	/* initial data window per stream and direction */
#define PROTO_DATA_CHUNK	(32 * 1024)	/* largest data frame a sender builds */
#define PROTO_MAX_LIST		4096		/* entries in one repeated field */
#define PROTO_MAX_STRING	(128 * 1024)	/* bytes in one string field */

enum proto_type {
	PROTO_HELLO = 1,	/* agent->host, stream 0: struct proto_hello */
	PROTO_RUN,		/* host->agent: create the container, start its main process (spec) */
	PROTO_EXEC,		/* host->agent: another process in the running container (spec) */
	PROTO_STARTED,		/* agent->host: struct proto_started */
	PROTO_STDIN,		/* host->agent: data */
	PROTO_STDIN_EOF,	/* host->agent: no payload */
	PROTO_STDOUT,		/* agent->host: data */
	PROTO_STDERR,		/* agent->host: data */
	PROTO_WINDOW,		/* either way: u32 more data bytes the peer may send on this stream */
	PROTO_RESIZE,		/* host->agent: struct proto_resize */
	PROTO_SIGNAL,		/* host->agent: signal number */
	PROTO_EXIT,		/* agent->host: struct proto_exit, the stream's last frame */
	PROTO_CP_IN,		/* host->agent: path; then TAR_DATA..., TAR_END; answered by RESULT */
	PROTO_CP_OUT,		/* host->agent: path; answered by TAR_DATA..., TAR_END, or RESULT */
	PROTO_TAR_DATA,		/* either way: data */
	PROTO_TAR_END,		/* either way: no payload */
	PROTO_RESULT,		/* agent->host: struct proto_result, answers CP_*, TOP, SHUTDOWN, errors */
	PROTO_TOP,		/* host->agent: list the container's processes */
	PROTO_TOP_RESULT,	/* agent->host: repeated struct proto_proc */
	PROTO_TIME_SYNC,	/* host->agent: realtime clock in ns (after a snapshot restore) */
	PROTO_RESEED,		/* host->agent: data: entropy to add to the guest's pool */
	PROTO_SHUTDOWN,		/* host->agent: kill everything, sync, unmount; answered by RESULT */
	PROTO_STATS,		/* host->agent: the container cgroup's usage */
	PROTO_STATS_RESULT,	/* agent->host: struct proto_stats */
	PROTO_NET_ADDRS,	/* host->agent: path: eth0's other addresses (spec's net_extra); answered by RESULT */
	PROTO_TYPE_MAX
};

#define PROTO_NET_EXTRA_MAX	7	/* eth0:1 to eth0:7: a container's networks after the first */

/* HELLO capabilities */
#define PROTO_CAP_TTY		(1u << 0)
#define PROTO_CAP_EXEC		(1u << 1)
#define PROTO_CAP_CP		(1u << 2)
#define PROTO_CAP_TOP		(1u << 3)
#define PROTO_CAP_TIME		(1u << 4)
#define PROTO_CAP_DISK_ROOT	(1u << 5)
#define PROTO_CAP_STATS		(1u << 6)

#define PROTO_CAP_SETS	5	/* bounding, effective, inheritable, permitted, ambient */
#define PROTO_RLIMITS_MAX	16

/* Field tags. Unknown tags are skipped, so either side can add fields. */
enum proto_tag {
	/* HELLO */
	TAG_VERSION = 1, TAG_CAPS, TAG_UPTIME_NS,
	/* process spec (RUN, EXEC) */
	TAG_ARGV = 16, TAG_ENV, TAG_CWD, TAG_USER, TAG_GROUPS, TAG_TTY, TAG_ROWS, TAG_COLS,
	TAG_STDIN, TAG_MEMORY_MAX, TAG_PIDS_MAX, TAG_CPU_QUOTA, TAG_CPU_PERIOD, TAG_HOSTNAME,
	TAG_READ_ONLY, TAG_ROOT, TAG_ROOT_FSTYPE, TAG_MOUNT, TAG_HOSTS, TAG_DNS, TAG_DNS_SEARCH,
	TAG_NET_ADDR, TAG_NET_GATEWAY, TAG_NAME, TAG_EPHEMERAL, TAG_NET_MAC, TAG_INIT, TAG_NET_EXTRA,
	TAG_CAPS_SET, TAG_CAP_SET0, TAG_CAP_SET4 = TAG_CAP_SET0 + 4, TAG_RLIMITS, TAG_NO_NEW_PRIVS,
	/* nested in TAG_MOUNT */
	TAG_MNT_SOURCE = 64, TAG_MNT_TARGET, TAG_MNT_FSTYPE, TAG_MNT_OPTIONS, TAG_MNT_READ_ONLY,
	TAG_MNT_COPY_UP,
	/* STARTED, EXIT, RESULT */
	TAG_PID = 80, TAG_CODE, TAG_MESSAGE, TAG_SIGNAL, TAG_OOM,
	/* WINDOW, RESIZE, SIGNAL, CP_*, TIME_SYNC */
	TAG_INCREMENT = 96, TAG_PATH, TAG_REALTIME_NS,
	/* TOP_RESULT: repeated TAG_PROC, nested */
	TAG_PROC = 112, TAG_PROC_PID, TAG_PROC_USER, TAG_PROC_TIME, TAG_PROC_CMD,
	/* STATS_RESULT */
	TAG_STAT_MEM = 128, TAG_STAT_MEM_MAX, TAG_STAT_PIDS,
};

/* ---- frames ---- */

struct proto_frame {
	uint32_t len;
	uint16_t type;
	uint16_t stream;
	const uint8_t *payload;
};

/*
 * Parse the frame at the start of buf (n bytes). Returns its total size
 * (header + payload) with *f filled, 0 when more bytes are needed, or
 * -E2BIG when the length is over PROTO_MAX_PAYLOAD (the stream is then
 * unusable: close it).
 */
long proto_frame_parse(const void *buf, size_t n, struct proto_frame *f);

/*
 * An output buffer of whole frames. Errors (-ENOMEM, -E2BIG) are sticky
 * within a frame: proto_end() drops a frame that failed and returns why.
 */
struct proto_buf {
	uint8_t *data;
	size_t off;		/* bytes already sent */
	size_t len;		/* bytes filled (from data, including off) */
	size_t cap;
	size_t frame;		/* start of the open frame */
	int err;
};

void proto_buf_init(struct proto_buf *b);
void proto_buf_free(struct proto_buf *b);
static inline size_t proto_buf_pending(const struct proto_buf *b) { return b->len - b->off; }
static inline const uint8_t *proto_buf_head(const struct proto_buf *b) { return b->data + b->off; }
/* n bytes of the head were sent. */
void proto_buf_consume(struct proto_buf *b, size_t n);

void proto_begin(struct proto_buf *b, uint16_t type, uint16_t stream);
int proto_end(struct proto_buf *b);
void proto_put_u64(struct proto_buf *b, uint16_t tag, uint64_t v);
void proto_put_i64(struct proto_buf *b, uint16_t tag, int64_t v);
void proto_put_bytes(struct proto_buf *b, uint16_t tag, const void *p, size_t n);
void proto_put_str(struct proto_buf *b, uint16_t tag, const char *s);	/* NULL: omitted */
/* A nested field list: returns a handle for proto_nest_end. */
size_t proto_nest_begin(struct proto_buf *b, uint16_t tag);
void proto_nest_end(struct proto_buf *b, size_t handle);
/* A whole frame with a raw payload (data frames, empty frames). */
int proto_put_frame(struct proto_buf *b, uint16_t type, uint16_t stream, const void *p, size_t n);

/* ---- reading fields ---- */

struct proto_reader {
	const uint8_t *p;
	size_t len, off;
};

void proto_reader_init(struct proto_reader *r, const void *p, size_t len);
/* Next field: 1 with tag/val/len set, 0 at the end, -EINVAL if truncated. */
int proto_next(struct proto_reader *r, uint16_t *tag, const uint8_t **val, uint32_t *len);
/* Typed views of one field's value: -EINVAL on a wrong size. */
int proto_get_u64(const uint8_t *val, uint32_t len, uint64_t *v);

/* ---- receive buffer: reads from a file descriptor, yields whole frames ---- */

struct proto_rx {
	uint8_t *data;
	size_t len, cap, off;
};

void proto_rx_init(struct proto_rx *rx);
void proto_rx_free(struct proto_rx *rx);
void proto_rx_reset(struct proto_rx *rx);
/* One read(2) into the buffer: bytes read, 0 at EOF, or -errno (-EAGAIN). */
long proto_rx_read(struct proto_rx *rx, int fd);
/* Add bytes (tests, non-fd transports). 0 or -ENOMEM. */
int proto_rx_feed(struct proto_rx *rx, const void *p, size_t n);
/*
 * The next whole frame: 1 (valid until the next call), 0 when more bytes are
 * needed, -E2BIG for an oversized frame (close the connection).
 */
int proto_rx_next(struct proto_rx *rx, struct proto_frame *f);

/* ---- messages ---- */

struct proto_hello {
	uint32_t version;
	uint64_t caps;
	uint64_t uptime_ns;	/* guest CLOCK_BOOTTIME when the agent said hello */
};

struct proto_mount {
	const char *source, *target, *fstype, *options;
	bool read_only;
	bool copy_up;		/* a volume: give it the image's content there while it is empty */
};

/*
 * A process to run (RUN: also the container around it; EXEC: joins the
 * running container, where only argv/env/cwd/user/groups/tty/stdin count).
 * Strings decoded by proto_spec_decode live in one allocation freed by
 * proto_spec_free.
 */
struct proto_spec {
	char **argv;		/* argc >= 1, NULL-terminated */
	unsigned argc;
	char **env;		/* "KEY=VALUE", NULL-terminated */
	unsigned nenv;
	const char *cwd;	/* NULL: the image's (/) */
	const char *user;	/* "name", "uid", "uid:gid", "name:group"; NULL: root */
	char **groups;		/* supplementary groups, names or numbers */
	unsigned ngroups;
	bool tty, stdin, read_only;
	bool ephemeral;		/* the disk is deleted after (--rm): no sync or unmount at exit */
	bool init;		/* --init: PID 1 is an init that forwards signals and reaps; argv its child */
	uint16_t rows, cols;	/* tty window size */
	uint64_t memory_max;	/* bytes, 0: no limit */
	uint64_t pids_max;	/* 0: no limit */
	uint64_t cpu_quota_us, cpu_period_us;	/* cpu.max; quota 0: no limit */
	const char *hostname;
	const char *name;	/* container name, informational */
	const char *root;	/* "/dev/vda", "dir:/path" (a directory of the initramfs), "tmpfs", or
				 * a virtio-fs tag (root_fstype "virtiofs") */
	const char *root_fstype;	/* "ext4" when NULL */
	struct proto_mount *mounts;
	unsigned nmounts;
	char **hosts;		/* /etc/hosts lines, "IP NAME [NAME...]" */
	unsigned nhosts;
	char **dns;		/* nameserver addresses */
	unsigned ndns;
	char **dns_search;
	unsigned ndns_search;
	const char *net_addr;	/* "10.0.2.15/24" */
	const char *net_gateway;
	const char *net_mac;	/* "02:42:..": eth0's address (a restored guest has the snapshot's) */
	/* eth0's addresses on more networks, "A.B.C.D/NN" or "-" (none) for eth0:1, eth0:2...
	 * (PROTO_NET_EXTRA_MAX at most), space-separated */
	const char *net_extra;
	/* An OCI process's (vmm oci): its capability sets when caps_set (bounding, effective,
	 * inheritable, permitted, ambient; bit n is capability n), rlimits ("RESOURCE SOFT HARD",
	 * numbers), no_new_privs. A docker container sets none: root with the guest's defaults. */
	bool caps_set;
	uint64_t caps[PROTO_CAP_SETS];
	char **rlimits;
	unsigned nrlimits;
	bool no_new_privs;
	void *arena;		/* owner of the decoded strings */
};

struct proto_started {
	int32_t pid;		/* in the guest, > 0 when started */
	int32_t code;		/* 0, or the exit status to report: 127 not found, 126, 125 */
	const char *message;	/* why it failed; NULL when started */
};

struct proto_exit {
	int32_t code;		/* the status as a shell reports it: code, or 128 + signal */
	int32_t signal;		/* the signal that killed it, 0 if it exited */
	bool oom;		/* killed by the container's memory limit */
};

struct proto_result {
	int32_t code;		/* 0, or a positive errno */
	const char *message;	/* NULL or a human-readable reason */
};

struct proto_proc {
	int32_t pid;
	const char *user;
	uint64_t time_ms;	/* CPU time, user + system */
	const char *cmd;
};

/* STATS_RESULT: the container's memory in use and its limit, and its tasks. */
struct proto_stats {
	uint64_t mem, mem_max, pids;
};

/* Encoders append one frame to b; 0 or -errno (the frame is then dropped). */
int proto_hello_encode(struct proto_buf *b, const struct proto_hello *h);
int proto_spec_encode(struct proto_buf *b, uint16_t type, uint16_t stream, const struct proto_spec *s);
int proto_started_encode(struct proto_buf *b, uint16_t stream, const struct proto_started *s);
int proto_exit_encode(struct proto_buf *b, uint16_t stream, const struct proto_exit *e);
int proto_result_encode(struct proto_buf *b, uint16_t stream, const struct proto_result *r);
int proto_stats_encode(struct proto_buf *b, uint16_t stream, const struct proto_stats *s);
/* WINDOW, SIGNAL, TIME_SYNC: one number. RESIZE: rows, cols. CP_IN/CP_OUT: a path. */
int proto_u64_encode(struct proto_buf *b, uint16_t type, uint16_t stream, uint16_t tag, uint64_t v);
int proto_resize_encode(struct proto_buf *b, uint16_t stream, uint16_t rows, uint16_t cols);
int proto_path_encode(struct proto_buf *b, uint16_t type, uint16_t stream, const char *path);
/* TOP_RESULT: begin, add rows, end. */
void proto_top_begin(struct proto_buf *b, uint16_t stream);
void proto_top_add(struct proto_buf *b, const struct proto_proc *p);
int proto_top_end(struct proto_buf *b);

/*
 * Decoders take a frame's payload. Strings in the small structs point into
 * a caller buffer (strbuf) of strbuf_len bytes, NUL-terminated; a string that
 * does not fit is -E2BIG.
 */
int proto_hello_decode(const void *p, size_t n, struct proto_hello *h);
int proto_spec_decode(const void *p, size_t n, struct proto_spec *s);
void proto_spec_free(struct proto_spec *s);
int proto_started_decode(const void *p, size_t n, struct proto_started *s, char *strbuf, size_t strbuf_len);
int proto_exit_decode(const void *p, size_t n, struct proto_exit *e);
int proto_stats_decode(const void *p, size_t n, struct proto_stats *s);
int proto_result_decode(const void *p, size_t n, struct proto_result *r, char *strbuf, size_t strbuf_len);
int proto_u64_decode(const void *p, size_t n, uint16_t tag, uint64_t *v);
int proto_resize_decode(const void *p, size_t n, uint16_t *rows, uint16_t *cols);
int proto_path_decode(const void *p, size_t n, char *path, size_t path_len);
/*
 * TOP_RESULT rows, one at a time: 1 with *proc filled (strings in strbuf),
 * 0 at the end, -EINVAL / -E2BIG.
 */
int proto_top_next(struct proto_reader *r, struct proto_proc *proc, char *strbuf, size_t strbuf_len);

const char *proto_type_name(uint16_t type);

#endif
