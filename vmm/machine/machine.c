#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devices/serial.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/loop.h"
#include "vmm/machine/machine-internal.h"
#include "vmm/x86/boot.h"
#include "vmm/x86/elf.h"
#include "vmm/x86/quirks-pvm.h"

#define MIN_MEMORY	(32 * MiB)
#define MAX_MEMORY	(1024 * GiB)


uint64_t machine_uptime_ns(const struct machine *m)
{
	return (uint64_t)monotonic_ns() - m->start_ns;
}

static int check_file(const char *what, const char *path, struct error *e)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return err_sys(e, -errno, "%s %s", what, path);
	if (!S_ISREG(st.st_mode))
		return err_set(e, -EINVAL, "%s %s: not a regular file", what, path);
	if (access(path, R_OK) < 0)
		return err_sys(e, -errno, "%s %s", what, path);
	return 0;
}

int machine_validate(const struct machine_config *cfg, struct error *e)
{
	uint64_t host_ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
	int ret;

	if (!cfg->kernel)
		return err_set(e, -EINVAL, "no kernel given (use --kernel build/vmlinux; `make kernel` builds it)");
	ret = check_file("kernel", cfg->kernel, e);
	if (ret)
		return ret;
	if (cfg->initrd) {
		ret = check_file("initrd", cfg->initrd, e);
		if (ret)
			return ret;
	}
	if (cfg->mem_size < MIN_MEMORY || cfg->mem_size > MAX_MEMORY)
		return err_set(e, -ERANGE, "--memory %llu MiB: out of range (%llu MiB to %llu GiB)",
			       (unsigned long long)(cfg->mem_size >> 20),
			       (unsigned long long)(MIN_MEMORY >> 20), (unsigned long long)(MAX_MEMORY >> 30));
	if (cfg->mem_size > host_ram)
		return err_set(e, -ERANGE, "--memory %llu MiB: more than this host's %llu MiB of RAM",
			       (unsigned long long)(cfg->mem_size >> 20), (unsigned long long)(host_ram >> 20));
	if (cfg->ncpus < 1 || cfg->ncpus > VM_MAX_CPUS)
		return err_set(e, -ERANGE, "--cpus %u: out of range (1 to %d)", cfg->ncpus, VM_MAX_CPUS);
	if (cfg->user_cmdline && strlen(cfg->user_cmdline) >= CMDLINE_MAX - 256)
		return err_set(e, -E2BIG, "--cmdline is %zu bytes; at most %d fit beside vmm's own parameters",
			       strlen(cfg->user_cmdline), CMDLINE_MAX - 257);
	/* The kernel itself (ELF, x86-64, fits in RAM): a bad one is refused before /dev/kvm is opened. */
	if ((ret = elf_check_file(cfg->kernel, cfg->mem_size, e)))
		return ret;
	if (cfg->nshares > MACHINE_MAX_SHARES)
		return err_set(e, -E2BIG, "%u shared folders: at most %d", cfg->nshares, MACHINE_MAX_SHARES);
	for (unsigned i = 0; i < cfg->nshares; i++) {
		struct stat st;

		if (stat(cfg->shares[i].host_dir, &st) < 0)
			return err_sys(e, -errno, "shared folder %s", cfg->shares[i].host_dir);
		if (!S_ISDIR(st.st_mode))
			return err_set(e, -ENOTDIR, "shared folder %s: not a directory", cfg->shares[i].host_dir);
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(cfg->shares[i].tag, cfg->shares[j].tag))
				return err_set(e, -EINVAL, "shared folder tag '%s' is used twice", cfg->shares[i].tag);
	}
	return 0;
}

static void on_signal(void *opaque, uint32_t events)
{
	struct machine *m = opaque;
	struct signalfd_siginfo si;

	if (read(m->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	/*
	 * The supervisor passes on what it gets, a process group's signal (kill %1)
	 * included, as MACHINE_SIG_PASSED: a real-time signal queues, where a second
	 * SIGTERM pending beside the direct one would merge into it and be lost.
	 */
	if (m->cfg.signals_from && si.ssi_signo == (uint32_t)MACHINE_SIG_PASSED &&
	    (pid_t)si.ssi_pid == m->cfg.signals_from && si.ssi_code == SI_QUEUE)
		si.ssi_signo = si.ssi_int;
	else if (m->cfg.signals_from && si.ssi_code != SI_KERNEL)
		return;
	if (si.ssi_signo != SIGINT && si.ssi_signo != SIGTERM && si.ssi_signo != SIGHUP &&
	    si.ssi_signo != SIGWINCH)
		return;
	if (m->cfg.on_signal) {
		m->cfg.on_signal(m->cfg.signal_opaque, si.ssi_signo);
		return;
	}
	m->exit_signal = si.ssi_signo;
	vm_end(m->vm, VM_END_HOST, 0, "stopped by signal %d", (int)si.ssi_signo);
}

static void on_stdin(void *opaque, uint32_t events)
{
	struct machine *m = opaque;
	char buf[256];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n <= 0) {	/* EOF or error: stop forwarding, keep the guest running */
		loop_remove(m->loop, STDIN_FILENO);
		return;
	}
	serial_input(m->serial, buf, n);
}

static int setup_signals(struct machine *m)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (m->cfg.on_signal)
		sigaddset(&set, SIGWINCH);
	if (m->cfg.signals_from)
		sigaddset(&set, MACHINE_SIG_PASSED);
	/* Blocked in every thread (vCPU threads inherit the mask), read via signalfd. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -EINVAL;
	m->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (m->signal_fd < 0)
		return -errno;
	return loop_add(m->loop, m->signal_fd, EPOLLIN, on_signal, m);
}

int machine_create(const struct machine_config *cfg, struct machine **out, struct error *e)
{
	struct vm_config vc = {
		.name = cfg->name, .mem_size = cfg->mem_size, .ncpus = cfg->ncpus, .quirks = cfg->quirks,
		.mem_file = cfg->mem_file, .shared_mem = cfg->nshares > 0,
		.confine = cfg->confine, .confine_opaque = cfg->confine_opaque,
	};
	struct machine *m;
	int ret;

	m = calloc(1, sizeof(*m));
	if (!m)
		return err_set(e, -ENOMEM, "out of memory");
	m->cfg = *cfg;
	m->cfg.mem_file = NULL;		/* only create's business; the caller's buffer */
	m->signal_fd = -1;
	m->start_ns = (uint64_t)monotonic_ns();
	console_init(&m->console, cfg->console_fd, cfg->console_max);
	cmdline_init(&m->cmdline);

	ret = loop_create(&m->loop);
	if (ret) {
		err_sys(e, ret, "event loop");
		goto fail;
	}
	ret = setup_signals(m);
	if (ret) {
		err_sys(e, ret, "signal handling");
		goto fail;
	}
	ret = vm_create(&vc, m->loop, &m->console, &m->vm, e);
	if (!ret)
		ret = machine_add_base_devices(m, e);
	if (!ret)
		ret = machine_add_devices(m, e);
	if (ret)
		goto fail;
	if (cfg->console_input && loop_add(m->loop, STDIN_FILENO, EPOLLIN, on_stdin, m))
		pr_debug("stdin cannot be polled; console input disabled");
	*out = m;
	return 0;
fail:
	machine_destroy(m);
	return ret;
}

