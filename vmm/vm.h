/* A VM: KVM handles, guest RAM, vCPUs, the I/O buses and how the guest ended. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/io.h"
#include "vmm/memory.h"

struct console;
struct error;
struct event_loop;
struct kvm_run;
struct pvm_quirks;

#define VM_MAX_CPUS 32

enum quirks_mode { QUIRKS_AUTO, QUIRKS_ON, QUIRKS_OFF };

struct vm_config {
	const char *name;	/* tag for log lines */
	uint64_t mem_size;	/* bytes */
	unsigned ncpus;
	enum quirks_mode quirks;
	const char *mem_file;	/* restore: map guest RAM from this snapshot file; NULL: fresh RAM */
	bool shared_mem;	/* RAM in a memfd that vhost-user daemons map too */
	/*
	 * Called once by vm_start, single-threaded, before the vCPU threads:
	 * the process confines itself (vmm/confine.h) with everything open.
	 */
	int (*confine)(void *opaque, struct error *e);
	void *confine_opaque;
};

enum vm_end_reason {
	VM_END_NONE,
	VM_END_EXIT_STATUS,	/* the guest wrote its exit status to the exit device */
	VM_END_RESET,		/* the guest rebooted without giving a status */
	VM_END_HALT,		/* every vCPU halted with interrupts off: a power-off */
	VM_END_PANIC,		/* guest kernel panic (seen on the console) */
	VM_END_CRASH,		/* triple fault, emulation failure, failed entry */
	VM_END_HOST,		/* stopped from the host (signal, stop request) */
	VM_END_ERROR,		/* vmm failed */
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	atomic_bool check_halt;	/* asked by the watchdog to report a halted state */
	atomic_bool halted;	/* last report: halted with interrupts disabled */
	atomic_bool sample_rip;	/* asked by the profiler for the current RIP */
};

struct vm {
	const char *name;
	int kvm_fd;
	int vm_fd;
	int run_size;
	struct guest_mem mem;
	unsigned ncpus;
	struct vcpu vcpus[VM_MAX_CPUS];
	struct io_bus pio;
	struct io_bus mmio;
	struct event_loop *loop;
	struct console *console;
	struct pvm_quirks *pvm;	/* host quirks, NULL on hardware KVM */
	uint32_t tsc_khz;
	int watchdog_fd;
	int profile_fd;		/* VMM_PROFILE: guest RIP samples, one hex per line */
	int profile_timer_fd;
	int (*confine)(void *opaque, struct error *e);	/* vm_config's */
	void *confine_opaque;

	/* vm_pause/vm_resume: vCPUs park outside KVM_RUN, state consistent */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	atomic_bool pause_req;
	unsigned parked;

	pthread_mutex_t end_lock;
	atomic_int end_reason;	/* enum vm_end_reason */
	int end_status;
	char end_detail[4096];
};

/* Open KVM, create the VM, its RAM and vCPUs. 0 or -errno with e. */
int vm_create(const struct vm_config *cfg, struct event_loop *loop,
	      struct console *con, struct vm **out, struct error *e);
void vm_destroy(struct vm *vm);

/* Start one thread per vCPU, and the halt watchdog on the loop. 0 or -errno with e. */
int vm_start(struct vm *vm, struct error *e);
/* Record how the VM ended (the first call wins), stop the loop, kick the vCPUs. */
void vm_end(struct vm *vm, enum vm_end_reason reason, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Wait for the vCPU threads after vm_end. */
void vm_join(struct vm *vm);
enum vm_end_reason vm_end_reason(struct vm *vm);
/*
 * Stop every vCPU outside KVM_RUN with its pending I/O completed, so its
 * state can be read or written; false when the VM ended meanwhile.
 */
bool vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);

/* Interrupt lines (GSI): level, or a rising and falling edge. */
int vm_irq_line(struct vm *vm, unsigned irq, int level);
int vm_irq_pulse(struct vm *vm, unsigned irq);

/* vcpu.c */
int vcpu_init(struct vm *vm, unsigned id, struct error *e);
void *vcpu_thread(void *arg);
void vcpu_kick(struct vcpu *vcpu);
/* Format the vCPU registers for an error report (call on the vCPU's own thread). */
void vcpu_dump_regs(struct vcpu *vcpu, char *buf, size_t len);
/* On the vCPU thread: park while a pause is requested. */
void vcpu_park(struct vcpu *vcpu);

#endif
