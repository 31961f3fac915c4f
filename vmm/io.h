/* Port and MMIO dispatch: one sorted range table per bus, {base, len, handler, opaque}. */
#ifndef VMM_IO_H
#define VMM_IO_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Handlers run on vCPU threads, possibly several at once: a device that keeps
 * state shared with the event loop takes its own lock. offset is relative to
 * the registered base; len is 1, 2, 4 or 8.
 */
struct io_ops {
	void (*read)(void *opaque, uint64_t offset, void *data, unsigned len);
	void (*write)(void *opaque, uint64_t offset, const void *data, unsigned len);
};

struct io_range {
	uint64_t base;
	uint64_t len;
	const struct io_ops *ops;
	void *opaque;
	const char *name;
};

struct io_bus {
	const char *name;	/* "pio" or "mmio", for messages */
	struct io_range *ranges;
	unsigned n, cap;
};

/* Register before the vCPUs start. -EEXIST when it overlaps a registered range. */
int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    const struct io_ops *ops, void *opaque, const char *name);
/*
 * Dispatch one access. Unclaimed: a debug line, reads return all-ones.
 * Returns false when no range claimed it.
 */
bool io_bus_access(struct io_bus *bus, uint64_t addr, void *data, unsigned len, bool is_write);
const struct io_range *io_bus_find(const struct io_bus *bus, uint64_t addr);
void io_bus_free(struct io_bus *bus);

#endif
