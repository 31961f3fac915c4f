/*
 * Test-only: a thread confined as a vCPU thread is (vmm/confine.c) tries
 * what a hijacked one would. Prints one "NAME=RESULT" per attempt and the
 * time the filter took to load; tests/integration/50-run.sh reads it.
 *
 * `confine-probe vmm [--inet] DIR`: this process confined as a VMM is once
 * its VM is built (confine_vmm keeping DIR: the jail, no capabilities, the
 * event loop's filter), then the same attempts, and what the role keeps.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
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

/* The names in view at "/", sorted by the kernel's order: one line, space-separated. */
static void list_root(void)
{
	DIR *d = opendir("/");
	struct dirent *de;

	printf("root=");
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			printf("%s ", de->d_name);
	printf("\n");
	if (d)
		closedir(d);
}

static void cap_eff(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7) || !strncmp(line, "CapBnd:", 7) || !strncmp(line, "NoNewPrivs:", 11) ||
		    !strncmp(line, "Seccomp:", 8))
			printf("%.*s=%s", (int)strcspn(line, ":"), line, line + strcspn(line, "\t") + 1);
	if (f)
		fclose(f);
}

static int probe_vmm(int argc, char **argv)
{
	bool inet = argc > 2 && !strcmp(argv[2], "--inet");
	const char *dir = argv[argc - 1];
	const char *dirs[] = { dir, NULL };
	char *const args[] = { "/bin/true", NULL };
	char path[4200];
	struct error e = { 0 };
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	if (confine_vmm(&(struct confine_vmm){ .who = "confine-probe", .dirs = dirs, .loop = { .inet = inet } },
			&e)) {
		printf("confine=%s\n", e.msg);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("confine_us=%ld\n", (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000);
	printf("execve=%s\n", result(execve("/bin/true", args, args + 1)));
	printf("open=%s\n", result(open("/etc/shadow", O_RDONLY)));
	printf("socket=%s\n", result(socket(AF_INET, SOCK_STREAM, 0)));
	printf("fork=%s\n", result(fork()));
	printf("kill=%s\n", result(kill(1, 0)));
	printf("mount=%s\n", result(mount("none", "/", "tmpfs", 0, NULL)));
	/* what the role keeps */
	snprintf(path, sizeof(path), "%s/kept", dir);
	printf("kept_dir=%s\n", result(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)));
	printf("unix_socket=%s\n", result(socket(AF_UNIX, SOCK_STREAM, 0)));
	printf("proc_self=%s\n", result(open("/proc/self/status", O_RDONLY)));
	printf("proc_1=%s\n", result(open("/proc/1/environ", O_RDONLY)));
	list_root();
	cap_eff();
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc > 1 && !strcmp(argv[1], "vmm"))
		return probe_vmm(argc, argv);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pthread_create(&t, NULL, probe, NULL))
		return 1;
	pthread_join(t, NULL);
	/* the main thread was never confined */
	printf("main_open=%s\n", result(open("/etc/hostname", O_RDONLY)));
	return 0;
}
