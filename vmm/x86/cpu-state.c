/*
 * Saving and restoring x86 vCPU and VM state for snapshots: registers, FPU/
 * XSAVE, every MSR KVM can save, LAPIC, pending events, MP state, debug
 * registers; the PIC, IOAPIC, PIT and KVM clock. The vCPUs must be parked
 * (vm_pause) or not yet started.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/snapfile.h"
#include "vmm/vm.h"
#include "vmm/x86/cpu-state.h"

#define MAX_MSRS 512

struct msr_list {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e[MAX_MSRS];
};

/* The MSRs KVM says it can save and restore. */
static int msr_indices(struct vm *vm, uint32_t *idx, unsigned *n)
{
	struct {
		struct kvm_msr_list hdr;
		uint32_t indices[MAX_MSRS];
	} l = { .hdr.nmsrs = MAX_MSRS };

	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &l) < 0)
		return -errno;
	*n = l.hdr.nmsrs;
	memcpy(idx, l.indices, *n * sizeof(uint32_t));
	return 0;
}

/*
 * KVM_GET/SET_MSRS stop at the first MSR they cannot handle and return how
 * many they did: drop that one and go on, so one odd MSR cannot stop us.
 */
static int msrs_io(struct vcpu *v, struct msr_list *m, bool set)
{
	unsigned done = 0;

	while (done < m->hdr.nmsrs) {
		struct msr_list part;
		int ret;

		part.hdr.nmsrs = m->hdr.nmsrs - done;
		memcpy(part.e, m->e + done, part.hdr.nmsrs * sizeof(m->e[0]));
		ret = ioctl(v->fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, &part);
		if (ret < 0)
			return -errno;
		if (!set)
			memcpy(m->e + done, part.e, ret * sizeof(m->e[0]));
		done += ret;
		if (done < m->hdr.nmsrs) {
			dev_debug(v->vm->name, "vCPU %u: MSR 0x%x skipped", v->id, m->e[done].index);
			memmove(m->e + done, m->e + done + 1, (m->hdr.nmsrs - done - 1) * sizeof(m->e[0]));
			m->hdr.nmsrs--;
		}
	}
	return 0;
}

static bool has_cap(struct vm *vm, int cap)
{
	return ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap) > 0;
}

#define GET(ioc, obj, tag) do { \
	if (ioctl(v->fd, ioc, &(obj)) < 0) \
		goto fail; \
	snapbuf_putf(b, &(obj), sizeof(obj), "vcpu%u." tag, v->id); \
} while (0)

int x86_vcpu_save(struct vcpu *v, struct snapbuf *b, struct error *e)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	struct kvm_debugregs dregs;
	struct msr_list *m = calloc(1, sizeof(*m));
	uint32_t idx[MAX_MSRS];
	unsigned n = 0;
	int ret;

	if (!m)
		return -ENOMEM;
	GET(KVM_GET_REGS, regs, "regs");
	GET(KVM_GET_SREGS, sregs, "sregs");
	if (has_cap(v->vm, KVM_CAP_XSAVE)) {
		GET(KVM_GET_XSAVE, xsave, "xsave");
	} else {
		GET(KVM_GET_FPU, fpu, "fpu");
	}
	if (has_cap(v->vm, KVM_CAP_XCRS))
		GET(KVM_GET_XCRS, xcrs, "xcrs");
	GET(KVM_GET_LAPIC, lapic, "lapic");
	GET(KVM_GET_MP_STATE, mp, "mpstate");
	GET(KVM_GET_DEBUGREGS, dregs, "debugregs");
	if (msr_indices(v->vm, idx, &n))
		goto fail;
	m->hdr.nmsrs = n;
	for (unsigned i = 0; i < n; i++)
		m->e[i].index = idx[i];
	if (msrs_io(v, m, false))
		goto fail;
	snapbuf_putf(b, m->e, m->hdr.nmsrs * sizeof(m->e[0]), "vcpu%u.msrs", v->id);
	/* Events last: reading the others must not have changed what is pending. */
	GET(KVM_GET_VCPU_EVENTS, events, "events");
	free(m);
	return 0;
fail:
	ret = err_sys(e, -errno, "vCPU %u: cannot read its state for the snapshot", v->id);
	free(m);
	return ret;
}

