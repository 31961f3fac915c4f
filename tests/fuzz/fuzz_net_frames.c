/*
 * virtio-net from a hostile guest: the transmit and receive rings (descriptor
 * tables, avail indexes, chain shapes, buffer sizes), the virtio-net headers
 * in transmitted frames, and frames of any size from the backend, through
 * devices/virtio/net-core.c. Input layout:
 *   u8 flags          bit 0 mrg_rxbuf, 1 guest_csum, 2 host_csum, 3 backend
 *                     full on the first send, 4 raw (unclamped) addresses
 *   tx ring           u16 avail_idx, u16 ring[QN], struct vring_desc[QN]
 *   rx ring           the same
 *   u8 nframes, u16 len[8]   frames the backend delivers (bytes from the data)
 *   data              copied into guest RAM where the descriptors point
 * Checked: frames reaching the backend are within Ethernet bounds; used
 * entries never exceed what was made available; ASan/UBSan do the rest.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "devices/net-backend.h"
#include "devices/virtio/net-core.h"
#include "vmm/memory.h"
#include "vmm/base/util.h"

#define QN		16
#define MEM		(4 * MiB)
#define RXRING		0x1000ULL
#define TXRING		0x4000ULL
#define DATA		0x10000ULL
#define DATA_SIZE	(MEM - DATA)

struct ring_in {
	uint16_t avail_idx;
	uint16_t ring[QN];
	struct vring_desc desc[QN];
} __attribute__((packed));

static struct guest_mem mem;
static int fail_next;

static int send_frame(struct net_backend *b, const void *frame, size_t len)
{
	(void)b;
	(void)frame;
	if (len < NET_ETH_HLEN || len > NET_MAX_FRAME)
		__builtin_trap();
	if (fail_next) {
		fail_next = 0;
		return -11;	/* -EAGAIN */
	}
	return 0;
}

static void pause_rx(struct net_backend *b, bool paused)
{
	(void)b;
	(void)paused;
}

static void destroy(struct net_backend *b)
{
	(void)b;
}

static const struct net_backend_ops ops = { send_frame, pause_rx, destroy };

static void setup_ring(struct virtq *q, uint64_t base, const struct ring_in *in, bool raw)
{
	struct vring_desc *d = guest_mem_ptr(&mem, base, 16 * QN);
	uint16_t *avail = guest_mem_ptr(&mem, base + 0x1000, 6 + 2 * QN);

	memset(guest_mem_ptr(&mem, base, 0x3000), 0, 0x3000);
	for (unsigned i = 0; i < QN; i++) {
		d[i] = in->desc[i];
		if (!raw && !(d[i].flags & VRING_DESC_F_INDIRECT)) {
			d[i].addr = DATA + d[i].addr % DATA_SIZE;
			d[i].len %= 0x20000;
		} else if (!raw) {
			d[i].addr = DATA + d[i].addr % DATA_SIZE;
			d[i].len %= 16 * 64 + 1;
		}
	}
	for (unsigned i = 0; i < QN; i++)
		avail[2 + i] = in->ring[i];
	avail[1] = in->avail_idx;
	memset(q, 0, sizeof(*q));
	q->num = QN;
	q->indirect = true;
	q->desc_gpa = base;
	q->avail_gpa = base + 0x1000;
	q->used_gpa = base + 0x2000;
	virtq_enable(q, &mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_backend b = { .ops = &ops, .name = "fuzz", .mtu = 1500, .csum_valid = true };
	static struct net_core c;
	struct virtq rxq, txq;
	struct ring_in tx, rx;
	uint16_t lens[8];
	uint8_t flags, nframes;
	size_t off = 0, dlen;
	const uint8_t *payload;

	if (!mem.nregions && guest_mem_alloc(&mem, MEM))
		return 0;
	if (size < 1 + 2 * sizeof(struct ring_in) + 1 + sizeof(lens))
		return 0;
	flags = data[off++];
	memcpy(&tx, data + off, sizeof(tx));
	off += sizeof(tx);
	memcpy(&rx, data + off, sizeof(rx));
	off += sizeof(rx);
	nframes = data[off++] % 9;
	memcpy(lens, data + off, sizeof(lens));
	off += sizeof(lens);
	payload = data + off;
	dlen = size - off;

	memset(guest_mem_ptr(&mem, DATA, DATA_SIZE), 0, MIN(DATA_SIZE, 0x40000));
	memcpy(guest_mem_ptr(&mem, DATA, MIN(dlen, DATA_SIZE)), payload, MIN(dlen, DATA_SIZE));
	setup_ring(&txq, TXRING, &tx, flags & 16);
	setup_ring(&rxq, RXRING, &rx, flags & 16);

	if (net_core_init(&c, "fuzz", &mem, &rxq, &txq, &b))
		return 0;
	net_core_set_features(&c, flags & 1, flags & 2, flags & 4);
	c.running = true;
	fail_next = flags & 8;

	for (int i = 0; i < 4 && net_core_tx(&c) > 0; i++)
		;
	if (c.tx_pending)
		net_core_tx_resume(&c);
	for (unsigned i = 0; i < nframes; i++) {
		static uint8_t frame[NET_MAX_FRAME];
		size_t len = lens[i] % (NET_MAX_FRAME + 2);

		memset(frame, (int)i, MIN(len, sizeof(frame)));
		if (dlen && len <= sizeof(frame))
			memcpy(frame, payload, MIN(len, dlen));
		net_core_receive(&c, frame, len);
	}
	net_core_rx(&c);
	/* Never more used entries than chains the guest made available. */
	if ((uint16_t)(rxq.used_idx) > (uint16_t)(rxq.last_avail) ||
	    (uint16_t)(txq.used_idx) > (uint16_t)(txq.last_avail))
		__builtin_trap();
	net_core_free(&c);
	return 0;
}
