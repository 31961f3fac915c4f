/* i8042 keyboard controller: only what a guest reboot needs (0xfe to port 0x64). */
#ifndef VMM_DEVICES_I8042_H
#define VMM_DEVICES_I8042_H

struct vm;

int i8042_create(struct vm *vm);

#endif
