/*
 * Exit-status device: a 4 KiB MMIO page. A write of a byte N ends the VM with
 * exit status N, at once. The guest agent (or a test's /init through
 * `devmem 0xd0000000 8 N`) writes it after syncing its disks.
 */
#ifndef VMM_DEVICES_EXIT_H
#define VMM_DEVICES_EXIT_H

struct vm;

int exit_dev_create(struct vm *vm);

#endif
