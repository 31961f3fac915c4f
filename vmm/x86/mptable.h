/* The Intel MultiProcessor table: how the guest finds its CPUs and IOAPIC without ACPI. */
#ifndef VMM_X86_MPTABLE_H
#define VMM_X86_MPTABLE_H

#include <stddef.h>

/*
 * Build the floating pointer and configuration table for ncpus CPUs (APIC
 * IDs 0..ncpus-1), the IOAPIC (ID ncpus) with IOAPIC_PINS identity-mapped
 * ISA interrupts, and LINT0/LINT1. The table is placed at guest address
 * `addr` (pointers inside it are absolute). Returns its size, or -ENOSPC.
 */
int mptable_build(void *buf, size_t len, unsigned long addr, unsigned ncpus);

#endif
