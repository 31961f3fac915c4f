/* Split virtqueue parsing against well-formed and hostile descriptor chains. */
#include <string.h>

#include "devices/virtio/queue.h"
#include "tests/unit/tap.h"
#include "vmm/memory.h"
#include "vmm/base/util.h"

#define QN	8
#define DESC	0x10000ULL
#define AVAIL	0x11000ULL
#define USED	0x12000ULL
#define DATA	0x20000ULL

static struct guest_mem mem;
static struct virtq q;
static struct virtq_chain chain;

static struct vring_desc *desc(unsigned i)
{
	return guest_mem_ptr(&mem, DESC + 16 * i, 16);
}

static void setd(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(i) = (struct vring_desc){ addr, len, flags, next };
}

static uint16_t *avail(unsigned i)
{
	return guest_mem_ptr(&mem, AVAIL + 2 * i, 2);
}

static void offer(uint16_t head)
{
	uint16_t idx = *avail(1);

	*avail(2 + idx % QN) = head;
	*avail(1) = idx + 1;
}

static void fresh(bool indirect, bool event_idx)
{
	memset(guest_mem_ptr(&mem, DESC, 0x3000), 0, 0x3000);
	virtq_reset(&q);
	q.num = QN;
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	q.indirect = indirect;
	q.event_idx = event_idx;
	virtq_enable(&q, &mem);
}

