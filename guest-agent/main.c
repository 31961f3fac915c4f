/*
 * vmm-agent main: PID 1 setup, the vsock connection to the host (port
 * PROTO_PORT on CID 2, reconnecting with backoff after a transport reset),
 * and the poll loop that dispatches frames to processes and copies.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest-agent/agent.h"

#define VMADDR_CID_HOST		2
#define BACKOFF_MIN_MS		10
#define BACKOFF_MAX_MS		1000
#define FALLBACK_MS		10000	/* after EXIT: end the VM ourselves if the host did not */
#define RNDADDENTROPY		0x40085203
#define RNDRESEEDCRNG		0x5207

/* <linux/vm_sockets.h> is not in musl's headers. */
struct sockaddr_vm {
	sa_family_t svm_family;
	unsigned short svm_reserved1;
	unsigned int svm_port;
	unsigned int svm_cid;
	unsigned char svm_zero[4];
};

static void mount_basics(void)
{
	static const struct { const char *src, *dst, *type; unsigned long flags; const char *data; } m[] = {
		{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
		{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620,gid=5" },
		{ "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
		{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
		{ "cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	};

	for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		mkdir(m[i].dst, 0755);
		if (mount(m[i].src, m[i].dst, m[i].type, m[i].flags, m[i].data) < 0 && errno != EBUSY)
			say("mount ", m[i].dst, ": ", strerror(errno), NULL);
	}
}

/* fds 0-2 must exist, or pipes created later would take their numbers. */
static void fix_stdio(void)
{
	struct stat st;

	for (int fd = 0; fd < 3; fd++) {
		if (fstat(fd, &st) < 0) {
			int n = open("/dev/null", O_RDWR);

			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
	}
}

static bool cmdline_has(const char *word)
{
	char buf[2048];

	if (read_text(AT_FDCWD, "/proc/cmdline", buf, sizeof(buf)) < 0)
		return false;
	for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n"))
		if (!strcmp(t, word))
			return true;
	return false;
}

void agent_exit_device(int code)
{
	int fd;

	sync();
	fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd >= 0) {
		volatile uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PROTO_EXIT_DEVICE);

		if (p != MAP_FAILED)
			*p = code;
	}
	say("cannot write the exit device; rebooting", NULL);
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

void agent_main_exited(struct agent *a, int code)
{
	a->exit_code = code;
	/* The host ends the VM when it reads EXIT; if it cannot, we do. */
	a->fallback_at = now_ms() + (a->vsock >= 0 ? FALLBACK_MS : 2000);
	if (a->shutdown_stream >= 0) {
		agent_result(a, a->shutdown_stream, 0, NULL);
		a->shutdown_stream = -1;
	}
}

static void disconnect(struct agent *a, const char *why)
{
	if (a->debug || why)
		say("host connection lost", why ? ": " : "", why ? why : "", "; reconnecting", NULL);
	close(a->vsock);
	a->vsock = -1;
	a->shutdown_stream = a->devnull = a->self_pidns = -1;
	a->connecting = false;
	proto_rx_reset(&a->rx);
	/* A frame may be half sent: what is queued cannot be resumed on a new connection. */
	proto_buf_consume(&a->out, proto_buf_pending(&a->out));
	a->next_connect = now_ms() + a->backoff_ms;
	a->backoff_ms = a->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : a->backoff_ms * 2;
}

static void try_connect(struct agent *a)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_port = PROTO_PORT, .svm_cid = VMADDR_CID_HOST };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0 || (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)) {
		if (a->debug)
			say("connect to the host: ", strerror(errno), NULL);
		if (fd >= 0)
			close(fd);
		a->next_connect = now_ms() + a->backoff_ms;
		a->backoff_ms = a->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : a->backoff_ms * 2;
		return;
	}
	a->vsock = fd;
	a->connecting = true;
}

static void connected(struct agent *a)
{
	struct timespec ts;
	struct proto_hello h = {
		.version = PROTO_VERSION,
		.caps = PROTO_CAP_TTY | PROTO_CAP_EXEC | PROTO_CAP_CP | PROTO_CAP_TOP | PROTO_CAP_TIME |
			PROTO_CAP_DISK_ROOT | PROTO_CAP_STATS,
	};
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(a->vsock, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		if (a->debug)
			say("connect to the host: ", strerror(err ? err : errno), NULL);
		close(a->vsock);
		a->vsock = -1;
	a->shutdown_stream = a->devnull = a->self_pidns = -1;
		a->connecting = false;
		a->next_connect = now_ms() + a->backoff_ms;
		a->backoff_ms = a->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : a->backoff_ms * 2;
		return;
	}
	a->connecting = false;
	a->backoff_ms = BACKOFF_MIN_MS;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	h.uptime_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	/* HELLO goes first, ahead of anything queued while disconnected. */
	{
		struct proto_buf hello;
		size_t n;

		proto_buf_init(&hello);
		proto_hello_encode(&hello, &h);
		n = proto_buf_pending(&hello);
		write_full(a->vsock, proto_buf_head(&hello), n);
		proto_buf_free(&hello);
	}
	trace("connected to the host, HELLO sent");
}

static void do_shutdown(struct agent *a, uint16_t stream)
{
	if (a->main_pid && !a->main_done) {
		a->shutdown_stream = stream;
		proc_kill_all(a);	/* the main process's EXIT path unmounts, then answers */
		return;
	}
	sync();
	agent_result(a, stream, 0, NULL);
}

/* The container joined or left a network while it runs: eth0's other addresses. */
static void net_addrs(struct agent *a, const struct proto_frame *f)
{
	char list[256];
	struct error e = { 0 };
	int ret = proto_path_decode(f->payload, f->len, list, sizeof(list));

	if (ret)
		err_cat(&e, ret, "network: a bad address list", NULL);
	else
		ret = net_set_extra(list, &e);
	agent_result(a, f->stream, ret, ret ? e.msg : NULL);
}

static void reseed(const struct proto_frame *f)
{
	struct { int entropy_count, buf_size; uint8_t buf[512]; } e;
	int fd;

	if (!f->len || f->len > sizeof(e.buf))
		return;
	e.entropy_count = f->len * 8;
	e.buf_size = f->len;
	memcpy(e.buf, f->payload, f->len);
	fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ioctl(fd, RNDADDENTROPY, &e);
		/* Reseed the crng now: VMs restored from one snapshot must diverge at once. */
		ioctl(fd, RNDRESEEDCRNG);
		close(fd);
	}
}

static void dispatch(struct agent *a, const struct proto_frame *f)
{
	uint64_t v;

	if (a->debug && f->type != PROTO_WINDOW && f->type != PROTO_STDIN)
		trace(proto_type_name(f->type));
	switch (f->type) {
	case PROTO_RUN:
	case PROTO_EXEC:
		proc_start(a, f->stream, f->type, f->payload, f->len);
		break;
	case PROTO_STDIN:
	case PROTO_STDIN_EOF:
	case PROTO_RESIZE:
	case PROTO_SIGNAL:
		proc_frame(a, f);
		break;
	case PROTO_WINDOW:
		proc_frame(a, f);
		copy_frame(a, f);
		break;
	case PROTO_CP_IN:
	case PROTO_CP_OUT:
		copy_start(a, f);
		break;
	case PROTO_TAR_DATA:
	case PROTO_TAR_END:
		copy_frame(a, f);
		break;
	case PROTO_TOP:
		top_reply(a, f->stream);
		break;
	case PROTO_STATS:
		stats_reply(a, f->stream);
		break;
	case PROTO_TIME_SYNC:
		if (!proto_u64_decode(f->payload, f->len, TAG_REALTIME_NS, &v)) {
			struct timespec ts = { .tv_sec = v / 1000000000ULL, .tv_nsec = v % 1000000000ULL };

			clock_settime(CLOCK_REALTIME, &ts);
		}
		break;
	case PROTO_RESEED:
		reseed(f);
		break;
	case PROTO_SHUTDOWN:
		do_shutdown(a, f->stream);
		break;
	case PROTO_NET_ADDRS:
		net_addrs(a, f);
		break;
	default:
		break;	/* a newer host's frame */
	}
}

static void read_host(struct agent *a)
{
	struct proto_frame f;
	long n = proto_rx_read(&a->rx, a->vsock);
	int ret;

	if (n == -EAGAIN || n == -EINTR)
		return;
	if (n <= 0) {
		disconnect(a, n ? strerror(-n) : NULL);
		return;
	}
	while ((ret = proto_rx_next(&a->rx, &f)) == 1)
		dispatch(a, &f);
	if (ret < 0)
		disconnect(a, "oversized frame from the host");
}

static void flush_host(struct agent *a)
{
	while (a->vsock >= 0 && !a->connecting && proto_buf_pending(&a->out)) {
		ssize_t n = write(a->vsock, proto_buf_head(&a->out), proto_buf_pending(&a->out));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			disconnect(a, strerror(errno));
			return;
		}
		proto_buf_consume(&a->out, n);
	}
}

