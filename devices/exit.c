#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/exit.h"
#include "vmm/vm.h"

#define EXIT_DEV_SIZE	0x1000

struct exit_dev {
	struct vm *vm;
};

static void exit_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0, len);
}

static void exit_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct exit_dev *x = opaque;
	uint8_t status = *(const uint8_t *)data;

	if (off == 0)
		vm_end(x->vm, VM_END_EXIT_STATUS, status, "guest exited with status %u", status);
}

static const struct io_ops exit_ops = {
	.read = exit_read,
	.write = exit_write,
};

int exit_dev_create(struct vm *vm, const struct exit_dev_config *cfg, struct exit_dev **out)
{
	struct exit_dev *x = calloc(1, sizeof(*x));
	int ret;

	if (!x)
		return -ENOMEM;
	x->vm = vm;
	ret = io_bus_register(&vm->mmio, cfg->addr, EXIT_DEV_SIZE, &exit_ops, x, "exit");
	if (ret) {
		free(x);
		return ret;
	}
	*out = x;
	return 0;
}

void exit_dev_destroy(struct exit_dev *x)
{
	free(x);
}
