#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "devices/serial.h"
#include "vmm/console.h"
#include "vmm/base/log.h"
#include "vmm/snapfile.h"
#include "vmm/vm.h"

#define RX_SIZE 1024

/* Register offsets and bits (16550A). */
#define UART_RX_TX	0
#define UART_IER	1
#define UART_IIR_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7
#define IER_RDI		0x01
#define IER_THRI	0x02
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_DEFAULT	0xb0	/* DCD, DSR, CTS */

struct serial {
	struct vm *vm;
	struct console *console;
	unsigned irq;
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thre_pending;
	uint8_t rx[RX_SIZE];
	size_t rx_head, rx_count;
};

static bool pending(const struct serial *s)
{
	return ((s->ier & IER_RDI) && s->rx_count) || ((s->ier & IER_THRI) && s->thre_pending);
}

/* Called with the lock held after a state change: a new condition gets a pulse. */
static void update_irq(struct serial *s, bool was_pending)
{
	if (!was_pending && pending(s))
		vm_irq_pulse(s->vm, s->irq);
}

static void serial_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct serial *s = opaque;
	uint8_t v = 0;
	bool was;

	pthread_mutex_lock(&s->lock);
	was = pending(s);
	switch (off) {
	case UART_RX_TX:
		if (s->lcr & LCR_DLAB) {
			v = s->dll;
		} else if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % RX_SIZE;
			s->rx_count--;
		}
		break;
	case UART_IER:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case UART_IIR_FCR:
		if ((s->ier & IER_RDI) && s->rx_count) {
			v = IIR_RDI;
		} else if ((s->ier & IER_THRI) && s->thre_pending) {
			v = IIR_THRI;
			s->thre_pending = false;	/* reading IIR acknowledges THRE */
		} else {
			v = IIR_NO_INT;
		}
		if (s->fcr & FCR_ENABLE)
			v |= IIR_FIFO;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
		break;
	case UART_MSR:
		v = MSR_DEFAULT;
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	update_irq(s, was);
	pthread_mutex_unlock(&s->lock);
	*(uint8_t *)data = v;
	for (unsigned i = 1; i < len; i++)
		((uint8_t *)data)[i] = 0;
}

static void serial_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct serial *s = opaque;
	uint8_t v = *(const uint8_t *)data;
	bool was;

	pthread_mutex_lock(&s->lock);
	was = pending(s);
	switch (off) {
	case UART_RX_TX:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
		} else {
			/* Transmit at once: THR is empty again immediately. */
			console_write(s->console, &v, 1);
			s->thre_pending = true;
		}
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			if ((v & IER_THRI) && !(s->ier & IER_THRI))
				s->thre_pending = true;
			s->ier = v & 0x0f;
		}
		break;
	case UART_IIR_FCR:
		s->fcr = v & FCR_ENABLE;
		if (v & FCR_CLEAR_RX)
			s->rx_count = 0;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	}
	update_irq(s, was);
	pthread_mutex_unlock(&s->lock);
}

static const struct io_ops serial_ops = {
	.read = serial_read,
	.write = serial_write,
};

size_t serial_input(struct serial *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t n = 0;
	bool was;

	pthread_mutex_lock(&s->lock);
	was = pending(s);
	while (n < len && s->rx_count < RX_SIZE) {
		s->rx[(s->rx_head + s->rx_count) % RX_SIZE] = p[n++];
		s->rx_count++;
	}
	update_irq(s, was);
	pthread_mutex_unlock(&s->lock);
	return n;
}

int serial_create(struct vm *vm, const struct serial_config *cfg, struct serial **out)
{
	struct serial *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->vm = vm;
	s->console = cfg->console;
	s->irq = cfg->irq;
	s->thre_pending = false;
	pthread_mutex_init(&s->lock, NULL);
	ret = io_bus_register(&vm->pio, cfg->port, 8, &serial_ops, s, "serial");
	if (ret) {
		serial_destroy(s);
		return ret;
	}
	*out = s;
	return 0;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct serial_state {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm, thre_pending;
};

void serial_save(struct serial *s, struct snapbuf *b)
{
	struct serial_state st;

	pthread_mutex_lock(&s->lock);
	st = (struct serial_state){ s->ier, s->lcr, s->mcr, s->scr, s->fcr, s->dll, s->dlm, s->thre_pending };
	pthread_mutex_unlock(&s->lock);
	snapbuf_put(b, "dev.serial", &st, sizeof(st));
}

int serial_restore(struct serial *s, const struct snapreader *r)
{
	struct serial_state st;
	int ret = snapreader_copy(r, "dev.serial", &st, sizeof(st));

	if (ret)
		return ret;
	pthread_mutex_lock(&s->lock);
	s->ier = st.ier & 0x0f;
	s->lcr = st.lcr;
	s->mcr = st.mcr & 0x1f;
	s->scr = st.scr;
	s->fcr = st.fcr & 1;
	s->dll = st.dll;
	s->dlm = st.dlm;
	s->thre_pending = st.thre_pending;
	s->rx_count = 0;
	pthread_mutex_unlock(&s->lock);
	return 0;
}
