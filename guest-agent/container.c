/*
 * The container: its root, cgroup and namespaces, and the child side of
 * every process start (docs/agent.md, "Container setup").
 *
 * The agent runs from the initramfs (rootfs), which pivot_root(2) cannot
 * leave; like runc on a ramdisk, the container's mount namespace moves its
 * root onto "/" (MS_MOVE) and chroots into it. The initramfs underneath is
 * unreachable from the container's namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "guest-agent/agent.h"

#define R(path)		AGENT_ROOT path
#define RO_UPPER	"/ro-upper"	/* read_only_mount_points' tmpfs, in the agent's own root */
#define MS_SAFE		(MS_NOSUID | MS_NODEV | MS_NOEXEC)
#define DEVICE_WAIT_MS	10000
#ifndef BLKFLSBUF
#define BLKFLSBUF	0x1261	/* _IO(0x12, 97) */
#endif

/* ---- agent side ---- */

static int wait_for(const char *dev)
{
	uint64_t end = now_ms() + DEVICE_WAIT_MS;
	struct stat st;

	while (stat(dev, &st) < 0) {
		if (now_ms() > end)
			return -ENODEV;
		usleep(20000);
	}
	return 0;
}

/*
 * A VM restored from a snapshot booted with another container's disk in this
 * slot: whatever the kernel cached of that device is not this disk.
 */
static void flush_buffers(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ioctl(fd, BLKFLSBUF, 0);
		close(fd);
	}
}

