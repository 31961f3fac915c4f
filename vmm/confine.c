#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>

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

int confine_vcpu_thread(struct error *e)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int ret = ctx ? 0 : -ENOMEM;

	for (size_t i = 0; !ret && i < sizeof(vcpu_syscalls) / sizeof(vcpu_syscalls[0]); i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, vcpu_syscalls[i], 0);
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

int confine_process_limits(struct error *e)
{
	const struct rlimit no_core = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		return err_set(e, -errno, "no core dumps (RLIMIT_CORE): %s", strerror(errno));
	return 0;
}