static void reap(struct agent *a)
{
	struct signalfd_siginfo si;
	pid_t pid;
	int status;

	while (read(a->sigfd, &si, sizeof(si)) == sizeof(si))
		;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		proc_reaped(a, pid, status);
}

static int setup_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int main(void)
{
	static struct agent agent;	/* large (buffers): not on the stack */
	struct agent *a = &agent;
	struct pollfd pfd[2 + 4 * MAX_STREAMS];

	fix_stdio();
	a->vsock = -1;
	a->shutdown_stream = a->devnull = a->self_pidns = -1;
	a->backoff_ms = BACKOFF_MIN_MS;
	proto_rx_init(&a->rx);
	proto_buf_init(&a->out);
	a->sigfd = setup_signals();
	try_connect(a);		/* the host answers while we mount */
	mount_basics();
	a->debug = agent_tracing = cmdline_has(PROTO_CMDLINE_DEBUG);
	trace("mounted /proc /sys /dev /run cgroup2");
	for (;;) {
		int n = 0, vi = -1, pbase, pn, timeout = -1;
		uint64_t now = now_ms();

		if (a->vsock < 0 && now >= a->next_connect)
			try_connect(a);
		if (a->vsock < 0)
			timeout = a->next_connect > now ? a->next_connect - now : 0;
		if (a->fallback_at) {
			if (now >= a->fallback_at) {
				say("the host did not end the VM; exiting with status ", utoa(a->exit_code,
				    (char[21]){ 0 }), NULL);
				agent_exit_device(a->exit_code);
			}
			if (timeout < 0 || a->fallback_at - now < (uint64_t)timeout)
				timeout = a->fallback_at - now;
		}
		pfd[n++] = (struct pollfd){ .fd = a->sigfd, .events = POLLIN };
		if (a->vsock >= 0) {
			vi = n;
			pfd[n++] = (struct pollfd){
				.fd = a->vsock,
				.events = a->connecting ? POLLOUT :
					  POLLIN | (proto_buf_pending(&a->out) ? POLLOUT : 0),
			};
		}
		pbase = n;
		pn = proc_poll_fill(a, pfd + n, (int)(sizeof(pfd) / sizeof(pfd[0])) - n, &timeout);
		n += pn;
		if (copy_busy(a))
			timeout = 0;
		if (poll(pfd, n, timeout) < 0 && errno != EINTR)
			say("poll: ", strerror(errno), NULL);
		if (pfd[0].revents)
			reap(a);
		if (vi >= 0 && pfd[vi].revents) {
			if (a->connecting)
				connected(a);
			else if (pfd[vi].revents & (POLLIN | POLLHUP | POLLERR))
				read_host(a);
		}
		proc_poll_done(a, pfd + pbase, pn);
		copy_pump(a);
		flush_host(a);
	}
}
