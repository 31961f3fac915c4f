/* 8250/16550A UART: guest console out, host input in, THRE interrupts as IRQ pulses. */
#ifndef VMM_DEVICES_SERIAL_H
#define VMM_DEVICES_SERIAL_H

#include <stddef.h>

struct console;
struct serial;
struct vm;

struct serial_config {
	unsigned port;		/* I/O base, e.g. 0x3f8 */
	unsigned irq;		/* e.g. 4 */
	struct console *console;
};

int serial_create(struct vm *vm, const struct serial_config *cfg, struct serial **out);
void serial_destroy(struct serial *s);
struct snapbuf;
struct snapreader;
/* Snapshot: the registers (pending input is dropped). */
void serial_save(struct serial *s, struct snapbuf *b);
int serial_restore(struct serial *s, const struct snapreader *r);
/* Queue host input for the guest (loop thread). Returns bytes accepted. */
size_t serial_input(struct serial *s, const void *buf, size_t len);

#endif
