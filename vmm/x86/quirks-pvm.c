/*
 * Host quirks of the nested "PVM" KVM implementation (see docs/host-pvm.md).
 *
 * Guest ring 0 runs in KVM's instruction emulator there. Some instructions
 * stop it (KVM_EXIT_INTERNAL_ERROR): int3, fwait, and a few the command line
 * keeps the kernel away from. SYSCALL from ring 3 is delivered without the
 * switch to ring 0, so its first fetch page faults: we plant an int3 over the
 * first instruction of the guest's #PF entry, and when the exception frame
 * shows that misdelivered SYSCALL, we complete it here.
 *
 * Nothing in this file runs on hardware KVM.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/cmdline.h"
#include "vmm/base/log.h"
#include "vmm/snapfile.h"
#include "vmm/vm.h"
#include "vmm/x86/paging.h"
#include "vmm/x86/quirks-pvm.h"

#define MSR_STAR	0xc0000081
#define MSR_LSTAR	0xc0000082
#define INSN_INT3	0xcc
#define INSN_FWAIT	0x9b
#define INSN_CLD	0xfc
#define RFLAGS_DF	(1ULL << 10)
#define PF_VECTOR	14
#define BP_VECTOR	3

struct pvm_quirks {
	struct vm *vm;
	pthread_mutex_t lock;
	uint64_t plant_gva;	/* where our int3 sits, 0 when not planted */
	uint64_t plant_gpa;
	uint8_t *plant_hva;
	uint8_t orig[8];	/* the instruction it replaced */
	unsigned orig_len;
	bool orig_is_cld;	/* replaced a CLD (emulate) rather than a NOP (skip) */
	bool warned_no_plant;
	/* The kernel writes LSTAR and STAR once per CPU, the same on all: read them once. */
	atomic_ullong lstar, star;
	atomic_ulong int3_injected, syscalls, fwaits, pf_skips;
};

int pvm_quirks_create(struct vm *vm, struct pvm_quirks **out)
{
	struct pvm_quirks *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->vm = vm;
	pthread_mutex_init(&q->lock, NULL);
	*out = q;
	return 0;
}

void pvm_quirks_destroy(struct pvm_quirks *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->lock);
	free(q);
}

void pvm_quirks_cmdline(struct vm *vm, struct cmdline *c)
{
	/*
	 * noxsave: xrstor is not emulated. clearcpuid: popcnt(151), rdrand(158),
	 * rdseed(306), smap(308: clac/stac), erms(297), fsrm(580). CPUID cannot
	 * hide these here, the command line can. no-kvmclock: its vmcall never
	 * completes. noreplace-smp: avoids rewriting every lock prefix through
	 * text_poke. retain_initrd: skips freeing it byte by byte.
	 */
	cmdline_add(c, "noxsave clearcpuid=151,158,306,308,297,580 nofsgsbase "
		    "no-kvmclock noreplace-smp retain_initrd tsc=reliable");
	if (vm->tsc_khz)
		cmdline_add(c, "tsc_early_khz=%u", vm->tsc_khz);
}

