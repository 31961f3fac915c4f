/* Guest physical memory: up to two RAM regions (below the 32-bit hole and above 4 GiB). */
#ifndef VMM_MEMORY_H
#define VMM_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 2

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	uint64_t fd_offset;	/* where it starts in the backing file (shared RAM: fd) */
};

struct guest_mem {
	struct mem_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned nregions;
	uint64_t ram_size;	/* total RAM in bytes */
	bool shared;		/* backed by the memfd fd, which other processes may map */
	int fd;			/* valid when shared */
};

/* Start of the 32-bit MMIO hole: devices live between here and 4 GiB. */
#define GUEST_MMIO_HOLE_START	0xc0000000ULL
#define GUEST_HIGH_RAM_START	0x100000000ULL

/* Map ram_size bytes of anonymous memory laid out around the MMIO hole. 0 or -errno. */
int guest_mem_alloc(struct guest_mem *mem, uint64_t ram_size);
/*
 * RAM in a memfd mapped MAP_SHARED, for vhost-user daemons that map guest
 * memory themselves (virtiofsd). 0 or -errno.
 */
int guest_mem_alloc_shared(struct guest_mem *mem, uint64_t ram_size);
/*
 * Shared RAM holding a saved memory file: its data extents are copied into
 * the memfd (a second process cannot share a MAP_PRIVATE file mapping).
 */
int guest_mem_load_shared(struct guest_mem *mem, uint64_t ram_size, int fd);
void guest_mem_free(struct guest_mem *mem);
/*
 * Map a saved memory file instead: MAP_PRIVATE, so pages load lazily, VMs
 * restored from one file share them, and each VM's writes stay its own.
 */
int guest_mem_map_file(struct guest_mem *mem, uint64_t ram_size, int fd);
/* Write guest RAM to fd (regions back to back), zero pages as holes. 0 or -errno. */
int guest_mem_save(const struct guest_mem *mem, int fd);
/*
 * SHA-256 over the non-zero 4 KiB pages and their offsets: of guest RAM, and
 * of a file guest_mem_save wrote (reading only its data extents). Equal when
 * the file holds the RAM.
 */
int guest_mem_digest(const struct guest_mem *mem, uint8_t out[32]);
int guest_mem_file_digest(int fd, uint8_t out[32]);

/*
 * The one checked translation: a host pointer to [gpa, gpa + len) when the
 * whole range lies inside one RAM region, else NULL. Every device uses it for
 * guest-supplied addresses.
 */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Copy to/from guest RAM with the same checks. 0 or -EFAULT. */
int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len);
int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst, uint64_t len);

/* End of RAM below the hole (exclusive). */
uint64_t guest_mem_low_end(const struct guest_mem *mem);

#endif
