#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/base/error.h"
#include "vmm/vm.h"
#include "vmm/x86/arch.h"
#include "vmm/x86/cpuid.h"
#include "vmm/x86/layout.h"

#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102

#define APIC_LVT_LINT0		0x350
#define APIC_LVT_LINT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

int arch_vm_init(struct vm *vm, struct error *e)
{
	uint64_t identity = KVM_IDENTITY_MAP_ADDR;
	struct kvm_pit_config pit = { .flags = 0 };

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
		return err_sys(e, -errno, "KVM_SET_TSS_ADDR");
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
		return err_sys(e, -errno, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return err_sys(e, -errno, "KVM_CREATE_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return err_sys(e, -errno, "KVM_CREATE_PIT2");
	return 0;
}

static int set_msrs(struct vcpu *vcpu, struct error *e)
{
	static const uint32_t zeroed[] = {
		MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
		MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[16];
	} m;
	unsigned n = 0;

	memset(&m, 0, sizeof(m));
	for (unsigned i = 0; i < sizeof(zeroed) / sizeof(zeroed[0]); i++)
		m.e[n++].index = zeroed[i];
	m.e[n].index = MSR_IA32_MISC_ENABLE;
	m.e[n++].data = 1;	/* fast strings */
	m.hdr.nmsrs = n;
	if (ioctl(vcpu->fd, KVM_SET_MSRS, &m) != (int)n)
		return err_set(e, -EINVAL, "vCPU %u: KVM_SET_MSRS failed", vcpu->id);
	return 0;
}

static void set_lvt_mode(struct kvm_lapic_state *lapic, unsigned reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, lapic->regs + reg, sizeof(v));
	v = (v & ~0x700u) | (mode << 8);
	memcpy(lapic->regs + reg, &v, sizeof(v));
}

static int set_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	/* Legacy PIC interrupts through LINT0, NMI through LINT1, as firmware would. */
	set_lvt_mode(&lapic, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	set_lvt_mode(&lapic, APIC_LVT_LINT1, APIC_MODE_NMI);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}

int arch_vcpu_init(struct vcpu *vcpu, struct error *e)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	int ret;

	ret = cpuid_setup(vcpu, e);
	if (ret)
		return ret;
	ret = set_msrs(vcpu, e);
	if (ret)
		return ret;
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
		return err_sys(e, -errno, "vCPU %u: KVM_SET_FPU", vcpu->id);
	ret = set_lapic(vcpu);
	if (ret)
		err_sys(e, ret, "vCPU %u: LAPIC setup", vcpu->id);
	if (vcpu->id == 0) {
		int khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);

		vcpu->vm->tsc_khz = khz > 0 ? khz : 0;
	}
	return ret;
}
