/* x86 vCPU and VM (irqchip, PIT, clock) state for snapshots. vCPUs parked or not started. */
#ifndef VMM_X86_CPU_STATE_H
#define VMM_X86_CPU_STATE_H

struct snapbuf;
struct snapreader;
struct vcpu;
struct vm;

int x86_vcpu_save(struct vcpu *v, struct snapbuf *b);
int x86_vcpu_restore(struct vcpu *v, const struct snapreader *r);
int x86_vm_save(struct vm *vm, struct snapbuf *b);
int x86_vm_restore(struct vm *vm, const struct snapreader *r);

#endif
