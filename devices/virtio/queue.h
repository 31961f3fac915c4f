/*
 * Split virtqueues (virtio 1.x, 2.7): popping descriptor chains and pushing
 * used entries. Everything in the rings is written by the guest and hostile:
 * every address goes through the checked guest-memory translation, chains
 * are bounded by the queue size, loops and bad indirect tables are errors.
 */
#ifndef VMM_DEVICES_VIRTIO_QUEUE_H
#define VMM_DEVICES_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

struct guest_mem;

#define VIRTQ_MAX_SIZE		1024	/* largest queue we offer */
#define VIRTQ_MAX_CHAIN		1024	/* descriptors per chain, indirect included */

#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_DESC_F_INDIRECT	4
#define VRING_USED_F_NO_NOTIFY	1
#define VRING_AVAIL_F_NO_INTERRUPT 1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
} __attribute__((packed));

struct virtq {
	uint16_t num;		/* entries, a power of 2, 0 = not configured */
	bool ready;
	bool event_idx;		/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;		/* VIRTIO_F_INDIRECT_DESC negotiated */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Host pointers, valid while ready (checked when the driver enables the queue). */
	struct vring_desc *desc;
	volatile uint16_t *avail;	/* flags, idx, ring[num], used_event */
	volatile uint16_t *used;	/* flags, idx, then vring_used_elem[num], avail_event */
	uint16_t last_avail;	/* next avail entry we will take */
	uint16_t used_idx;	/* next used entry we will fill */
	uint16_t signalled_used;	/* used_idx when we last interrupted */
	bool signalled_valid;
};

/* One buffer of a chain: a host pointer into guest RAM. */
struct virtq_buf {
	void *addr;
	uint32_t len;
	bool write;		/* device writes it (guest receives) */
};

struct virtq_chain {
	uint16_t head;
	unsigned nbufs;
	uint32_t in_len;	/* total bytes of device-readable buffers */
	uint32_t out_len;	/* total bytes of device-writable buffers */
	struct virtq_buf bufs[VIRTQ_MAX_CHAIN];
};

/* Check the rings lie in guest RAM and map them. 0 or -EFAULT / -EINVAL. */
int virtq_enable(struct virtq *q, const struct guest_mem *mem);
void virtq_reset(struct virtq *q);
/* After a snapshot restore: map the rings again, keeping the indices. */
int virtq_remap(struct virtq *q, const struct guest_mem *mem);

/*
 * Take the next available chain. 1: *chain filled; 0: queue empty; -EINVAL:
 * the guest broke the rules (the device must then go to NEEDS_RESET).
 * Readable buffers always precede writable ones in a valid chain.
 */
int virtq_pop(struct virtq *q, const struct guest_mem *mem, struct virtq_chain *chain);
/* Return a chain to the guest with len bytes written into its buffers. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/*
 * Return n chains at once: the guest sees all of them or none (one used index
 * update), as a frame spread over merged receive buffers needs.
 */
void virtq_push_many(struct virtq *q, const struct vring_used_elem *elems, unsigned n);
/*
 * Give back the last n chains popped and not pushed: the next pops return
 * them again. With event indexes the guest is asked to kick on its next
 * buffer. Returns true when the guest added chains meanwhile (pop again
 * rather than wait for a kick that may not come).
 */
bool virtq_unpop(struct virtq *q, uint16_t n);
/* After pushes: does the guest want an interrupt (flags / event index)? */
bool virtq_need_interrupt(struct virtq *q);

/* Copy helpers over a chain's readable / writable buffers, from byte offset off. */
size_t virtq_chain_read(const struct virtq_chain *c, size_t off, void *dst, size_t len);
size_t virtq_chain_write(const struct virtq_chain *c, size_t off, const void *src, size_t len);

#endif
