/*
 * Test-only: a thread confined as a vCPU thread is (vmm/confine.c) tries
 * what a hijacked one would. Prints one "NAME=RESULT" per attempt and the
 * time the filter took to load; tests/integration/50-run.sh reads it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/confine.h"

static const char *result(long ret)
{
	return ret >= 0 ? "ALLOWED" : errno == EPERM ? "EPERM" : strerrorname_np(errno);
}

static void *probe(void *arg)
{
	struct error e = { 0 };
	struct timespec a, b;
	char *const argv[] = { "/bin/true", NULL };

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (confine_vcpu_thread(&e)) {
		printf("confine=%s\n", e.msg);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("load_us=%ld\n", (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000);
	printf("execve=%s\n", result(execve("/bin/true", argv, argv + 1)));
	printf("open=%s\n", result(open("/etc/shadow", O_RDONLY)));
	printf("socket=%s\n", result(socket(AF_INET, SOCK_STREAM, 0)));
	/* what the role keeps: a KVM request reaches the kernel (EBADF on no descriptor) */
	printf("kvm_ioctl=%s\n", result(ioctl(-1, KVM_RUN, 0)));
	printf("other_ioctl=%s\n", result(ioctl(-1, FIONREAD, 0)));
	fflush(stdout);
	return NULL;
}

int main(void)
{
	pthread_t t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pthread_create(&t, NULL, probe, NULL))
		return 1;
	pthread_join(t, NULL);
	/* the main thread was never confined */
	printf("main_open=%s\n", result(open("/etc/hostname", O_RDONLY)));
	return 0;
}
