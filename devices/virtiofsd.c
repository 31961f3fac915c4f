/* virtiofsd, started and stopped with the VM (see virtiofsd.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "devices/virtiofsd.h"
#include "vmm/base/util.h"

#define STOP_GRACE_MS	2000

struct virtiofsd {
	pid_t pid;
	int pidfd;
	char socket_path[108];
};

int virtiofsd_find(const char *override, char *path, size_t len, struct error *e)
{
	static const char *const known[] = { "/usr/libexec/virtiofsd", "/usr/lib/qemu/virtiofsd" };
	const char *env = getenv("VMM_VIRTIOFSD");
	const char *pick = override && *override ? override : env && *env ? env : NULL;

	if (pick) {
		if (access(pick, X_OK) < 0)
			return err_sys(e, -errno, "virtiofsd %s", pick);
		snprintf(path, len, "%s", pick);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (access(known[i], X_OK) == 0) {
			snprintf(path, len, "%s", known[i]);
			return 0;
		}
	return err_set(e, -ENOENT, "shared folders need virtiofsd (Debian 12: apt-get install "
		       "qemu-system-common; or give --virtiofsd PATH)");
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum virtiofsd_flavour virtiofsd_flavour_of(const char *help, const char *binary)
{
	if (help && strstr(help, "--shared-dir"))
		return VIRTIOFSD_RUST;
	if (help && strstr(help, "source="))
		return VIRTIOFSD_QEMU;
	return strstr(binary, "/qemu/") ? VIRTIOFSD_QEMU : VIRTIOFSD_RUST;
}

const char *virtiofsd_flavour_name(enum virtiofsd_flavour f)
{
	return f == VIRTIOFSD_QEMU ? "QEMU's C virtiofsd" : "the Rust virtiofsd";
}

/* `binary --help` into buf (both daemons print it and exit), at most PROBE_TIMEOUT_MS. */
#define PROBE_TIMEOUT_MS	2000
static void read_help(const char *binary, char *buf, size_t len)
{
	uint64_t deadline = now_ms() + PROBE_TIMEOUT_MS;
	size_t n = 0;
	int fds[2], status;
	pid_t pid;

	buf[0] = 0;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		execl(binary, binary, "--help", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (pid > 0 && n + 1 < len) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		uint64_t now = now_ms();
		ssize_t r;

		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0)
			break;
		r = read(fds[0], buf + n, len - 1 - n);
		if (r <= 0)
			break;
		n += r;
	}
	buf[n] = 0;
	close(fds[0]);
	if (pid > 0) {
		kill(pid, SIGKILL);	/* done, or too slow: either way it has said what it will */
		waitpid(pid, &status, 0);
	}
}

enum virtiofsd_flavour virtiofsd_probe(const char *binary)
{
	char help[16384];

	read_help(binary, help, sizeof(help));
	return virtiofsd_flavour_of(help[0] ? help : NULL, binary);
}

