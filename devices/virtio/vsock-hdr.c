/* virtio-vsock packet headers: byte order and the checks every guest header passes. */
#include <stdint.h>

#include "devices/virtio/vsock-core.h"

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t ld32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void st64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static void st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

void vsock_hdr_decode(const uint8_t raw[VSOCK_HDR_SIZE], struct vsock_hdr *h)
{
	h->src_cid = ld64(raw);
	h->dst_cid = ld64(raw + 8);
	h->src_port = ld32(raw + 16);
	h->dst_port = ld32(raw + 20);
	h->len = ld32(raw + 24);
	h->type = raw[28] | raw[29] << 8;
	h->op = raw[30] | raw[31] << 8;
	h->flags = ld32(raw + 32);
	h->buf_alloc = ld32(raw + 36);
	h->fwd_cnt = ld32(raw + 40);
}

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t raw[VSOCK_HDR_SIZE])
{
	st64(raw, h->src_cid);
	st64(raw + 8, h->dst_cid);
	st32(raw + 16, h->src_port);
	st32(raw + 20, h->dst_port);
	st32(raw + 24, h->len);
	raw[28] = h->type;
	raw[29] = h->type >> 8;
	raw[30] = h->op;
	raw[31] = h->op >> 8;
	st32(raw + 32, h->flags);
	st32(raw + 36, h->buf_alloc);
	st32(raw + 40, h->fwd_cnt);
}

enum vsock_verdict vsock_hdr_check(const struct vsock_hdr *h, uint64_t guest_cid,
				   uint32_t payload_avail, const char **why)
{
	*why = NULL;
	if (h->src_cid != guest_cid)
		*why = "source CID is not the guest's";
	else if (h->dst_cid != VSOCK_HOST_CID)
		*why = "destination CID is not the host (2)";
	if (*why)
		return VSOCK_PKT_DROP;
	if (h->op == VSOCK_OP_RST) {
		*why = h->len ? "RST with a payload" : NULL;
		return *why ? VSOCK_PKT_DROP : VSOCK_PKT_OK;	/* never answer an RST */
	}
	if (h->len > VSOCK_MAX_PKT)
		*why = "payload length over 64 KiB";
	else if (h->len > payload_avail)
		*why = "payload length beyond the descriptor chain";
	else if (h->type != VSOCK_TYPE_STREAM)
		*why = "not a stream socket";
	else if (h->op < VSOCK_OP_REQUEST || h->op > VSOCK_OP_CREDIT_REQUEST)
		*why = "unknown operation";
	else if (h->op != VSOCK_OP_RW && h->len)
		*why = "control packet with a payload";
	else if (h->op == VSOCK_OP_SHUTDOWN && (h->flags & ~(uint32_t)3))
		*why = "unknown SHUTDOWN flags";
	return *why ? VSOCK_PKT_RST : VSOCK_PKT_OK;
}