static int mount_root(const struct proto_spec *s, struct error *e)
{
	const char *root = s->root ? s->root : "/dev/vda";
	unsigned long ro = s->read_only ? MS_RDONLY : 0;
	int ret = 0;

	mkdir(AGENT_ROOT, 0755);
	if (!strncmp(root, "dir:", 4)) {
		if (mount(root + 4, AGENT_ROOT, NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    (ro && mount(NULL, AGENT_ROOT, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0))
			ret = -errno;
	} else if (!strcmp(root, "tmpfs")) {
		if (mount("tmpfs", AGENT_ROOT, "tmpfs", ro, "mode=0755") < 0)
			ret = -errno;
	} else if (s->root_fstype && !strcmp(s->root_fstype, "virtiofs")) {
		/* an OCI bundle's root folder: a shared folder's tag, no device to wait for */
		if (mount(root, AGENT_ROOT, "virtiofs", ro, NULL) < 0)
			ret = -errno;
	} else {
		ret = wait_for(root);
		if (!ret)
			flush_buffers(root);
		if (!ret && mount(root, AGENT_ROOT, s->root_fstype ? s->root_fstype : "ext4", ro, NULL) < 0)
			ret = -errno;
	}
	if (ret)
		err_cat(e, ret, "mount the root ", root, ": ", strerror(-ret), NULL);
	return ret;
}

static int set_limit(const char *file, const char *value, struct error *e)
{
	char path[128];
	int ret;

	scat(path, sizeof(path), AGENT_CGROUP "/", file, NULL);
	ret = write_text(path, value);
	if (ret)
		err_cat(e, ret, "cgroup ", file, " = ", value, ": ", strerror(-ret), NULL);
	return ret;
}

static int make_cgroup(const struct proto_spec *s, struct error *e)
{
	char v[48], n[21];
	int ret;

	/*
	 * Only the controllers a limit needs: each one costs the emulated guest
	 * kernel work on every page fault (memory) or tick (cpu).
	 */
	scat(v, sizeof(v), s->memory_max ? "+memory " : "", s->pids_max ? "+pids " : "",
	     s->cpu_quota_us ? "+cpu" : "", NULL);
	if (v[0] && write_text("/sys/fs/cgroup/cgroup.subtree_control", v) < 0)
		say("cannot enable the cgroup controllers ", v, ": ", strerror(errno), NULL);
	if (mkdir(AGENT_CGROUP, 0755) < 0 && errno != EEXIST) {
		return err_cat(e, -errno, "create cgroup " AGENT_CGROUP ": ", strerror(errno), NULL);
	}
	if (s->memory_max) {
		ret = set_limit("memory.max", utoa(s->memory_max, n), e);
		if (ret)
			return ret;
		set_limit("memory.swap.max", "0", e);	/* no swap here anyway */
	}
	if (s->pids_max && (ret = set_limit("pids.max", utoa(s->pids_max, n), e)))
		return ret;
	if (s->cpu_quota_us) {
		char p[21];

		scat(v, sizeof(v), utoa(s->cpu_quota_us, n), " ",
		     utoa(s->cpu_period_us ? s->cpu_period_us : 100000, p), NULL);
		ret = set_limit("cpu.max", v, e);
		if (ret)
			return ret;
	}
	err_clear(e);
	return 0;
}

/* /etc/hosts, /etc/hostname, /etc/resolv.conf as files the container gets bind-mounted. */
static int write_etc(const struct proto_spec *s)
{
	char buf[16384];
	const char *host = s->hostname ? s->hostname : "localhost";
	size_t len;
	int ret;

	mkdir(AGENT_RUN, 0755);
	len = scat(buf, sizeof(buf), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", NULL);
	if (s->net_addr) {
		char ip[64], *slash;

		scat(ip, sizeof(ip), s->net_addr, NULL);
		slash = strchr(ip, '/');
		if (slash)
			*slash = 0;
		len += scat(buf + len, sizeof(buf) - len, ip, "\t", host, NULL);
		if (s->name && strcmp(s->name, host))
			len += scat(buf + len, sizeof(buf) - len, " ", s->name, NULL);
		len += scat(buf + len, sizeof(buf) - len, "\n", NULL);
	}
	for (unsigned i = 0; i < s->nhosts; i++)
		len += scat(buf + len, sizeof(buf) - len, s->hosts[i], "\n", NULL);
	ret = write_text(AGENT_RUN "/hosts", buf);
	scat(buf, sizeof(buf), host, "\n", NULL);
	ret = ret ? ret : write_text(AGENT_RUN "/hostname", buf);
	len = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < s->ndns; i++)
		len += scat(buf + len, sizeof(buf) - len, "nameserver ", s->dns[i], "\n", NULL);
	if (s->ndns_search) {
		len += scat(buf + len, sizeof(buf) - len, "search", NULL);
		for (unsigned i = 0; i < s->ndns_search; i++)
			len += scat(buf + len, sizeof(buf) - len, " ", s->dns_search[i], NULL);
		scat(buf + len, sizeof(buf) - len, "\n", NULL);
	}
	return ret ? ret : write_text(AGENT_RUN "/resolv.conf", buf);
}

int container_prepare(const struct proto_spec *s, struct error *e)
{
	int ret = mount_root(s, e);

	if (ret)
		return ret;
	ret = make_cgroup(s, e);
	if (ret)
		return ret;
	ret = net_setup(s, e);
	if (ret)
		return ret;
	ret = write_etc(s);
	if (ret)
		err_cat(e, ret, "write " AGENT_RUN " files: ", strerror(-ret), NULL);
	return ret;
}

bool container_oom_killed(void)
{
	char buf[512], *p;
	uint64_t n = 0;

	if (read_text(AT_FDCWD, AGENT_CGROUP "/memory.events", buf, sizeof(buf)) < 0)
		return false;
	p = strstr(buf, "oom_kill ");
	if (!p)
		return false;
	p += 9;
	while (*p >= '0' && *p <= '9')
		n = n * 10 + (*p++ - '0');
	return n > 0;
}

void container_teardown(bool keep_data)
{
	if (!keep_data)
		return;	/* --rm: the host deletes the disk, nothing to make durable */
	sync();
	if (umount2(AGENT_ROOT, 0) < 0 && errno != EINVAL) {
		say("unmount " AGENT_ROOT ": ", strerror(errno), "; detaching it", NULL);
		umount2(AGENT_ROOT, MNT_DETACH);
		sync();
	}
}

/* ---- child side: everything below runs in the forked child, then execs ---- */

static void __attribute__((noreturn)) fail(int errpipe, int code, int err, const char *a, const char *b)
{
	struct child_error ce = { .code = code, .err = err };

	if (err)
		scat(ce.msg, sizeof(ce.msg), a, b ? b : "", ": ", strerror(err), NULL);
	else
		scat(ce.msg, sizeof(ce.msg), a, b, NULL);
	write_full(errpipe, &ce, sizeof(ce));
	_exit(code);
}

/*
 * A terminal from the container's own devpts, so that tty(1) and ttyname()
 * work inside: the master goes to the agent over the error socket.
 */
static void open_tty(const struct proto_spec *s, struct stdio_fds *io, int errpipe)
{
	struct winsize ws = { .ws_row = s->rows ? s->rows : 24, .ws_col = s->cols ? s->cols : 80 };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct iovec iov = { .iov_base = "M", .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	int master, slave, unlock = 0;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		fail(errpipe, 125, errno, "open /dev/ptmx", NULL);
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCSWINSZ, &ws) < 0)
		fail(errpipe, 125, errno, "set up the terminal", NULL);
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0)
		fail(errpipe, 125, errno, "open the terminal", NULL);
	u.h.cmsg_level = SOL_SOCKET;
	u.h.cmsg_type = SCM_RIGHTS;
	u.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&u.h), &master, sizeof(int));
	if (sendmsg(errpipe, &msg, MSG_NOSIGNAL) != 1)
		fail(errpipe, 125, errno, "pass the terminal to the agent", NULL);
	close(master);
	io->in = io->out = io->err = slave;
}

