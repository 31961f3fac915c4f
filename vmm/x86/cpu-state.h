/* x86 vCPU and VM (irqchip, PIT, clock) state for snapshots. vCPUs parked or not started. */
#ifndef VMM_X86_CPU_STATE_H
#define VMM_X86_CPU_STATE_H

struct error;
struct snapbuf;
struct snapreader;
struct vcpu;
struct vm;

/* 0 or -errno with e. */
int x86_vcpu_save(struct vcpu *v, struct snapbuf *b, struct error *e);
int x86_vcpu_restore(struct vcpu *v, const struct snapreader *r, struct error *e);
int x86_vm_save(struct vm *vm, struct snapbuf *b, struct error *e);
int x86_vm_restore(struct vm *vm, const struct snapreader *r, struct error *e);

#endif