static void test_chain(void)
{
	uint8_t buf[64];
	uint16_t *used;

	fresh(false, false);
	ok(virtq_pop(&q, &mem, &chain) == 0, "empty queue pops nothing");
	setd(0, DATA, 16, VRING_DESC_F_NEXT, 1);
	setd(1, DATA + 0x100, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	setd(2, DATA + 0x400, 1, VRING_DESC_F_WRITE, 0);
	memcpy(guest_mem_ptr(&mem, DATA, 16), "0123456789abcdef", 16);
	offer(0);
	ok(virtq_pop(&q, &mem, &chain) == 1, "three-descriptor chain pops");
	ok(chain.head == 0 && chain.nbufs == 3 && chain.in_len == 16 && chain.out_len == 513,
	   "head, buffers and lengths");
	ok(virtq_chain_read(&chain, 4, buf, 8) == 8 && !memcmp(buf, "456789ab", 8), "read across the readable part");
	ok(virtq_chain_write(&chain, 510, "xyz", 3) == 3 &&
	   !memcmp(guest_mem_ptr(&mem, DATA + 0x100 + 510, 2), "xy", 2) &&
	   *(uint8_t *)guest_mem_ptr(&mem, DATA + 0x400, 1) == 'z', "write spans writable buffers");
	virtq_push(&q, chain.head, 513);
	used = guest_mem_ptr(&mem, USED, 4 + 8 * QN);
	ok(used[1] == 1 && ((uint32_t *)(used + 2))[0] == 0 && ((uint32_t *)(used + 2))[1] == 513,
	   "used ring entry and index published");
	ok(virtq_need_interrupt(&q), "interrupt wanted without NO_INTERRUPT");
	*avail(0) = VRING_AVAIL_F_NO_INTERRUPT;
	virtq_push(&q, 0, 0);
	ok(!virtq_need_interrupt(&q), "NO_INTERRUPT honoured");
}

static void test_hostile_chains(void)
{
	fresh(false, false);
	setd(0, DATA, 16, VRING_DESC_F_NEXT, 1);
	setd(1, DATA, 16, VRING_DESC_F_NEXT, 0);	/* 0 -> 1 -> 0 -> ... */
	offer(0);
	ok(virtq_pop(&q, &mem, &chain) < 0, "descriptor loop detected");

	fresh(false, false);
	setd(0, DATA, 16, VRING_DESC_F_NEXT, QN + 3);
	offer(0);
	ok(virtq_pop(&q, &mem, &chain) < 0, "next index out of range refused");

	fresh(false, false);
	offer(QN + 1);
	ok(virtq_pop(&q, &mem, &chain) < 0, "head index out of range refused");

	fresh(false, false);
	setd(0, 1ULL << 40, 16, 0, 0);
	offer(0);
	ok(virtq_pop(&q, &mem, &chain) < 0, "buffer outside guest RAM refused");
	fresh(false, false);
	setd(0, 64 * MiB - 8, 16, 0, 0);
	offer(0);
	ok(virtq_pop(&q, &mem, &chain) < 0, "buffer running past the end of RAM refused");

	fresh(false, false);
	setd(0, DATA, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	setd(1, DATA, 16, 0, 0);
	offer(0);
	ok(virtq_pop(&q, &mem, &chain) < 0, "readable buffer after a writable one refused");

	fresh(false, false);
	*avail(1) = QN + 5;	/* claims more entries than the ring has */
	ok(virtq_pop(&q, &mem, &chain) < 0, "avail index running ahead of the ring refused");
}

static void test_indirect(void)
{
	fresh(true, false);
	{
		struct vring_desc *t = guest_mem_ptr(&mem, DATA + 0x1000, 3 * 16);

		t[0] = (struct vring_desc){ DATA, 16, VRING_DESC_F_NEXT, 1 };
		t[1] = (struct vring_desc){ DATA + 0x100, 100, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2 };
		t[2] = (struct vring_desc){ DATA + 0x200, 1, VRING_DESC_F_WRITE, 0 };
		setd(0, DATA + 0x1000, 3 * 16, VRING_DESC_F_INDIRECT, 0);
		offer(0);
		ok(virtq_pop(&q, &mem, &chain) == 1 && chain.nbufs == 3 && chain.out_len == 101,
		   "indirect table walked");
		t[2].flags = VRING_DESC_F_NEXT | VRING_DESC_F_WRITE;
		t[2].next = 1;
		offer(0);
		ok(virtq_pop(&q, &mem, &chain) < 0, "loop inside an indirect table detected");
		t[2] = (struct vring_desc){ DATA + 0x1000, 48, VRING_DESC_F_INDIRECT, 0 };
		t[1].flags = VRING_DESC_F_NEXT;
		offer(0);
		ok(virtq_pop(&q, &mem, &chain) < 0, "nested indirect table refused");
		setd(0, DATA + 0x1000, 20, VRING_DESC_F_INDIRECT, 0);
		offer(0);
		ok(virtq_pop(&q, &mem, &chain) < 0, "indirect table length not a multiple of 16 refused");
	}
	fresh(false, false);
	setd(0, DATA + 0x1000, 48, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	ok(virtq_pop(&q, &mem, &chain) < 0, "indirect descriptor without the feature refused");
}

/* Event index: avail_event published when the queue runs dry. */
static void test_event_idx(void)
{
	uint16_t *used;

	fresh(false, true);
	setd(0, DATA, 16, 0, 0);
	offer(0);
	offer(0);
	ok(virtq_pop(&q, &mem, &chain) == 1 && virtq_pop(&q, &mem, &chain) == 1 &&
	   virtq_pop(&q, &mem, &chain) == 0, "two entries, then empty");
	used = guest_mem_ptr(&mem, USED, 6 + 8 * QN);
	ok(used[2 + 4 * QN] == 2, "avail_event set to the next expected index");
}

static void test_ring_placement(void)
{
	virtq_reset(&q);
	q.num = QN;
	q.desc_gpa = 64 * MiB - 16;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	ok(virtq_enable(&q, &mem) != 0 && !q.ready, "descriptor table past the end of RAM refused");
	q.num = 6;
	q.desc_gpa = DESC;
	ok(virtq_enable(&q, &mem) != 0, "queue size not a power of two refused");
	q.num = QN;
	q.desc_gpa = DESC + 8;
	ok(virtq_enable(&q, &mem) != 0, "misaligned descriptor table refused");
}

int main(void)
{
	guest_mem_alloc(&mem, 64 * MiB);
	test_chain();
	test_hostile_chains();
	test_indirect();
	test_event_idx();
	test_ring_placement();
	guest_mem_free(&mem);
	return tap_done();
}