#define SET(ioc, obj, tag) do { \
	if (snapreader_getf(r, &p, NULL, sizeof(obj), "vcpu%u." tag, v->id)) \
		goto missing; \
	memcpy(&(obj), p, sizeof(obj)); \
	if (ioctl(v->fd, ioc, &(obj)) < 0) { \
		what = tag; \
		goto fail; \
	} \
} while (0)

int x86_vcpu_restore(struct vcpu *v, const struct snapreader *r, struct error *e)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	struct kvm_debugregs dregs;
	struct msr_list *m = calloc(1, sizeof(*m));
	const char *what = "?";
	const void *p;
	uint32_t len;
	int ret;

	if (!m)
		return -ENOMEM;
	/* Firecracker's order: state that others depend on first, pending events last. */
	SET(KVM_SET_MP_STATE, mp, "mpstate");
	SET(KVM_SET_REGS, regs, "regs");
	SET(KVM_SET_SREGS, sregs, "sregs");
	if (!snapreader_getf(r, &p, NULL, sizeof(xsave), "vcpu%u.xsave", v->id)) {
		SET(KVM_SET_XSAVE, xsave, "xsave");
	} else {
		SET(KVM_SET_FPU, fpu, "fpu");
	}
	if (!snapreader_getf(r, &p, NULL, sizeof(xcrs), "vcpu%u.xcrs", v->id))
		SET(KVM_SET_XCRS, xcrs, "xcrs");
	SET(KVM_SET_DEBUGREGS, dregs, "debugregs");
	SET(KVM_SET_LAPIC, lapic, "lapic");
	if (snapreader_getf(r, &p, &len, 0, "vcpu%u.msrs", v->id) || len % sizeof(m->e[0]) ||
	    len / sizeof(m->e[0]) > MAX_MSRS)
		goto missing;
	m->hdr.nmsrs = len / sizeof(m->e[0]);
	memcpy(m->e, p, len);
	what = "msrs";
	if (msrs_io(v, m, true))
		goto fail;
	SET(KVM_SET_VCPU_EVENTS, events, "events");
	free(m);
	return 0;
missing:
	free(m);
	return err_set(e, -EINVAL, "snapshot: vCPU %u state incomplete", v->id);
fail:
	ret = err_sys(e, -errno, "vCPU %u: cannot restore its %s", v->id, what);
	free(m);
	return ret;
}

int x86_vm_save(struct vm *vm, struct snapbuf *b, struct error *e)
{
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock = { 0 };

	for (unsigned chip = 0; chip < 3; chip++) {
		struct kvm_irqchip ic = { .chip_id = chip };

		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &ic) < 0)
			goto fail;
		snapbuf_putf(b, &ic, sizeof(ic), "vm.irqchip%u", chip);
	}
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &pit) < 0)
		goto fail;
	snapbuf_put(b, "vm.pit2", &pit, sizeof(pit));
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) == 0)
		snapbuf_put(b, "vm.clock", &clock, sizeof(clock));
	return 0;
fail:
	return err_sys(e, -errno, "cannot read the VM's interrupt controllers for the snapshot");
}

int x86_vm_restore(struct vm *vm, const struct snapreader *r, struct error *e)
{
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	const void *p;

	for (unsigned chip = 0; chip < 3; chip++) {
		struct kvm_irqchip ic;

		if (snapreader_getf(r, &p, NULL, sizeof(ic), "vm.irqchip%u", chip))
			return err_set(e, -EINVAL, "snapshot: interrupt controller %u missing", chip);
		memcpy(&ic, p, sizeof(ic));
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &ic) < 0)
			goto fail;
	}
	if (snapreader_copy(r, "vm.pit2", &pit, sizeof(pit)))
		return err_set(e, -EINVAL, "snapshot: timer state missing");
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &pit) < 0)
		goto fail;
	if (!snapreader_copy(r, "vm.clock", &clock, sizeof(clock))) {
		clock.flags = 0;	/* only the value; the host's clock moved on */
		if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
			pr_debug("KVM_SET_CLOCK: %s", strerror(errno));
	}
	return 0;
fail:
	return err_sys(e, -errno, "cannot restore the VM's interrupt controllers");
}