/* Length of a NOP encoding at p (1-8 bytes), 0 when p is not a NOP. */
static unsigned nop_len(const uint8_t *p)
{
	static const uint8_t nops[][8] = {
		{ 0x90 },
		{ 0x66, 0x90 },
		{ 0x0f, 0x1f, 0x00 },
		{ 0x0f, 0x1f, 0x40, 0x00 },
		{ 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		{ 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		{ 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
		{ 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
	};

	for (int len = 8; len >= 1; len--)
		if (!memcmp(p, nops[len - 1], len))
			return len;
	return 0;
}

static int get_state(struct vcpu *vcpu, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
	if (regs && ioctl(vcpu->fd, KVM_GET_REGS, regs) < 0)
		return -errno;
	if (sregs && ioctl(vcpu->fd, KVM_GET_SREGS, sregs) < 0)
		return -errno;
	return 0;
}

/* Find the guest's #PF handler and put an int3 over its first instruction. */
static void try_plant(struct pvm_quirks *q, struct vcpu *vcpu)
{
	const struct guest_mem *mem = &q->vm->mem;
	struct kvm_sregs s;
	uint8_t gate[16], code[16];
	uint64_t handler, gpa;
	uint8_t *hva;
	unsigned skip = 0, len;
	bool cld = false;

	if (get_state(vcpu, NULL, &s) || !(s.cr0 & X86_CR0_PG) || !(s.efer & X86_EFER_LMA))
		return;
	if (s.idt.limit < PF_VECTOR * 16 + 15)
		return;
	if (x86_read_virt(mem, s.cr3, s.cr4, s.idt.base + PF_VECTOR * 16, gate, sizeof(gate)))
		return;
	handler = (uint64_t)(gate[0] | gate[1] << 8) | (uint64_t)(gate[6] | gate[7] << 8) << 16 |
		  (uint64_t)((uint32_t)gate[8] | gate[9] << 8 | gate[10] << 16 | (uint32_t)gate[11] << 24) << 32;
	if (x86_read_virt(mem, s.cr3, s.cr4, handler, code, sizeof(code)))
		return;
	if (code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa)
		skip = 4;	/* endbr64 */
	if (code[skip] == INSN_INT3)
		return;		/* someone else's breakpoint: leave it */
	len = nop_len(code + skip);
	if (!len && code[skip] == INSN_CLD) {
		len = 1;
		cld = true;
	}
	if (!len) {
		/* Early boot has other IDT handlers; only user mode makes it fatal. */
		if (s.cs.dpl == 3 && !q->warned_no_plant) {
			dev_warn(q->vm->name, "PVM: #PF entry at 0x%llx starts with %02x %02x %02x, "
				 "not a NOP or CLD: SYSCALL from user space will fail",
				 (unsigned long long)handler, code[skip], code[skip + 1], code[skip + 2]);
			q->warned_no_plant = true;
		}
		return;
	}
	if (x86_gva_to_gpa(mem, s.cr3, s.cr4, handler + skip, &gpa))
		return;
	hva = guest_mem_ptr(mem, gpa, len);
	if (!hva)
		return;
	memcpy(q->orig, code + skip, len);
	q->orig_len = len;
	q->orig_is_cld = cld;
	q->plant_gva = handler + skip;
	q->plant_gpa = gpa;
	__atomic_store_n(&q->plant_hva, hva, __ATOMIC_RELEASE);
	__atomic_store_n(hva, INSN_INT3, __ATOMIC_SEQ_CST);
	dev_debug(q->vm->name, "planted int3 at #PF entry 0x%llx over %u-byte %s",
		  (unsigned long long)q->plant_gva, len, cld ? "cld" : "nop");
}

void pvm_before_run(struct vcpu *vcpu)
{
	struct pvm_quirks *q = vcpu->vm->pvm;

	uint8_t *hva = __atomic_load_n(&q->plant_hva, __ATOMIC_ACQUIRE);

	/* Fast path: still planted. The guest may rewrite its text (alternatives). */
	if (hva && __atomic_load_n(hva, __ATOMIC_RELAXED) == INSN_INT3)
		return;
	pthread_mutex_lock(&q->lock);
	if (!q->plant_hva || *q->plant_hva != INSN_INT3) {
		q->plant_hva = NULL;
		q->plant_gva = 0;
		try_plant(q, vcpu);
	}
	pthread_mutex_unlock(&q->lock);
}

static int inject_bp(struct vcpu *vcpu)
{
	struct kvm_vcpu_events ev;

	if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	ev.exception.injected = 1;
	ev.exception.nr = BP_VECTOR;
	ev.exception.has_error_code = 0;
	ev.exception.error_code = 0;
	return ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0 ? -errno : 0;
}

static int read_msr(struct vcpu *vcpu, uint32_t index, uint64_t *val)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = index };

	if (ioctl(vcpu->fd, KVM_GET_MSRS, &m) != 1)
		return -EIO;
	*val = m.e.data;
	return 0;
}

static uint64_t cached_msr(struct vcpu *vcpu, atomic_ullong *cache, uint32_t index)
{
	uint64_t v = atomic_load(cache);

	if (!v && !read_msr(vcpu, index, &v))
		atomic_store(cache, v);
	return v;
}

static void set_seg(struct kvm_segment *seg, uint16_t sel, bool code)
{
	*seg = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel,
		.type = code ? 0xb : 0x3, .present = 1, .dpl = 0,
		.db = code ? 0 : 1, .s = 1, .l = code ? 1 : 0, .g = 1,
	};
}

/*
 * Our int3 at the #PF entry fired. If the frame is a SYSCALL that PVM left at
 * CPL 3 (user-mode fetch fault at RIP == LSTAR), finish the SYSCALL: RCX/R11
 * and the masked RFLAGS were already set, only the switch to ring 0 is missing.
 * Otherwise it is a genuine page fault: do what the replaced instruction did.
 */
static bool handle_pf_entry(struct pvm_quirks *q, struct vcpu *vcpu,
			    struct kvm_regs *r, struct kvm_sregs *s)
{
	const struct guest_mem *mem = &q->vm->mem;
	uint64_t frame[6], lstar, star;	/* error, rip, cs, rflags, rsp, ss */

	if (!x86_read_virt(mem, s->cr3, s->cr4, r->rsp, frame, sizeof(frame)) &&
	    (frame[2] & 3) == 3 && (lstar = cached_msr(vcpu, &q->lstar, MSR_LSTAR)) &&
	    frame[1] == lstar && s->cr2 == lstar && (star = cached_msr(vcpu, &q->star, MSR_STAR))) {
		uint16_t kcs = (star >> 32) & 0xfffc;

		r->rip = lstar;
		r->rsp = frame[4];
		r->rflags = frame[3];
		set_seg(&s->cs, kcs, true);
		set_seg(&s->ss, kcs + 8, false);
		if (ioctl(vcpu->fd, KVM_SET_SREGS, s) < 0 || ioctl(vcpu->fd, KVM_SET_REGS, r) < 0)
			return false;
		atomic_fetch_add(&q->syscalls, 1);
		return true;
	}
	r->rip += q->orig_len;
	if (q->orig_is_cld)
		r->rflags &= ~RFLAGS_DF;
	atomic_fetch_add(&q->pf_skips, 1);
	return ioctl(vcpu->fd, KVM_SET_REGS, r) == 0;
}

bool pvm_handle_internal_error(struct vcpu *vcpu)
{
	struct pvm_quirks *q = vcpu->vm->pvm;
	struct kvm_run *run = vcpu->run;
	struct kvm_regs r;
	struct kvm_sregs s;
	uint8_t insn = 0;

	if (run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION)
		return false;
	if (get_state(vcpu, &r, &s))
		return false;
	if ((run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
	    run->emulation_failure.insn_size > 0)
		insn = run->emulation_failure.insn_bytes[0];
	else if (x86_read_virt(&q->vm->mem, s.cr3, s.cr4, r.rip, &insn, 1))
		return false;

	switch (insn) {
	case INSN_INT3:
		if (q->plant_gva && r.rip == q->plant_gva)
			return handle_pf_entry(q, vcpu, &r, &s);
		/* A guest breakpoint (alternatives self-test, text_poke): deliver #BP. */
		r.rip += 1;
		if (ioctl(vcpu->fd, KVM_SET_REGS, &r) < 0 || inject_bp(vcpu))
			return false;
		atomic_fetch_add(&q->int3_injected, 1);
		return true;
	case INSN_FWAIT:	/* no x87 exceptions pending here: a no-op */
		r.rip += 1;
		atomic_fetch_add(&q->fwaits, 1);
		return ioctl(vcpu->fd, KVM_SET_REGS, &r) == 0;
	default:
		return false;
	}
}

void pvm_quirks_report(struct vm *vm)
{
	struct pvm_quirks *q = vm->pvm;

	if (!q)
		return;
	dev_debug(vm->name, "PVM quirks: %lu syscalls completed, %lu #PF entries passed, "
		  "%lu int3 injected, %lu fwait skipped",
		  atomic_load(&q->syscalls), atomic_load(&q->pf_skips),
		  atomic_load(&q->int3_injected), atomic_load(&q->fwaits));
}

struct pvm_state {
	uint64_t plant_gva, plant_gpa;
	uint8_t orig[8];
	uint32_t orig_len;
	uint32_t orig_is_cld;
};

void pvm_quirks_save(struct vm *vm, struct snapbuf *b)
{
	struct pvm_quirks *q = vm->pvm;
	struct pvm_state st = { 0 };

	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	if (q->plant_hva) {
		st.plant_gva = q->plant_gva;
		st.plant_gpa = q->plant_gpa;
		memcpy(st.orig, q->orig, sizeof(st.orig));
		st.orig_len = q->orig_len;
		st.orig_is_cld = q->orig_is_cld;
	}
	pthread_mutex_unlock(&q->lock);
	snapbuf_put(b, "quirks.pvm", &st, sizeof(st));
}

int pvm_quirks_restore(struct vm *vm, const struct snapreader *r)
{
	struct pvm_quirks *q = vm->pvm;
	struct pvm_state st;
	uint8_t *hva;

	if (!q)
		return 0;
	if (snapreader_copy(r, "quirks.pvm", &st, sizeof(st)))
		return -EINVAL;	/* a snapshot of a hardware-KVM boot: not this host's */
	if (!st.plant_gva)
		return 0;
	hva = guest_mem_ptr(&vm->mem, st.plant_gpa, 1);
	if (!hva || st.orig_len == 0 || st.orig_len > sizeof(st.orig))
		return -EINVAL;
	pthread_mutex_lock(&q->lock);
	q->plant_gva = st.plant_gva;
	q->plant_gpa = st.plant_gpa;
	memcpy(q->orig, st.orig, sizeof(q->orig));
	q->orig_len = st.orig_len;
	q->orig_is_cld = st.orig_is_cld;
	__atomic_store_n(&q->plant_hva, hva, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&q->lock);
	return 0;
}
