/* i8042 keyboard controller: only what a guest reboot needs (0xfe to the command port). */
#ifndef VMM_DEVICES_I8042_H
#define VMM_DEVICES_I8042_H

struct vm;
struct i8042;

struct i8042_config {
	unsigned data_port;	/* 0x60 */
	unsigned cmd_port;	/* 0x64 */
};

int i8042_create(struct vm *vm, const struct i8042_config *cfg, struct i8042 **out);
void i8042_destroy(struct i8042 *k);

#endif
