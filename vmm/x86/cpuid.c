#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/base/error.h"
#include "vmm/vm.h"
#include "vmm/x86/cpuid.h"

#define CPUID1_ECX_HYPERVISOR	(1u << 31)
#define CPUID1_EDX_HTT		(1u << 28)

/* KVM paravirt features (leaf 0x40000001 EAX) that PVM cannot serve: */
#define KVM_PV_HIDE_ON_PVM ( \
	(1u << 0)  /* CLOCKSOURCE: kvmclock stalls on this host */ | \
	(1u << 3)  /* CLOCKSOURCE2 */ | \
	(1u << 4)  /* ASYNC_PF */ | \
	(1u << 5)  /* STEAL_TIME */ | \
	(1u << 6)  /* PV_EOI */ | \
	(1u << 7)  /* PV_UNHALT: kick hypercall */ | \
	(1u << 9)  /* PV_TLB_FLUSH */ | \
	(1u << 10) /* ASYNC_PF_VMEXIT */ | \
	(1u << 11) /* PV_SEND_IPI: vmcall never completes */ | \
	(1u << 12) /* POLL_CONTROL */ | \
	(1u << 13) /* PV_SCHED_YIELD: vmcall */ | \
	(1u << 14) /* ASYNC_PF_INT */ | \
	(1u << 16) /* HC_MAP_GPA_RANGE: vmcall */ | \
	(1u << 24) /* CLOCKSOURCE_STABLE_BIT */)

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

void cpuid_filter(struct kvm_cpuid_entry2 *entries, unsigned n, const struct cpuid_policy *p)
{
	for (unsigned i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *e = &entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0xffff) | (p->apic_id << 24) | ((p->ncpus & 0xff) << 16);
			e->ecx |= CPUID1_ECX_HYPERVISOR;
			if (p->ncpus > 1)
				e->edx |= CPUID1_EDX_HTT;
			else
				e->edx &= ~CPUID1_EDX_HTT;
			break;
		case 4:	/* Intel cache topology: cores per package */
			e->eax = (e->eax & 0x3ffffff) | (((p->ncpus - 1) & 0x3f) << 26);
			break;
		case 0xa:	/* no virtual PMU */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xb:	/* x2APIC topology: one thread per core, ncpus cores */
			e->edx = p->apic_id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = bits_for(p->ncpus);
				e->ebx = p->ncpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 0x80000008:	/* AMD: number of cores - 1 */
			e->ecx = (e->ecx & ~0xf0ffu) | ((p->ncpus - 1) & 0xff) |
				 (bits_for(p->ncpus) << 12);
			break;
		case KVM_CPUID_FEATURES:
			if (p->pvm)
				e->eax &= ~KVM_PV_HIDE_ON_PVM;
			break;
		}
	}
}

static struct kvm_cpuid2 *get_supported(int kvm_fd)
{
	for (unsigned nent = 128; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	errno = E2BIG;
	return NULL;
}

int cpuid_setup(struct vcpu *vcpu, struct error *e)
{
	struct vm *vm = vcpu->vm;
	struct cpuid_policy p = { .apic_id = vcpu->id, .ncpus = vm->ncpus, .pvm = vm->pvm != NULL };
	struct kvm_cpuid2 *c = get_supported(vm->kvm_fd);
	int ret = 0;

	if (!c)
		return err_sys(e, -errno, "KVM_GET_SUPPORTED_CPUID");
	cpuid_filter(c->entries, c->nent, &p);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0)
		ret = err_sys(e, -errno, "vCPU %u: KVM_SET_CPUID2", vcpu->id);
	free(c);
	return ret;
}