static void compose_cmdline(struct machine *m)
{
	struct cmdline *c = &m->cmdline;
	struct cmdline user;

	/* Devices added theirs already; ours go first so the user's can override. */
	user = *c;
	cmdline_init(c);
	cmdline_add(c, "console=ttyS0 reboot=k panic=-1 quiet i8042.noaux io_delay=none");
	if (m->cfg.initrd)
		cmdline_add(c, "rdinit=/init");
	if (m->vm->pvm)
		pvm_quirks_cmdline(m->vm, c);
	if (user.len)
		cmdline_add(c, "%s", user.buf);
	if (m->cfg.user_cmdline && *m->cfg.user_cmdline)
		cmdline_add(c, "%s", m->cfg.user_cmdline);
	c->overflow |= user.overflow;
}

int machine_boot(struct machine *m, struct error *e)
{
	struct boot_config bc = { .kernel = m->cfg.kernel, .initrd = m->cfg.initrd };
	int ret;

	compose_cmdline(m);
	if (m->cmdline.overflow)
		return err_set(e, -E2BIG, "kernel command line longer than %d bytes (shorten --cmdline)",
			       CMDLINE_MAX - 1);
	bc.cmdline = m->cmdline.buf;
	dev_debug(m->vm->name, "cmdline: %s", bc.cmdline);
	ret = x86_boot(m->vm, &bc, e);
	if (ret)
		return ret;
	return vm_start(m->vm, e);
}

int machine_wait(struct machine *m)
{
	int ret = loop_run(m->loop);

	if (ret)
		vm_end(m->vm, VM_END_ERROR, 0, "event loop: %s", strerror(-ret));
	vm_join(m->vm);
	pvm_quirks_report(m->vm);
	return 0;
}

static void print_tail(struct machine *m, unsigned lines)
{
	char tail[4096];

	console_tail(&m->console, tail, sizeof(tail), lines);
	if (!*tail)
		return;
	fprintf(stderr, "vmm: last console lines:\n");
	for (char *line = strtok(tail, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(stderr, "  | %s\n", line);
}

bool machine_pause(struct machine *m)
{
	return vm_pause(m->vm);
}

void machine_resume(struct machine *m)
{
	vm_resume(m->vm);
}

enum vm_end_reason machine_end_reason(struct machine *m)
{
	enum vm_end_reason reason = vm_end_reason(m->vm);

	/* A reset right after a panic message is the panic's reboot (panic=-1). */
	if ((reason == VM_END_RESET || reason == VM_END_CRASH) && console_panicked(&m->console))
		reason = VM_END_PANIC;
	return reason;
}

int machine_report(struct machine *m)
{
	struct vm *vm = m->vm;
	enum vm_end_reason reason = machine_end_reason(m);

	dev_info(vm->name, "guest ended after %.3f s: %s",
		 machine_uptime_ns(m) / 1e9, vm->end_detail);

	switch (reason) {
	case VM_END_EXIT_STATUS:
		return vm->end_status;
	case VM_END_HALT:
	case VM_END_RESET:
		return 0;
	case VM_END_PANIC:
		dev_err(vm->name, "guest kernel panic (see the console lines below; "
			"boot with --cmdline loglevel=7 for more)");
		print_tail(m, 20);
		return EXIT_VMM_ERROR;
	case VM_END_CRASH:
		dev_err(vm->name, "guest crashed: %s", vm->end_detail);
		print_tail(m, 10);
		return EXIT_VMM_ERROR;
	case VM_END_HOST:
		return 128 + (m->exit_signal ? m->exit_signal : SIGTERM);
	case VM_END_ERROR:
	default:
		dev_err(vm->name, "%s", vm->end_detail);
		return EXIT_VMM_ERROR;
	}
}

void machine_destroy(struct machine *m)
{
	if (!m)
		return;
	if (m->loop && m->cfg.console_input)
		loop_remove(m->loop, STDIN_FILENO);
	machine_remove_devices(m);
	vm_destroy(m->vm);
	if (m->signal_fd >= 0)
		close(m->signal_fd);
	loop_destroy(m->loop);
	console_destroy(&m->console);
	free(m);
}
