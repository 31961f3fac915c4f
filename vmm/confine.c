#include <errno.h>
#include <linux/fs.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/confine.h"

#define KVMIO_TYPE	0xAE	/* the ioctl type of every KVM request (linux/kvm.h) */

/*
 * What a vCPU thread calls (strace of boots, exec, networking, pause, stats
 * and restores): KVM ioctls and the register state the PVM quirks move,
 * eventfd and console writes, futexes of the pause and end locks, the
 * SIGUSR1 that kicks it out of KVM_RUN, malloc and stdio for its messages,
 * and its own end.
 */
static const int vcpu_syscalls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(lseek), SCMP_SYS(close),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(futex), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall), SCMP_SYS(sched_yield),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(brk),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(tgkill), SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq), SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* a vhost-user device starts when the guest's driver says DRIVER_OK: messages on its socket */
	SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(poll),
	SCMP_SYS(ppoll),
};

static int allow_all(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
	return ret;
}

int confine_vcpu_thread(struct error *e)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int ret = ctx ? allow_all(ctx, vcpu_syscalls, sizeof(vcpu_syscalls) / sizeof(vcpu_syscalls[0])) : -ENOMEM;
	/* KVM's requests, and the terminal query stdio makes of stderr */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, KVMIO_TYPE << 8));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, TCGETS));
	if (!ret)	/* no_new_privs is libseccomp's default for the load */
		ret = seccomp_load(ctx);
	if (ctx)
		seccomp_release(ctx);
	return ret ? err_set(e, ret, "seccomp filter for a vCPU thread: %s", strerror(-ret)) : 0;
}

/*
 * What the event loop calls once the VM runs (the vCPU threads it starts
 * inherit this list under their own): the devices' I/O on descriptors it
 * holds, libslirp's sockets, the files it writes in its own folders (logs,
 * state, the warm-start snapshot; confine_jail keeps nothing else in view),
 * the control socket's clients, and the end of the virtiofsd children it
 * started. Not here: execve, fork,
 * mount, namespaces, ptrace, kill (pidfd_send_signal to its own children
 * instead), module and key calls, and every other ioctl.
 */
static const int loop_syscalls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
	SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev), SCMP_SYS(preadv2), SCMP_SYS(pwritev2),
	SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(fcntl),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(stat), SCMP_SYS(lstat),
	SCMP_SYS(fstatfs), SCMP_SYS(statfs), SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(fallocate),
	SCMP_SYS(ftruncate), SCMP_SYS(sync_file_range), SCMP_SYS(copy_file_range), SCMP_SYS(sendfile),
	SCMP_SYS(flock), SCMP_SYS(getdents64), SCMP_SYS(fadvise64),
	/* names: only what confine_jail left in view */
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rename),
	SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rmdir),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2), SCMP_SYS(linkat), SCMP_SYS(fchmod), SCMP_SYS(utimensat), SCMP_SYS(umask),
	SCMP_SYS(getcwd),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(mremap),
	SCMP_SYS(msync), SCMP_SYS(brk),
	SCMP_SYS(socketpair), SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept),
	SCMP_SYS(accept4), SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg), SCMP_SYS(shutdown), SCMP_SYS(getsockopt),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_pwait2), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
	SCMP_SYS(eventfd2), SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime),
	SCMP_SYS(signalfd4), SCMP_SYS(pipe), SCMP_SYS(pipe2),
	SCMP_SYS(futex), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(wait4),
	SCMP_SYS(waitid), SCMP_SYS(pidfd_send_signal), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(getrlimit), SCMP_SYS(getrusage), SCMP_SYS(sysinfo), SCMP_SYS(uname), SCMP_SYS(getrandom),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
};

/* The loop's ioctls: KVM's, a terminal's that change no one else's input, a raw disk's discard. */
static const unsigned long loop_ioctls[] = {
	TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, BLKDISCARD,
	BLKZEROOUT,
};

static int loop_rules(scmp_filter_ctx ctx, const struct confine_loop *o)
{
	pid_t self = getpid();
	int ret = allow_all(ctx, loop_syscalls, sizeof(loop_syscalls) / sizeof(loop_syscalls[0]));

	/* threads, never a new process; clone3's flags are out of a filter's reach: glibc falls back */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* signals to our own threads only (the vCPU kick, raise) */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, SCMP_A0(SCMP_CMP_EQ, self));
	/* a thread's name, and a vCPU thread loading its own filter on top (it can only narrow) */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				       SCMP_A0(SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 0);
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	for (int family = AF_INET; !ret && o->inet && family; family = family == AF_INET ? AF_INET6 : 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, family));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, KVMIO_TYPE << 8));
	for (size_t i = 0; !ret && i < sizeof(loop_ioctls) / sizeof(loop_ioctls[0]); i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, loop_ioctls[i]));
	return ret;
}

int confine_loop_thread(const struct confine_loop *o, struct error *e)
{
	scmp_filter_ctx ctx = seccomp_init(o->log ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EPERM));
	int ret = ctx ? loop_rules(ctx, o) : -ENOMEM;

	if (!ret)
		ret = seccomp_load(ctx);
	if (ctx)
		seccomp_release(ctx);
	return ret ? err_set(e, ret, "seccomp filter for the event loop: %s", strerror(-ret)) : 0;
}

int confine_process_limits(struct error *e)
{
	const struct rlimit no_core = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		return err_set(e, -errno, "no core dumps (RLIMIT_CORE): %s", strerror(errno));
	return 0;
}
