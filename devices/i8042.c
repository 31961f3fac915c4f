#include <stdint.h>
#include <string.h>

#include "devices/i8042.h"
#include "vmm/vm.h"
#include "vmm/x86/layout.h"

#define I8042_STATUS	0xfd	/* input buffer empty: reboot's kb_wait() returns at once */
#define I8042_CMD_RESET	0xfe

static void i8042_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0, len);
	if (off == 0 && opaque)	/* registered twice: opaque marks the command port */
		*(uint8_t *)data = I8042_STATUS;
}

static void i8042_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct vm *vm = opaque;

	if (vm && off == 0 && *(const uint8_t *)data == I8042_CMD_RESET)
		vm_end(vm, VM_END_RESET, 0, "guest reset through the keyboard controller");
}

static const struct io_ops i8042_ops = {
	.read = i8042_read,
	.write = i8042_write,
};

int i8042_create(struct vm *vm)
{
	int ret = io_bus_register(&vm->pio, I8042_DATA_PORT, 1, &i8042_ops, NULL, "i8042 data");

	return ret ? ret : io_bus_register(&vm->pio, I8042_CMD_PORT, 1, &i8042_ops, vm, "i8042 command");
}
