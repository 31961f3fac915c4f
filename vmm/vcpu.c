/* vCPU threads: KVM_RUN and the one exit switch; devices only see register accesses. */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/confine.h"
#include "vmm/vm.h"
#include "vmm/x86/quirks-pvm.h"

int vcpu_init(struct vm *vm, unsigned id, struct error *e)
{
	struct vcpu *v = &vm->vcpus[id];

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		int err = err_sys(e, -errno, "KVM_CREATE_VCPU %u", id);

		v->fd = 0;
		return err;
	}
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		int err = err_sys(e, -errno, "vCPU %u: mmap kvm_run", id);

		v->run = NULL;
		return err;
	}
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->run || !vcpu->thread_started)
		return;
	/* Seen by KVM_RUN if the thread is not inside it yet; the signal covers the rest. */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, SIGUSR1);
}

void vcpu_dump_regs(struct vcpu *vcpu, char *buf, size_t len)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		snprintf(buf, len, "  (registers unavailable: %s)", strerror(errno));
		return;
	}
	snprintf(buf, len,
		 "  vCPU %u: RIP=%016llx RSP=%016llx RFLAGS=%08llx CPL=%u\n"
		 "  RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n"
		 "  RSI=%016llx RDI=%016llx RBP=%016llx R8 =%016llx\n"
		 "  R9 =%016llx R10=%016llx R11=%016llx R12=%016llx\n"
		 "  R13=%016llx R14=%016llx R15=%016llx\n"
		 "  CS=%04x SS=%04x CR0=%08llx CR2=%016llx CR3=%016llx CR4=%08llx EFER=%llx",
		 vcpu->id, r.rip, r.rsp, r.rflags, s.cs.dpl,
		 r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.r8,
		 r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15,
		 s.cs.selector, s.ss.selector, s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
}

static void crash(struct vcpu *vcpu, const char *what)
{
	char regs[1024];

	vcpu_dump_regs(vcpu, regs, sizeof(regs));
	vm_end(vcpu->vm, VM_END_CRASH, 0, "%s\n%s", what, regs);
}

static void internal_error(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char what[256];
	int n;

	if (vcpu->vm->pvm && pvm_handle_internal_error(vcpu))
		return;
	n = snprintf(what, sizeof(what), "KVM internal error (suberror %u%s)",
		     run->internal.suberror,
		     run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? ": instruction emulation failed" : "");
	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		unsigned len = MIN(run->emulation_failure.insn_size, 15u);

		n += snprintf(what + n, sizeof(what) - n, ", instruction bytes:");
		for (unsigned i = 0; i < len && n < (int)sizeof(what) - 4; i++)
			n += snprintf(what + n, sizeof(what) - n, " %02x", run->emulation_failure.insn_bytes[i]);
	}
	crash(vcpu, what);
}

static void system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_end(vcpu->vm, VM_END_HALT, 0, "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_end(vcpu->vm, VM_END_RESET, 0, "guest reset");
		break;
	default:
		crash(vcpu, "guest crashed (KVM system event)");
		break;
	}
}

/* Asked by the watchdog: are we halted with interrupts off (a power-off)? */
static void report_halt(struct vcpu *vcpu)
{
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	bool halted = false;

	if (ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp) == 0 && mp.mp_state == KVM_MP_STATE_HALTED &&
	    ioctl(vcpu->fd, KVM_GET_REGS, &regs) == 0)
		halted = !(regs.rflags & (1u << 9));	/* IF */
	atomic_store(&vcpu->halted, halted);
}

/* Debug profiler (VMM_PROFILE=FILE): where is the guest right now? */
static void sample_rip(struct vcpu *vcpu)
{
	struct kvm_regs regs;
	char line[32];
	int n;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
		return;
	n = snprintf(line, sizeof(line), "%llx\n", regs.rip);
	if (write(vcpu->vm->profile_fd, line, n) < 0)
		vcpu->vm->profile_fd = -1;
}

static void handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint8_t *data = (uint8_t *)run + run->io.data_offset;

		for (unsigned i = 0; i < run->io.count; i++, data += run->io.size)
			io_bus_access(&vm->pio, run->io.port, data, run->io.size,
				      run->io.direction == KVM_EXIT_IO_OUT);
		break;
	}
	case KVM_EXIT_MMIO:
		io_bus_access(&vm->mmio, run->mmio.phys_addr, run->mmio.data,
			      MIN(run->mmio.len, 8u), run->mmio.is_write);
		break;
	case KVM_EXIT_SHUTDOWN:
		crash(vcpu, "triple fault (KVM_EXIT_SHUTDOWN)");
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		system_event(vcpu);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		internal_error(vcpu);
		break;
	case KVM_EXIT_FAIL_ENTRY: {
		char what[128];

		snprintf(what, sizeof(what), "VM entry failed (hardware reason 0x%llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		crash(vcpu, what);
		break;
	}
	case KVM_EXIT_HLT:	/* only without the in-kernel irqchip */
	case KVM_EXIT_INTR:
		break;
	default: {
		char what[64];

		snprintf(what, sizeof(what), "unexpected KVM exit reason %u", run->exit_reason);
		crash(vcpu, what);
		break;
	}
	}
}

void vcpu_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	/* Let KVM finish an I/O exit we handled: it completes it, then sees immediate_exit. */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (ioctl(vcpu->fd, KVM_RUN, 0) == 0)
		handle_exit(vcpu);	/* a last exit that raced with the pause */
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);

	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (atomic_load(&vm->pause_req) && vm_end_reason(vm) == VM_END_NONE)
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t set;

	struct error e = { 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* before the first guest instruction (docs/sandbox.md) */
	if (confine_vcpu_thread(&e)) {
		vm_end(vm, VM_END_ERROR, 0, "vCPU %u: %s", vcpu->id, e.msg);
		return NULL;
	}
	while (vm_end_reason(vm) == VM_END_NONE) {
		if (atomic_load(&vm->pause_req)) {
			vcpu_park(vcpu);
			continue;
		}
		if (vm->pvm)
			pvm_before_run(vcpu);
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno != EINTR && errno != EAGAIN) {
				vm_end(vm, VM_END_ERROR, 0, "vCPU %u: KVM_RUN: %s", vcpu->id, strerror(errno));
				break;
			}
			__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			if (atomic_exchange(&vcpu->check_halt, false))
				report_halt(vcpu);
			if (atomic_exchange(&vcpu->sample_rip, false))
				sample_rip(vcpu);
			continue;
		}
		atomic_store(&vcpu->halted, false);
		handle_exit(vcpu);
	}
	return NULL;
}
