#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/i8042.h"
#include "vmm/vm.h"

#define I8042_STATUS	0xfd	/* input buffer empty: reboot's kb_wait() returns at once */
#define I8042_CMD_RESET	0xfe

struct i8042 {
	struct vm *vm;
};

static void data_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0, len);
}

static void data_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
}

static void cmd_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0, len);
	if (off == 0)
		*(uint8_t *)data = I8042_STATUS;
}

static void cmd_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct i8042 *k = opaque;

	if (off == 0 && *(const uint8_t *)data == I8042_CMD_RESET)
		vm_end(k->vm, VM_END_RESET, 0, "guest reset through the keyboard controller");
}

static const struct io_ops data_ops = {
	.read = data_read,
	.write = data_write,
};

static const struct io_ops cmd_ops = {
	.read = cmd_read,
	.write = cmd_write,
};

int i8042_create(struct vm *vm, const struct i8042_config *cfg, struct i8042 **out)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	k->vm = vm;
	ret = io_bus_register(&vm->pio, cfg->data_port, 1, &data_ops, k, "i8042 data");
	if (!ret)
		ret = io_bus_register(&vm->pio, cfg->cmd_port, 1, &cmd_ops, k, "i8042 command");
	if (ret) {
		free(k);
		return ret;
	}
	*out = k;
	return 0;
}

void i8042_destroy(struct i8042 *k)
{
	free(k);
}