/* In the child: never returns. */
static void __attribute__((noreturn)) exec_daemon(const struct virtiofsd_config *cfg)
{
	char source[4200], sock[200];
	int fd = open(cfg->log_path ? cfg->log_path : "/dev/null",
		      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	/* Dies with vmm, however vmm ends. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(126);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
	}
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		dup2(fd, STDIN_FILENO);
	/* Read-only: the share is a read-only bind mount in this daemon's own mount namespace. */
	if (cfg->read_only &&
	    (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
	     mount(cfg->shared_dir, cfg->shared_dir, NULL, MS_BIND | MS_REC, NULL) < 0 ||
	     mount(NULL, cfg->shared_dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)) {
		fprintf(stderr, "vmm: read-only bind mount of %s: %s\n", cfg->shared_dir, strerror(errno));
		_exit(126);
	}
	/* Without CAP_MKNOD, the guest cannot make device nodes in the host's folder. */
	if (cfg->flavour == VIRTIOFSD_QEMU) {
		snprintf(source, sizeof(source), "source=%s", cfg->shared_dir);
		snprintf(sock, sizeof(sock), "--socket-path=%s", cfg->socket_path);
		execl(cfg->binary, cfg->binary, sock, "-o", source, "-o", "cache=auto",
		      "-o", "sandbox=namespace", "-o", "no_posix_lock", "-o", "xattr",
		      "-o", "modcaps=-mknod", (char *)NULL);
	} else {
		execl(cfg->binary, cfg->binary, "--socket-path", cfg->socket_path, "--shared-dir",
		      cfg->shared_dir, "--cache", "auto", "--sandbox", "namespace", "--xattr",
		      "--modcaps=-mknod", cfg->read_only ? "--readonly" : "--announce-submounts", (char *)NULL);
	}
	fprintf(stderr, "vmm: exec %s: %s\n", cfg->binary, strerror(errno));
	_exit(127);
}

static int exit_error(const struct virtiofsd_config *cfg, int status, struct error *e)
{
	if (WIFEXITED(status))
		return err_set(e, -EIO, "virtiofsd for %s exited with status %d%s%s", cfg->shared_dir,
			       WEXITSTATUS(status), cfg->log_path ? " (see " : "",
			       cfg->log_path ? cfg->log_path : "");
	return err_set(e, -EIO, "virtiofsd for %s was killed by signal %d", cfg->shared_dir,
		       WTERMSIG(status));
}

int virtiofsd_start(const struct virtiofsd_config *cfg, struct virtiofsd **out, struct error *e)
{
	struct virtiofsd_config probed;
	struct virtiofsd *d;
	struct stat st;
	uint64_t deadline;
	int status;

	if (cfg->flavour == VIRTIOFSD_UNKNOWN) {
		probed = *cfg;
		probed.flavour = virtiofsd_probe(cfg->binary);
		cfg = &probed;
	}
	if (stat(cfg->shared_dir, &st) < 0)
		return err_sys(e, -errno, "shared folder %s", cfg->shared_dir);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, -ENOTDIR, "shared folder %s: not a directory", cfg->shared_dir);
	d = calloc(1, sizeof(*d));
	if (!d)
		return err_set(e, -ENOMEM, "out of memory");
	if (strlen(cfg->socket_path) >= sizeof(d->socket_path)) {
		free(d);
		return err_set(e, -ENAMETOOLONG, "virtiofsd socket path %s is too long", cfg->socket_path);
	}
	snprintf(d->socket_path, sizeof(d->socket_path), "%s", cfg->socket_path);
	unlink(d->socket_path);
	d->pid = fork();
	if (d->pid < 0) {
		free(d);
		return err_sys(e, -errno, "fork for virtiofsd");
	}
	if (d->pid == 0)
		exec_daemon(cfg);
	/* our child, not yet reaped: the pid is its own. Ended through this (no kill() once confined). */
	d->pidfd = pidfd_open(d->pid, 0);
	for (deadline = now_ms() + VIRTIOFSD_START_TIMEOUT_MS; access(d->socket_path, F_OK) < 0;) {
		pid_t w = waitpid(d->pid, &status, WNOHANG);

		if (w == d->pid) {
			if (d->pidfd >= 0)
				close(d->pidfd);
			free(d);
			return exit_error(cfg, status, e);
		}
		if (now_ms() > deadline) {
			virtiofsd_stop(d);
			return err_set(e, -ETIMEDOUT, "virtiofsd for %s did not create its socket in %d s",
				       cfg->shared_dir, VIRTIOFSD_START_TIMEOUT_MS / 1000);
		}
		usleep(5000);
	}
	*out = d;
	return 0;
}

pid_t virtiofsd_pid(const struct virtiofsd *d)
{
	return d->pid;
}

static void end(const struct virtiofsd *d, int sig)
{
	if (d->pidfd < 0 || pidfd_send_signal(d->pidfd, sig, NULL, 0) < 0)
		kill(d->pid, sig);
}

void virtiofsd_stop(struct virtiofsd *d)
{
	uint64_t deadline = now_ms() + STOP_GRACE_MS;
	int status;

	if (!d)
		return;
	end(d, SIGTERM);
	while (waitpid(d->pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			end(d, SIGKILL);
			waitpid(d->pid, &status, 0);
			break;
		}
		usleep(5000);
	}
	if (d->pidfd >= 0)
		close(d->pidfd);
	unlink(d->socket_path);
	free(d);
}
