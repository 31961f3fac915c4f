/* Shared by machine.c (the VM, its life) and devices.c (what is plugged in, and where). */
#ifndef VMM_MACHINE_MACHINE_INTERNAL_H
#define VMM_MACHINE_MACHINE_INTERNAL_H

#include "vmm/machine/machine.h"

/* UART, RTC, i8042 and the exit device, at their fixed places. 0 or -errno with e. */
int machine_add_base_devices(struct machine *m, struct error *e);
/* The devices cfg lists, in order. 0 or -errno with e. */
int machine_add_devices(struct machine *m, struct error *e);
/* All of them (the loop stopped, the vCPUs joined). */
void machine_remove_devices(struct machine *m);

#endif