static void setup_stdio(const struct stdio_fds *io)
{
	dup2(io->in, 0);
	dup2(io->out, 1);
	dup2(io->err, 2);
	if (io->tty)
		ioctl(0, TIOCSCTTY, 0);
}

static int mount_dir(const char *src, const char *dst, const char *type, unsigned long flags,
		     const char *data)
{
	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		return -errno;
	return mount(src, dst, type, flags, data) < 0 ? -errno : 0;
}

static void make_dev(int errpipe)
{
	static const struct { const char *name; unsigned major, minor; } nodes[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 }, { "random", 1, 8 },
		{ "urandom", 1, 9 }, { "tty", 5, 0 },
	};
	static const char *const links[][2] = {
		{ "pts/ptmx", R("/dev/ptmx") }, { "/proc/self/fd", R("/dev/fd") },
		{ "/proc/self/fd/0", R("/dev/stdin") }, { "/proc/self/fd/1", R("/dev/stdout") },
		{ "/proc/self/fd/2", R("/dev/stderr") },
	};
	char path[64];
	int ret;

	ret = mount_dir("tmpfs", R("/dev"), "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
	if (ret)
		fail(errpipe, 125, -ret, "mount /dev", NULL);
	for (unsigned i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		scat(path, sizeof(path), R("/dev/"), nodes[i].name, NULL);
		if (mknod(path, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0)
			fail(errpipe, 125, errno, "mknod ", path);
		chmod(path, 0666);	/* despite the umask */
	}
	for (unsigned i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		symlink(links[i][0], links[i][1]);
	ret = mount_dir("devpts", R("/dev/pts"), "devpts", MS_NOSUID | MS_NOEXEC,
			"newinstance,ptmxmode=0666,mode=0620,gid=5");
	if (!ret)
		ret = mount_dir("shm", R("/dev/shm"), "tmpfs", MS_SAFE, "mode=1777,size=65536k");
	if (ret && ret != -ENODEV)
		fail(errpipe, 125, -ret, "mount /dev/pts, /dev/shm", NULL);
}

/* Bind one generated /etc file; created in the image when missing (if it can be),
 * as runc, docker's init layer and buildah create a file mount point: mode 0755. */
static void bind_etc(const char *name)
{
	char src[64], dst[128];
	int fd;

	scat(src, sizeof(src), AGENT_RUN "/", name, NULL);
	scat(dst, sizeof(dst), R("/etc/"), name, NULL);
	mkdir(R("/etc"), 0755);
	fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0755);
	if (fd < 0)
		return;		/* read-only image without the file, or a symlink: leave it */
	close(fd);
	mount(src, dst, NULL, MS_BIND, NULL);
}

/*
 * --read-only (the disk is read-only, for the guest's kernel too) with a
 * mount point the image lacks: the root becomes an overlay of itself and a
 * small tmpfs that takes the new folders, read-only again once the mounts
 * are made. docker makes them in the container's own layer.
 */
static void read_only_mount_points(const struct proto_spec *s, int errpipe)
{
	char dst[4096];
	struct stat st;
	bool missing = false;

	for (unsigned i = 0; i < s->nmounts && !missing; i++) {
		scat(dst, sizeof(dst), AGENT_ROOT, s->mounts[i].target, NULL);
		missing = stat(dst, &st) < 0;
	}
	if (!missing)
		return;
	mkdir(RO_UPPER, 0755);
	if (mount("tmpfs", RO_UPPER, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0 ||
	    mkdir(RO_UPPER "/u", 0755) < 0 || mkdir(RO_UPPER "/w", 0755) < 0 ||
	    mount("overlay", AGENT_ROOT, "overlay", 0,
		  "lowerdir=" AGENT_ROOT ",upperdir=" RO_UPPER "/u,workdir=" RO_UPPER "/w") < 0)
		fail(errpipe, 125, errno, "make the mount points in the read-only root", NULL);
}

static void mount_volumes(const struct proto_spec *s, int errpipe)
{
	for (unsigned i = 0; i < s->nmounts; i++) {
		const struct proto_mount *m = &s->mounts[i];
		char dst[4096];
		unsigned long flags = m->read_only ? MS_RDONLY : 0;
		int image_dir, vol, ret;

		if (m->target[0] != '/' || strstr(m->target, ".."))
			fail(errpipe, 125, 0, "mount target must be absolute, without '..': ", m->target);
		scat(dst, sizeof(dst), AGENT_ROOT, m->target, NULL);
		if (m->source && m->source[0] == '/' && !strncmp(m->source, "/dev/", 5) && wait_for(m->source))
			fail(errpipe, 125, ENODEV, "volume ", m->source);
		mkdir_p(AT_FDCWD, dst, 0755);
		/* The image's folder, before the volume covers it. */
		image_dir = m->copy_up ? open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		if (mount(m->source ? m->source : "none", dst, m->fstype, flags, m->options) < 0)
			fail(errpipe, 125, errno, "mount volume on ", m->target);
		if (image_dir < 0)
			continue;
		vol = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (vol < 0 || (ret = copy_up(image_dir, vol)))
			fail(errpipe, 125, vol < 0 ? errno : -ret, "copy the image's content into the volume at ",
			     m->target);
		close(vol);
		close(image_dir);
	}
}

static void new_container(const struct proto_spec *s, int errpipe)
{
	const char *host = s->hostname ? s->hostname : "localhost";

	if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC) < 0)
		fail(errpipe, 125, errno, "create namespaces", NULL);
	if (write_text(AGENT_CGROUP "/cgroup.procs", "0") < 0)
		fail(errpipe, 125, errno, "join cgroup " AGENT_CGROUP, NULL);
	if (unshare(CLONE_NEWCGROUP) < 0)
		fail(errpipe, 125, errno, "cgroup namespace", NULL);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail(errpipe, 125, errno, "make mounts private", NULL);
	sethostname(host, strlen(host));
	if (s->read_only)	/* first: /proc, /dev and the rest are mounted on what it makes */
		read_only_mount_points(s, errpipe);
	if (mount_dir("proc", R("/proc"), "proc", MS_SAFE, NULL))
		fail(errpipe, 125, errno, "mount /proc", NULL);
	if (mount_dir("sysfs", R("/sys"), "sysfs", MS_SAFE | MS_RDONLY, NULL) == 0)
		mount("cgroup2", R("/sys/fs/cgroup"), "cgroup2", MS_SAFE | MS_RDONLY, NULL);
	make_dev(errpipe);
	bind_etc("hosts");
	bind_etc("hostname");
	bind_etc("resolv.conf");
	mount_volumes(s, errpipe);
	if (s->read_only && mount(NULL, AGENT_ROOT, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		fail(errpipe, 125, errno, "make the root read-only", NULL);
	if (chdir(AGENT_ROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		fail(errpipe, 125, errno, "enter the container root", NULL);
}

static void join_container(pid_t ctr, int errpipe)
{
	static const struct { const char *name; int type; } ns[] = {
		{ "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
		{ "mnt", CLONE_NEWNS },
	};
	char path[64], n[21];
	int fds[4], root;

	/* Open everything first: after setns(mnt) /proc is the container's. */
	for (unsigned i = 0; i < 4; i++) {
		scat(path, sizeof(path), "/proc/", utoa(ctr, n), "/ns/", ns[i].name, NULL);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			fail(errpipe, 125, errno, "open ", path);
	}
	scat(path, sizeof(path), "/proc/", utoa(ctr, n), "/root", NULL);
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		fail(errpipe, 125, errno, "open ", path);
	if (write_text(AGENT_CGROUP "/cgroup.procs", "0") < 0)
		fail(errpipe, 125, errno, "join cgroup " AGENT_CGROUP, NULL);
	for (unsigned i = 0; i < 4; i++)
		if (setns(fds[i], ns[i].type) < 0)
			fail(errpipe, 125, errno, "join namespace ", ns[i].name);
	if (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0)
		fail(errpipe, 125, errno, "enter the container root", NULL);
}

static char *kv(const char *key, const char *value)
{
	size_t len = strlen(key) + strlen(value) + 1;
	char *p = malloc(len);

	if (p)
		scat(p, len, key, value, NULL);
	return p ? p : (char *)"X=";
}

static char **build_env(const struct proto_spec *s, const struct user_info *u, bool tty)
{
	static const char *const keys[] = { "PATH=", "HOSTNAME=", "HOME=", "TERM=" };
	bool have[4] = { false };
	char host[65] = "", **env;
	unsigned n = 0;

	env = calloc(s->nenv + 5, sizeof(char *));
	if (!env)
		return NULL;
	for (unsigned i = 0; i < s->nenv; i++) {
		for (unsigned k = 0; k < 4; k++)
			have[k] |= !strncmp(s->env[i], keys[k], strlen(keys[k]));
		env[n++] = s->env[i];
	}
	gethostname(host, sizeof(host) - 1);
	if (!have[0])
		env[n++] = "PATH=" DEFAULT_PATH;
	if (!have[1])
		env[n++] = kv("HOSTNAME=", host);
	if (!have[2])
		env[n++] = kv("HOME=", u->home);
	if (!have[3] && tty)
		env[n++] = "TERM=xterm";
	env[n] = NULL;
	return env;
}

static const char *env_get(char **env, const char *key)
{
	size_t k = strlen(key);

	for (; *env; env++)
		if (!strncmp(*env, key, k) && (*env)[k] == '=')
			return *env + k + 1;
	return NULL;
}

static void __attribute__((noreturn)) exec_fail(int errpipe, const char *file, int err)
{
	char msg[160];

	scat(msg, sizeof(msg), "exec: \"", file, "\"", NULL);
	if (err == ENOENT && !strchr(file, '/'))
		fail(errpipe, 127, 0, msg, ": executable file not found in $PATH");
	if (err == ENOENT)
		fail(errpipe, 127, 0, msg, ": no such file or directory");
	fail(errpipe, 126, err, msg, NULL);
}

/* execvpe with the container's PATH: 127 when not found, 126 when not executable. */
static void __attribute__((noreturn)) do_exec(char **argv, char **env, int errpipe)
{
	const char *file = argv[0], *path = env_get(env, "PATH");
	bool denied = false;
	char full[4096];

	if (!*file)
		exec_fail(errpipe, file, ENOENT);
	if (strchr(file, '/')) {
		execve(file, argv, env);
		exec_fail(errpipe, file, errno);
	}
	if (!path)
		path = DEFAULT_PATH;
	for (const char *p = path;; p++) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);

		if (len + strlen(file) + 2 <= sizeof(full)) {
			memcpy(full, p, len);
			full[len] = 0;
			scat(full + len, sizeof(full) - len, len ? "/" : "./", file, NULL);
			execve(full, argv, env);
			if (errno == EACCES)
				denied = true;
			else if (errno != ENOENT && errno != ENOTDIR)
				exec_fail(errpipe, file, errno);
		}
		if (!colon)
			break;
		p = colon;
	}
	exec_fail(errpipe, file, denied ? EACCES : ENOENT);
}

/*
 * --init (docker's, tini's job): stay PID 1, run argv as our child in its own
 * process group (the terminal's foreground one), pass it every signal we get,
 * reap every orphan, and exit with its status (128 + N when signal N killed it).
 */
static void __attribute__((noreturn)) run_init(char **argv, char **env, int errpipe, bool tty)
{
	sigset_t all, none;
	pid_t pid;

	sigfillset(&all);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &all, NULL);
	pid = fork();
	if (pid < 0)
		fail(errpipe, 125, errno, "--init: fork", NULL);
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		if (tty) {
			signal(SIGTTOU, SIG_IGN);
			tcsetpgrp(STDIN_FILENO, getpid());
			signal(SIGTTOU, SIG_DFL);
		}
		do_exec(argv, env, errpipe);
	}
	close(errpipe);		/* the child's exec (or its failure) speaks for both */
	prctl(PR_SET_NAME, "init");
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si), status;
		pid_t w;

		if (sig != SIGCHLD) {
			if (sig > 0)
				kill(pid, sig);
			continue;
		}
		while ((w = waitpid(-1, &status, WNOHANG)) > 0)
			if (w == pid)
				_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
}

