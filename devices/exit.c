#include <stdint.h>
#include <string.h>

#include "devices/exit.h"
#include "vmm/vm.h"
#include "vmm/x86/layout.h"

static void exit_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0, len);
}

static void exit_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct vm *vm = opaque;
	uint8_t status = *(const uint8_t *)data;

	if (off == 0)
		vm_end(vm, VM_END_EXIT_STATUS, status, "guest exited with status %u", status);
}

static const struct io_ops exit_ops = {
	.read = exit_read,
	.write = exit_write,
};

int exit_dev_create(struct vm *vm)
{
	return io_bus_register(&vm->mmio, EXIT_DEV_ADDR, 0x1000, &exit_ops, vm, "exit");
}
