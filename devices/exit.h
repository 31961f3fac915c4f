/*
 * Exit-status device: a 4 KiB MMIO page. A write of a byte N ends the VM with
 * exit status N, at once. The guest agent (or a test's /init through
 * `devmem 0xd0000000 8 N`) writes it after syncing its disks; the address
 * is guest-agent/protocol.h's PROTO_EXIT_DEVICE, which the machine passes in.
 */
#ifndef VMM_DEVICES_EXIT_H
#define VMM_DEVICES_EXIT_H

#include <stdint.h>

struct vm;
struct exit_dev;

struct exit_dev_config {
	uint64_t addr;		/* guest-physical address of the page */
};

int exit_dev_create(struct vm *vm, const struct exit_dev_config *cfg, struct exit_dev **out);
void exit_dev_destroy(struct exit_dev *x);

#endif
