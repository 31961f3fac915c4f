/* CPUID for the guest: what KVM supports, with topology and host-quirk filtering. */
#ifndef VMM_X86_CPUID_H
#define VMM_X86_CPUID_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_cpuid_entry2;
struct error;
struct vcpu;

struct cpuid_policy {
	uint32_t apic_id;
	unsigned ncpus;
	bool pvm;	/* PVM host: hide KVM paravirt features that use hypercalls */
};

#define KVM_CPUID_SIGNATURE	0x40000000u
#define KVM_CPUID_FEATURES	0x40000001u

/* Rewrite entries in place for one vCPU. Pure: unit-tested without KVM. */
void cpuid_filter(struct kvm_cpuid_entry2 *entries, unsigned n, const struct cpuid_policy *p);

/* KVM_GET_SUPPORTED_CPUID, filter, KVM_SET_CPUID2. */
int cpuid_setup(struct vcpu *vcpu, struct error *e);

#endif
