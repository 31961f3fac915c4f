#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/digest.h"
#include "vmm/memory.h"
#include "vmm/base/util.h"

/*
 * RAM below the 32-bit MMIO hole, the rest above 4 GiB, regions back to back
 * in fd when there is one: MAP_SHARED (a memfd another process maps too) or
 * MAP_PRIVATE (a snapshot file); anonymous when fd < 0.
 */
static int map_regions(struct guest_mem *mem, uint64_t ram_size, int fd, bool shared)
{
	uint64_t low = ram_size < GUEST_MMIO_HOLE_START ? ram_size : GUEST_MMIO_HOLE_START;
	uint64_t off = 0;

	memset(mem, 0, sizeof(*mem));
	mem->ram_size = ram_size;
	for (int i = 0; i < 2; i++) {
		uint64_t size = i == 0 ? low : ram_size - low;
		void *p;

		if (!size)
			continue;
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_NORESERVE | (fd < 0 ? MAP_ANONYMOUS : 0),
			 fd, fd < 0 ? 0 : off);
		if (p == MAP_FAILED) {
			int err = -errno;

			guest_mem_free(mem);
			return err;
		}
		mem->regions[mem->nregions++] = (struct mem_region){
			.gpa = i == 0 ? 0 : GUEST_HIGH_RAM_START, .size = size, .hva = p, .fd_offset = off,
		};
		off += size;
	}
	return 0;
}

int guest_mem_alloc(struct guest_mem *mem, uint64_t ram_size)
{
	return map_regions(mem, ram_size, -1, false);
}

int guest_mem_alloc_shared(struct guest_mem *mem, uint64_t ram_size)
{
	int fd = memfd_create("vmm-guest-ram", MFD_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, ram_size) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = map_regions(mem, ram_size, fd, true);
	if (ret) {
		close(fd);
		return ret;
	}
	mem->shared = true;
	mem->fd = fd;
	return 0;
}

/* Copy [off, off + len) of the file into RAM at the same offset (regions back to back). */
static int copy_extent(struct guest_mem *mem, int fd, uint64_t off, uint64_t len)
{
	uint64_t base = 0;

	for (unsigned i = 0; i < mem->nregions && len; base += mem->regions[i].size, i++) {
		const struct mem_region *r = &mem->regions[i];
		uint64_t start = off > base ? off - base : 0, end;
		int ret;

		if (off + len <= base || off >= base + r->size)
			continue;
		end = MIN(r->size, off + len - base);
		if ((ret = pread_zero(fd, r->hva + start, end - start, base + start)))
			return ret;
	}
	return 0;
}

int guest_mem_load_shared(struct guest_mem *mem, uint64_t ram_size, int fd)
{
	struct stat st;
	off_t data, hole = 0;
	int ret;

	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size != ram_size)
		return -EINVAL;
	if ((ret = guest_mem_alloc_shared(mem, ram_size)))
		return ret;
	/* Only the file's data extents: the memfd reads holes as zeros already. */
	while (!ret && (data = lseek(fd, hole, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			ret = -errno;
		else
			ret = copy_extent(mem, fd, data, hole - data);
	}
	if (!ret && data < 0 && errno != ENXIO)
		ret = -errno;
	if (ret)
		guest_mem_free(mem);
	return ret;
}

void guest_mem_free(struct guest_mem *mem)
{
	for (unsigned i = 0; i < mem->nregions; i++)
		munmap(mem->regions[i].hva, mem->regions[i].size);
	mem->nregions = 0;
	if (mem->shared)
		close(mem->fd);
	mem->shared = false;
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct mem_region *r = &mem->regions[i];

		/* Written to avoid overflow: gpa + len may wrap for hostile input. */
		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = guest_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = guest_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

uint64_t guest_mem_low_end(const struct guest_mem *mem)
{
	return mem->nregions ? mem->regions[0].gpa + mem->regions[0].size : 0;
}

int guest_mem_map_file(struct guest_mem *mem, uint64_t ram_size, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size != ram_size)
		return -EINVAL;
	return map_regions(mem, ram_size, fd, false);
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[4096];

	return !memcmp(p, zero, sizeof(zero));
}

int guest_mem_save(const struct guest_mem *mem, int fd)
{
	uint64_t off = 0;

	if (ftruncate(fd, 0) < 0 || ftruncate(fd, mem->ram_size) < 0)
		return -errno;
	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct mem_region *r = &mem->regions[i];

		for (uint64_t p = 0; p < r->size; p += 4096) {
			uint64_t run = p;
			int ret;

			if (page_is_zero(r->hva + p))
				continue;
			while (run + 4096 < r->size && !page_is_zero(r->hva + run + 4096))
				run += 4096;
			ret = pwrite_full(fd, r->hva + p, run + 4096 - p, off + p);
			if (ret)
				return ret;
			p = run;
		}
		off += r->size;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

/* A non-zero page joins the digest with its offset: holes and zero pages read the same. */
static void digest_page(struct sha256 *h, uint64_t off, const uint8_t *page)
{
	if (page_is_zero(page))
		return;
	sha256_update(h, &off, sizeof(off));
	sha256_update(h, page, 4096);
}

int guest_mem_digest(const struct guest_mem *mem, uint8_t out[32])
{
	struct sha256 *h = sha256_new();
	uint64_t off = 0;

	if (!h)
		return -ENOMEM;
	for (unsigned i = 0; i < mem->nregions; off += mem->regions[i].size, i++)
		for (uint64_t p = 0; p < mem->regions[i].size; p += 4096)
			digest_page(h, off + p, mem->regions[i].hva + p);
	sha256_final_raw(h, out);
	sha256_free(h);
	return 0;
}

#define DIGEST_CHUNK	(1 << 20)

int guest_mem_file_digest(int fd, uint8_t out[32])
{
	struct sha256 *h = sha256_new();
	uint8_t *buf = malloc(DIGEST_CHUNK);
	off_t data, hole = 0;
	int ret = 0;

	if (!h || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	/* Only the file's data extents: a restore reads what the guest had touched, not all RAM. */
	while (!ret && (data = lseek(fd, hole, SEEK_DATA)) >= 0) {
		data &= ~(off_t)4095;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0) {
			ret = -errno;
			break;
		}
		hole = (hole + 4095) & ~(off_t)4095;
		for (off_t p = data; p < hole && !ret; p += DIGEST_CHUNK) {
			size_t len = hole - p < DIGEST_CHUNK ? (size_t)(hole - p) : DIGEST_CHUNK;

			ret = pread_zero(fd, buf, len, p);	/* past the end: zeros, as the mapping */
			for (size_t q = 0; !ret && q < len; q += 4096)
				digest_page(h, p + q, buf + q);
		}
	}
	if (!ret && data < 0 && errno != ENXIO)
		ret = -errno;
	sha256_final_raw(h, out);
out:
	sha256_free(h);
	free(buf);
	return ret;
}
