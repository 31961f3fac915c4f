#include <errno.h>
#include <string.h>

#include "devices/virtio/queue.h"
#include "vmm/memory.h"

#define AVAIL_FLAGS	0
#define AVAIL_IDX	1
#define AVAIL_RING	2
#define USED_FLAGS	0
#define USED_IDX	1

/* Check the rings' placement and map them. */
static int map_rings(struct virtq *q, const struct guest_mem *mem)
{
	uint64_t n = q->num;

	if (!n || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	/* Alignment as the spec requires: 16 for descriptors, 2 avail, 4 used. */
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return -EINVAL;
	q->desc = guest_mem_ptr(mem, q->desc_gpa, 16 * n);
	q->avail = guest_mem_ptr(mem, q->avail_gpa, 6 + 2 * n);
	q->used = guest_mem_ptr(mem, q->used_gpa, 6 + 8 * n);
	if (!q->desc || !q->avail || !q->used) {
		q->desc = NULL;
		q->avail = q->used = NULL;
		return -EFAULT;
	}
	return 0;
}

int virtq_enable(struct virtq *q, const struct guest_mem *mem)
{
	int ret = map_rings(q, mem);

	if (ret)
		return ret;
	q->last_avail = q->used_idx = q->signalled_used = 0;
	q->signalled_valid = false;
	q->ready = true;
	return 0;
}

int virtq_remap(struct virtq *q, const struct guest_mem *mem)
{
	int ret = map_rings(q, mem);

	if (!ret)
		q->ready = true;
	return ret;
}

void virtq_reset(struct virtq *q)
{
	bool ev = q->event_idx, ind = q->indirect;

	memset(q, 0, sizeof(*q));
	q->event_idx = ev;
	q->indirect = ind;
}

/*
 * With VIRTIO_F_EVENT_IDX the driver kicks only when its avail index passes
 * avail_event (the u16 after the used ring): keep it at the next entry we
 * will take, or the driver stops notifying us.
 */
static void set_avail_event(struct virtq *q)
{
	if (q->event_idx)
		__atomic_store_n(&q->used[2 + 4 * q->num], q->last_avail, __ATOMIC_RELEASE);
}

static int add_buf(struct virtq_chain *c, const struct guest_mem *mem, const struct vring_desc *d)
{
	struct virtq_buf *b;
	bool write = d->flags & VRING_DESC_F_WRITE;

	if (c->nbufs == VIRTQ_MAX_CHAIN)
		return -EINVAL;
	/* Readable buffers first: a readable one after a writable one is invalid. */
	if (!write && c->out_len)
		return -EINVAL;
	b = &c->bufs[c->nbufs];
	b->addr = guest_mem_ptr(mem, d->addr, d->len);
	if (!b->addr && d->len)
		return -EFAULT;
	b->len = d->len;
	b->write = write;
	if (write) {
		if (c->out_len + (uint64_t)d->len > UINT32_MAX)
			return -EINVAL;
		c->out_len += d->len;
	} else {
		if (c->in_len + (uint64_t)d->len > UINT32_MAX)
			return -EINVAL;
		c->in_len += d->len;
	}
	c->nbufs++;
	return 0;
}

static int walk_indirect(struct virtq_chain *c, const struct guest_mem *mem, const struct vring_desc *d)
{
	const struct vring_desc *table;
	unsigned n = d->len / sizeof(struct vring_desc);
	uint16_t i = 0;

	if (!n || d->len % sizeof(struct vring_desc) || n > VIRTQ_MAX_CHAIN)
		return -EINVAL;
	table = guest_mem_ptr(mem, d->addr, d->len);
	if (!table)
		return -EFAULT;
	for (unsigned steps = 0; ; steps++) {
		struct vring_desc e;
		int ret;

		if (steps >= n)
			return -EINVAL;	/* longer than the table: a loop */
		memcpy(&e, &table[i], sizeof(e));	/* one read: the guest may change it */
		if (e.flags & VRING_DESC_F_INDIRECT)
			return -EINVAL;	/* nested indirect tables are forbidden */
		ret = add_buf(c, mem, &e);
		if (ret)
			return ret;
		if (!(e.flags & VRING_DESC_F_NEXT))
			return 0;
		if (e.next >= n)
			return -EINVAL;
		i = e.next;
	}
}

int virtq_pop(struct virtq *q, const struct guest_mem *mem, struct virtq_chain *c)
{
	uint16_t avail_idx, head, i;
	int ret;

	if (!q->ready)
		return 0;
	avail_idx = __atomic_load_n(&q->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
	if (avail_idx == q->last_avail && q->event_idx) {
		/* Publish where we are, then look again: a kick may have been skipped. */
		set_avail_event(q);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = __atomic_load_n(&q->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
	}
	if (avail_idx == q->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - q->last_avail) > q->num)
		return -EINVAL;	/* the guest claims more entries than the ring holds */
	head = q->avail[AVAIL_RING + (q->last_avail % q->num)];
	if (head >= q->num)
		return -EINVAL;
	q->last_avail++;
	set_avail_event(q);

	c->head = head;
	c->nbufs = 0;
	c->in_len = c->out_len = 0;
	i = head;
	for (unsigned steps = 0; ; steps++) {
		struct vring_desc d;

		if (steps >= q->num)
			return -EINVAL;	/* more descriptors than the queue has: a loop */
		memcpy(&d, &q->desc[i], sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!q->indirect || (d.flags & VRING_DESC_F_NEXT) || c->nbufs)
				return -EINVAL;
			return walk_indirect(c, mem, &d) ? -EINVAL : 1;
		}
		ret = add_buf(c, mem, &d);
		if (ret)
			return -EINVAL;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 1;
		if (d.next >= q->num)
			return -EINVAL;
		i = d.next;
	}
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	volatile struct vring_used_elem *ring;
	uint16_t slot;

	if (!q->ready)
		return;	/* reset or NEEDS_RESET since the pop: the chain is gone */
	ring = (volatile struct vring_used_elem *)(q->used + 2);
	slot = q->used_idx % q->num;

	ring[slot].id = head;
	ring[slot].len = len;
	q->used_idx++;
	/* The entry must be visible before the index that publishes it. */
	__atomic_store_n(&q->used[USED_IDX], q->used_idx, __ATOMIC_RELEASE);
}

void virtq_push_many(struct virtq *q, const struct vring_used_elem *elems, unsigned n)
{
	volatile struct vring_used_elem *ring;

	if (!q->ready || !n)
		return;
	ring = (volatile struct vring_used_elem *)(q->used + 2);
	for (unsigned i = 0; i < n; i++) {
		uint16_t slot = (uint16_t)(q->used_idx + i) % q->num;

		ring[slot].id = elems[i].id;
		ring[slot].len = elems[i].len;
	}
	q->used_idx += n;
	__atomic_store_n(&q->used[USED_IDX], q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_unpop(struct virtq *q, uint16_t n)
{
	uint16_t avail_idx;

	if (!q->ready)
		return false;
	q->last_avail -= n;
	if (!q->event_idx)
		return false;
	/*
	 * avail_event must not lag behind the guest's index, or its next kicks
	 * are suppressed: ask for a kick on the next chain it adds.
	 */
	avail_idx = __atomic_load_n(&q->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
	__atomic_store_n(&q->used[2 + 4 * q->num], avail_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&q->avail[AVAIL_IDX], __ATOMIC_ACQUIRE) != avail_idx;
}

bool virtq_need_interrupt(struct virtq *q)
{
	uint16_t old = q->signalled_used, new_idx = q->used_idx;
	bool valid = q->signalled_valid;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->signalled_used = new_idx;
	q->signalled_valid = true;
	if (!q->event_idx)
		return !(q->avail[AVAIL_FLAGS] & VRING_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	/* vring_need_event(used_event, new, old) */
	{
		uint16_t event = q->avail[AVAIL_RING + q->num];

		return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
	}
}

size_t virtq_chain_read(const struct virtq_chain *c, size_t off, void *dst, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < c->nbufs && done < len; i++) {
		const struct virtq_buf *b = &c->bufs[i];
		size_t n;

		if (b->write)
			break;
		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		n = b->len - off < len - done ? b->len - off : len - done;
		memcpy((char *)dst + done, (char *)b->addr + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t virtq_chain_write(const struct virtq_chain *c, size_t off, const void *src, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < c->nbufs && done < len; i++) {
		const struct virtq_buf *b = &c->bufs[i];
		size_t n;

		if (!b->write)
			continue;
		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		n = b->len - off < len - done ? b->len - off : len - done;
		memcpy((char *)b->addr + off, (const char *)src + done, n);
		done += n;
		off = 0;
	}
	return done;
}
