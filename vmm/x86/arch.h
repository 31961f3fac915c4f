/* x86 parts of VM and vCPU setup. */
#ifndef VMM_X86_ARCH_H
#define VMM_X86_ARCH_H

struct error;
struct vm;
struct vcpu;

/* TSS and identity-map pages, in-kernel irqchip and PIT. 0 or -errno with e. */
int arch_vm_init(struct vm *vm, struct error *e);
/* CPUID, MSRs, FPU and LAPIC LINT0/1 for one vCPU (all vCPUs, before boot). 0 or -errno with e. */
int arch_vcpu_init(struct vcpu *vcpu, struct error *e);

#endif
