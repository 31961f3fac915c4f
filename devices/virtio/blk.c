#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/blk.h"
#include "devices/virtio/mmio.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"
#include "vmm/vm.h"

#define VIRTIO_BLK_F_SIZE_MAX	1
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_DISCARD	13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_T_DISCARD	11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define SECTOR_SHIFT		9
#define QUEUE_SIZE		256
#define SEG_MAX			(QUEUE_SIZE - 2)
#define SIZE_MAX_BYTES		(1u << 20)	/* per data segment */
#define MAX_DISCARD_SECTORS	(1u << 22)	/* 2 GiB per segment */
#define MAX_DISCARD_SEGS	64
#define WZ_FLAG_UNMAP		1

struct blk_config_space {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
} __attribute__((packed));

struct blk_range {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
} __attribute__((packed));

struct virtio_blk {
	struct virtio_mmio *t;
	struct blk_backend disk;
	struct blk_config_space config;
	char id[VIRTIO_BLK_ID_BYTES];
	char name[24];
	bool warned;		/* the first failed request was logged */
	uint64_t bytes[2];	/* read, written (under the lock) */
	struct virtq_chain chain;
};

static void config_read(void *dev, uint32_t off, void *data, unsigned len)
{
	struct virtio_blk *b = dev;

	memcpy(data, (uint8_t *)&b->config + off, len);
}

/*
 * Transfer the data part of a request, buffer by buffer, straight between the
 * guest's memory and the disk. For reads the data are the writable buffers
 * minus the final status byte; for writes the readable ones after the header.
 */
static int transfer(struct virtio_blk *b, const struct virtq_chain *c, uint64_t off,
		    bool write, uint32_t *written)
{
	size_t skip = write ? sizeof(struct blk_req_hdr) : 0;
	size_t left = write ? c->in_len - sizeof(struct blk_req_hdr) : c->out_len - 1;
	int ret;

	if (left % 512 || off + left < off || off + left > b->disk.size)
		return -EINVAL;
	*written = 0;
	for (unsigned i = 0; i < c->nbufs && left; i++) {
		const struct virtq_buf *v = &c->bufs[i];
		size_t n;

		if (v->write != !write)
			continue;
		if (skip >= v->len) {
			skip -= v->len;
			continue;
		}
		n = MIN(v->len - skip, left);
		ret = write ? b->disk.ops->write(b->disk.opaque, (char *)v->addr + skip, n, off)
			    : b->disk.ops->read(b->disk.opaque, (char *)v->addr + skip, n, off);
		if (ret)
			return ret;
		if (!write)
			*written += n;
		off += n;
		left -= n;
		b->bytes[write] += n;
		skip = 0;
	}
	return 0;
}

/* DISCARD and WRITE_ZEROES carry a list of ranges after the header. */
static int ranges(struct virtio_blk *b, const struct virtq_chain *c, bool zeroes)
{
	size_t len = c->in_len - sizeof(struct blk_req_hdr);
	unsigned n = len / sizeof(struct blk_range);

	if (!n || len % sizeof(struct blk_range) || n > MAX_DISCARD_SEGS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		struct blk_range r;
		uint64_t off, bytes;
		int ret;

		virtq_chain_read(c, sizeof(struct blk_req_hdr) + i * sizeof(r), &r, sizeof(r));
		if (r.num_sectors > MAX_DISCARD_SECTORS || r.sector > (UINT64_MAX >> SECTOR_SHIFT) ||
		    (!zeroes && r.flags) || (zeroes && (r.flags & ~WZ_FLAG_UNMAP)))
			return -EINVAL;
		off = r.sector << SECTOR_SHIFT;
		bytes = (uint64_t)r.num_sectors << SECTOR_SHIFT;
		if (off + bytes > b->disk.size)
			return -EINVAL;
		ret = zeroes ? b->disk.ops->write_zeroes(b->disk.opaque, off, bytes, r.flags & WZ_FLAG_UNMAP)
			     : b->disk.ops->discard(b->disk.opaque, off, bytes);
		if (ret)
			return ret;
	}
	return 0;
}

/* A failed request: the guest gets an I/O error, the host one warning (then debug lines). */
static void report(struct virtio_blk *b, const struct blk_req_hdr *h, int err)
{
	const char *why = err != -EINVAL && b->disk.ops->error ? b->disk.ops->error(b->disk.opaque) : NULL;

	if (!why || !*why)
		why = strerror(-err);
	if (!b->warned && err != -EINVAL)
		dev_warn(b->name, "%s: request type %u at sector %llu failed: %s (further failures at debug level)",
			 b->disk.name, h->type, (unsigned long long)h->sector, why);
	else
		dev_debug(b->name, "request type %u sector %llu: %s", h->type,
			  (unsigned long long)h->sector, why);
	b->warned |= err != -EINVAL;
}

