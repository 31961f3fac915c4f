/*
 * Workarounds for the nested "PVM" KVM (HOST-PVM.md): all of them live in
 * quirks-pvm.c and run only when the host is detected as PVM (or forced on).
 */
#ifndef VMM_X86_QUIRKS_PVM_H
#define VMM_X86_QUIRKS_PVM_H

#include <stdbool.h>

struct cmdline;
struct vm;
struct vcpu;
struct pvm_quirks;

int pvm_quirks_create(struct vm *vm, struct pvm_quirks **out);
void pvm_quirks_destroy(struct pvm_quirks *q);
/* Kernel parameters that keep the guest off instructions PVM cannot emulate. */
void pvm_quirks_cmdline(struct vm *vm, struct cmdline *c);
/* Before each KVM_RUN: keep the SYSCALL trap planted in the guest's #PF entry. */
void pvm_before_run(struct vcpu *vcpu);
/* An emulation failure PVM is known for: complete it and return true, else false. */
bool pvm_handle_internal_error(struct vcpu *vcpu);
struct snapbuf;
struct snapreader;
/* Snapshot: where the SYSCALL trap is planted (the int3 itself is in guest memory). */
void pvm_quirks_save(struct vm *vm, struct snapbuf *b);
int pvm_quirks_restore(struct vm *vm, const struct snapreader *r);
/* One debug line of counters. */
void pvm_quirks_report(struct vm *vm);

#endif
