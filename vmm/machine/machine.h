/*
 * A bootable machine: event loop, console, VM, the base devices (UART,
 * i8042, RTC, exit device) and the kernel command line. `vmm boot` and
 * `vmm run` build on it, adding their own devices before machine_boot().
 */
#ifndef VMM_MACHINE_MACHINE_H
#define VMM_MACHINE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/cmdline.h"
#include "vmm/console.h"
#include "vmm/vm.h"

#define MACHINE_MAX_DISKS 8

struct event_loop;
struct serial;
struct virtio_blk;
struct rtc;

struct machine_config {
	const char *name;
	const char *kernel;
	const char *initrd;		/* NULL: none */
	const char *user_cmdline;	/* appended last; NULL: none */
	uint64_t mem_size;		/* bytes */
	unsigned ncpus;
	enum quirks_mode quirks;
	const char *mem_file;		/* restoring a snapshot: its memory file */
	int console_fd;			/* guest console output; -1 discards */
	bool console_input;		/* forward stdin to the UART */
	/*
	 * SIGINT/SIGTERM/SIGHUP (and SIGWINCH) go here instead of stopping the
	 * VM, on the loop thread; NULL: a signal ends the VM (vmm boot).
	 */
	void (*on_signal)(void *opaque, int sig);
	void *signal_opaque;
};

struct machine {
	struct machine_config cfg;
	struct event_loop *loop;
	struct console console;
	struct vm *vm;
	struct serial *serial;
	struct rtc *rtc;
	struct cmdline cmdline;	/* devices add their parameters before boot */
	struct virtio_blk *disks[MACHINE_MAX_DISKS];
	unsigned ndisks;
	int signal_fd;
	int exit_signal;	/* the host signal that stopped us, 0 if none */
	uint64_t start_ns;
};

struct virtio_blk_config;

/* Check the configuration before touching /dev/kvm: one clear line per problem. */
int machine_validate(const struct machine_config *cfg);
int machine_create(const struct machine_config *cfg, struct machine **out);
/* Attach a virtio-blk disk (in order: the first is /dev/vda). Logs; 0 or -errno. */
int machine_add_disk(struct machine *m, const struct virtio_blk_config *cfg);
/* Compose the command line, load kernel and initrd, start the vCPUs. */
int machine_boot(struct machine *m);
/* Serve the event loop until the guest ends; then join the vCPUs. */
int machine_wait(struct machine *m);
/*
 * Say how the guest ended (an error line plus console tail or registers for
 * panics and crashes) and return vmm's exit status: the guest's status,
 * 128+signal when stopped by a signal, or EXIT_VMM_ERROR (125).
 */
int machine_report(struct machine *m);
void machine_destroy(struct machine *m);

/* Monotonic nanoseconds since the machine was created. */
uint64_t machine_uptime_ns(const struct machine *m);

#endif
