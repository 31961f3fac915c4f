#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/io.h"
#include "vmm/base/log.h"

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    const struct io_ops *ops, void *opaque, const char *name)
{
	unsigned i;

	if (!len || base + len < base)
		return -EINVAL;
	for (i = 0; i < bus->n; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len) {
			pr_debug("%s: %s at 0x%llx overlaps %s", bus->name, name,
				 (unsigned long long)base, r->name);
			return -EEXIST;	/* a layout bug: the caller names the device */
		}
	}
	if (bus->n == bus->cap) {
		unsigned cap = bus->cap ? bus->cap * 2 : 16;
		struct io_range *nr = realloc(bus->ranges, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		bus->ranges = nr;
		bus->cap = cap;
	}
	/* Keep the table sorted by base for the binary search. */
	for (i = bus->n; i > 0 && bus->ranges[i - 1].base > base; i--)
		bus->ranges[i] = bus->ranges[i - 1];
	bus->ranges[i] = (struct io_range){ base, len, ops, opaque, name };
	bus->n++;
	return 0;
}

const struct io_range *io_bus_find(const struct io_bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct io_range *r = &bus->ranges[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

bool io_bus_access(struct io_bus *bus, uint64_t addr, void *data, unsigned len, bool is_write)
{
	const struct io_range *r = io_bus_find(bus, addr);

	if (!r || addr - r->base + len > r->len) {
		pr_debug("%s: unclaimed %s of %u bytes at 0x%llx", bus->name,
			 is_write ? "write" : "read", len, (unsigned long long)addr);
		if (!is_write)
			memset(data, 0xff, len);
		return false;
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, addr - r->base, data, len);
	} else if (r->ops->read) {
		r->ops->read(r->opaque, addr - r->base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	return true;
}

void io_bus_free(struct io_bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->n = bus->cap = 0;
}