static uint8_t handle(struct virtio_blk *b, const struct virtq_chain *c, uint32_t *written)
{
	struct blk_req_hdr h;
	int ret;

	*written = 0;
	virtq_chain_read(c, 0, &h, sizeof(h));
	if (h.sector > (UINT64_MAX >> SECTOR_SHIFT))
		return VIRTIO_BLK_S_IOERR;
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		ret = transfer(b, c, h.sector << SECTOR_SHIFT, false, written);
		break;
	case VIRTIO_BLK_T_OUT:
		if (b->disk.read_only)
			return VIRTIO_BLK_S_IOERR;
		ret = transfer(b, c, h.sector << SECTOR_SHIFT, true, written);
		break;
	case VIRTIO_BLK_T_FLUSH:
		ret = b->disk.read_only ? 0 : b->disk.ops->flush(b->disk.opaque);
		break;
	case VIRTIO_BLK_T_GET_ID:
		*written = virtq_chain_write(c, 0, b->id, MIN((size_t)c->out_len - 1, sizeof(b->id)));
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (b->disk.read_only)
			return VIRTIO_BLK_S_IOERR;
		ret = ranges(b, c, h.type == VIRTIO_BLK_T_WRITE_ZEROES);
		break;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
	if (ret) {
		report(b, &h, ret);
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

static void queue_notify(void *dev, unsigned q)
{
	struct virtio_blk *b = dev;
	struct virtq *vq = &b->t->queues[q];
	struct virtq_chain *c = &b->chain;
	bool pushed = false;
	int ret;

	while ((ret = virtq_pop(vq, &b->t->vm->mem, c)) == 1) {
		uint32_t written;
		uint8_t status;

		/* A request needs its header to read and a status byte to write. */
		if (c->in_len < sizeof(struct blk_req_hdr) || c->out_len < 1) {
			virtio_mmio_needs_reset(b->t, "virtio-blk request without header or status byte");
			return;
		}
		status = handle(b, c, &written);
		virtq_chain_write(c, c->out_len - 1, &status, 1);
		virtq_push(vq, c->head, written + 1);
		pushed = true;
	}
	if (ret < 0)
		virtio_mmio_needs_reset(b->t, "malformed virtio-blk descriptor chain");
	if (pushed)
		virtio_mmio_signal(b->t, q);
}

static uint64_t blk_features(void *dev)
{
	struct virtio_blk *b = dev;

	if (b->disk.read_only)
		return 1ULL << VIRTIO_BLK_F_RO;
	return (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
}

static const struct virtio_device_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.features = (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
		    (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH) |
		    (1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX),
	.instance_features = blk_features,
	.nqueues = 1,
	.queue_size = QUEUE_SIZE,
	.config_size = sizeof(struct blk_config_space),
	.config_read = config_read,
	.queue_notify = queue_notify,
};

int virtio_blk_create(struct vm *vm, const struct virtio_blk_config *cfg, struct virtio_blk **out)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	struct virtio_mmio_config mc = cfg->mmio;
	int ret;

	if (!b) {
		cfg->backend.ops->close(cfg->backend.opaque);
		return -ENOMEM;
	}
	b->disk = cfg->backend;
	snprintf(b->name, sizeof(b->name), "virtio-blk%u", cfg->mmio.slot);
	if (cfg->serial)	/* not NUL-terminated at 20 bytes: as the spec says */
		memcpy(b->id, cfg->serial, MIN(strlen(cfg->serial), sizeof(b->id)));
	b->config = (struct blk_config_space){
		.capacity = b->disk.size >> SECTOR_SHIFT,
		.size_max = SIZE_MAX_BYTES,
		.seg_max = SEG_MAX,
		.blk_size = 512,
		.num_queues = 1,
		.max_discard_sectors = MAX_DISCARD_SECTORS,
		.max_discard_seg = MAX_DISCARD_SEGS,
		.discard_sector_alignment = 8,
		.max_write_zeroes_sectors = MAX_DISCARD_SECTORS,
		.max_write_zeroes_seg = MAX_DISCARD_SEGS,
		.write_zeroes_may_unmap = 1,
	};
	mc.name = b->name;
	ret = virtio_mmio_create(vm, &mc, &blk_ops, b, &b->t);
	if (ret) {
		b->disk.ops->close(b->disk.opaque);
		free(b);
		return ret;
	}
	if (b->disk.size % 512)
		dev_warn(b->name, "%s: size is not a multiple of 512; the last %llu bytes are not visible",
			 b->disk.name, (unsigned long long)(b->disk.size % 512));
	*out = b;
	return 0;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (!b)
		return;
	virtio_mmio_destroy(b->t);
	b->disk.ops->close(b->disk.opaque);
	free(b);
}

struct virtio_mmio *virtio_blk_transport(struct virtio_blk *b)
{
	return b->t;
}

void virtio_blk_stats(struct virtio_blk *b, uint64_t *read, uint64_t *written)
{
	pthread_mutex_lock(&b->t->lock);
	*read = b->bytes[0];
	*written = b->bytes[1];
	pthread_mutex_unlock(&b->t->lock);
}