static void __attribute__((noreturn)) child(const struct proto_spec *s, pid_t ctr,
					      const struct stdio_fds *stdio, int errpipe)
{
	struct stdio_fds io = *stdio;
	struct error e = { 0 };
	struct user_info u;
	const char *what = "";
	char **env;
	sigset_t none;
	int ret;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setsid();
	if (ctr)
		join_container(ctr, errpipe);
	else
		new_container(s, errpipe);
	trace("child: in the container");
	if (io.tty)
		open_tty(s, &io, errpipe);
	setup_stdio(&io);
	if (user_resolve(s->user, s->groups, s->ngroups, &u, &e))
		fail(errpipe, 125, 0, e.msg, NULL);
	env = build_env(s, &u, io.tty);
	if (!env)
		fail(errpipe, 125, ENOMEM, "environment", NULL);
	if (s->cwd && *s->cwd) {
		mkdir_p(AT_FDCWD, s->cwd, 0755);	/* docker creates a missing working directory */
	}
	if ((ret = privs_before_user(s, &what)))
		fail(errpipe, 125, -ret, "set ", what);
	if (setgroups(u.ngroups, u.groups) < 0 || setgid(u.gid) < 0 || setuid(u.uid) < 0)
		fail(errpipe, 125, errno, "set user ", s->user ? s->user : "0");
	if ((ret = privs_after_user(s, &what)))
		fail(errpipe, 125, -ret, "set ", what);
	if (s->cwd && *s->cwd && chdir(s->cwd) < 0)
		fail(errpipe, 125, errno, "chdir to cwd ", s->cwd);
	if (s->init && !ctr)
		run_init(s->argv, env, errpipe, io.tty);
	do_exec(s->argv, env, errpipe);
}

pid_t container_spawn(const struct proto_spec *s, pid_t ctr, const struct stdio_fds *io, int errpipe,
		      int self_pidns)
{
	char path[64], n[21];
	int pidns = -1, err;
	pid_t pid;

	/*
	 * A pid namespace applies to the caller's children only: set it for
	 * this fork, then return to our own. The other namespaces are the
	 * child's business.
	 */
	if (ctr) {
		scat(path, sizeof(path), "/proc/", utoa(ctr, n), "/ns/pid", NULL);
		pidns = open(path, O_RDONLY | O_CLOEXEC);
		if (pidns < 0)
			return errno == ENOENT ? -ESRCH : -errno;	/* the container ended */
		if (setns(pidns, CLONE_NEWPID) < 0) {
			err = errno;
			close(pidns);
			return -err;
		}
	} else if (unshare(CLONE_NEWPID) < 0) {
		return -errno;
	}
	trace("fork");
	pid = fork();
	if (pid == 0)
		child(s, ctr, io, errpipe);
	err = errno;
	if (pidns >= 0)
		close(pidns);
	if (setns(self_pidns, CLONE_NEWPID) < 0)
		say("cannot return to the agent's pid namespace: ", strerror(errno), NULL);
	return pid < 0 ? -err : pid;
}
