/* The agent protocol codec (protocol.h): frames, typed fields, messages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest-agent/protocol.h"
#include "guest-agent/protocol-internal.h"

#define BUF_MAX		(64u << 20)	/* a send buffer never grows past this */
#define RX_CHUNK	(64u << 10)

long proto_frame_parse(const void *buf, size_t n, struct proto_frame *f)
{
	const uint8_t *p = buf;
	uint32_t len;

	if (n < PROTO_HDR_SIZE)
		return 0;
	len = get_le32(p);
	if (len > PROTO_MAX_PAYLOAD)
		return -E2BIG;
	if (n - PROTO_HDR_SIZE < len)
		return 0;
	f->len = len;
	f->type = get_le16(p + 4);
	f->stream = get_le16(p + 6);
	f->payload = p + PROTO_HDR_SIZE;
	return PROTO_HDR_SIZE + (long)len;
}

/* ---- output buffer ---- */

void proto_buf_init(struct proto_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void proto_buf_free(struct proto_buf *b)
{
	free(b->data);
	proto_buf_init(b);
}

void proto_buf_consume(struct proto_buf *b, size_t n)
{
	if (n > b->len - b->off)
		n = b->len - b->off;
	b->off += n;
	if (b->off == b->len && b->frame == b->len)
		b->off = b->len = b->frame = 0;
}

/* Room for n more bytes; moves sent bytes out of the way first. */
static int ensure(struct proto_buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->err)
		return b->err;
	if (n > BUF_MAX || b->len - b->off + n > BUF_MAX)
		return b->err = -ENOBUFS;
	if (b->cap - b->len >= n)
		return 0;
	if (b->off) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->frame -= b->off;
		b->off = 0;
		if (b->cap - b->len >= n)
			return 0;
	}
	cap = b->cap ? b->cap : 4096;
	while (cap - b->len < n)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

void proto_begin(struct proto_buf *b, uint16_t type, uint16_t stream)
{
	b->err = 0;
	b->frame = b->len;
	if (ensure(b, PROTO_HDR_SIZE))
		return;
	put_le16(b->data + b->len + 4, type);
	put_le16(b->data + b->len + 6, stream);
	b->len += PROTO_HDR_SIZE;
}

int proto_end(struct proto_buf *b)
{
	size_t payload = b->len - b->frame - PROTO_HDR_SIZE;
	int err = b->err;

	if (!err && payload > PROTO_MAX_PAYLOAD)
		err = -E2BIG;
	b->err = 0;
	if (err) {
		b->len = b->frame;	/* drop the partial frame */
		return err;
	}
	put_le32(b->data + b->frame, payload);
	b->frame = b->len;
	return 0;
}

static uint8_t *field(struct proto_buf *b, uint16_t tag, size_t n)
{
	uint8_t *p;

	if (n > UINT32_MAX || ensure(b, FIELD_HDR + n))
		return NULL;
	p = b->data + b->len;
	put_le16(p, tag);
	put_le32(p + 2, n);
	b->len += FIELD_HDR + n;
	return p + FIELD_HDR;
}

void proto_put_u64(struct proto_buf *b, uint16_t tag, uint64_t v)
{
	uint8_t *p = field(b, tag, 8);

	if (p)
		put_le64(p, v);
}

void proto_put_i64(struct proto_buf *b, uint16_t tag, int64_t v)
{
	proto_put_u64(b, tag, (uint64_t)v);
}

void proto_put_bytes(struct proto_buf *b, uint16_t tag, const void *src, size_t n)
{
	uint8_t *p = field(b, tag, n);

	if (p && n)
		memcpy(p, src, n);
}

void proto_put_str(struct proto_buf *b, uint16_t tag, const char *s)
{
	if (s)
		proto_put_bytes(b, tag, s, strlen(s));
}

size_t proto_nest_begin(struct proto_buf *b, uint16_t tag)
{
	/* Offsets relative to the frame survive ensure() moving the buffer. */
	if (!field(b, tag, 0))
		return 0;
	return b->len - b->frame;
}

void proto_nest_end(struct proto_buf *b, size_t handle)
{
	size_t start = b->frame + handle;

	if (b->err || !handle)
		return;
	put_le32(b->data + start - 4, b->len - start);
}

int proto_put_frame(struct proto_buf *b, uint16_t type, uint16_t stream, const void *p, size_t n)
{
	proto_begin(b, type, stream);
	if (n > PROTO_MAX_PAYLOAD)
		b->err = -E2BIG;
	else if (!ensure(b, n) && n) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
	}
	return proto_end(b);
}

/* ---- reading fields ---- */

void proto_reader_init(struct proto_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}

int proto_next(struct proto_reader *r, uint16_t *tag, const uint8_t **val, uint32_t *len)
{
	uint32_t n;

	if (r->off >= r->len)
		return 0;
	if (r->len - r->off < FIELD_HDR)
		return -EINVAL;
	n = get_le32(r->p + r->off + 2);
	if (n > r->len - r->off - FIELD_HDR)
		return -EINVAL;
	*tag = get_le16(r->p + r->off);
	*val = r->p + r->off + FIELD_HDR;
	*len = n;
	r->off += FIELD_HDR + n;
	return 1;
}

int proto_get_u64(const uint8_t *val, uint32_t len, uint64_t *v)
{
	if (len != 8)
		return -EINVAL;
	*v = get_le64(val);
	return 0;
}
int proto_get_range(const uint8_t *val, uint32_t len, uint64_t max, uint64_t *v)
{
	*v = 0;
	if (proto_get_u64(val, len, v))
		return -EINVAL;
	return *v > max ? -EINVAL : 0;
}

int proto_check_str(const uint8_t *val, uint32_t len)
{
	if (len > PROTO_MAX_STRING)
		return -E2BIG;
	return memchr(val, 0, len) ? -EINVAL : 0;
}

int proto_take_str(const uint8_t *val, uint32_t len, char *strbuf, size_t strbuf_len,
		    size_t *used, const char **out)
{
	int ret = proto_check_str(val, len);

	if (ret)
		return ret;
	if (!strbuf || strbuf_len - *used < (size_t)len + 1)
		return -E2BIG;
	memcpy(strbuf + *used, val, len);
	strbuf[*used + len] = 0;
	*out = strbuf + *used;
	*used += len + 1;
	return 0;
}

/* ---- receive buffer ---- */

void proto_rx_init(struct proto_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

void proto_rx_free(struct proto_rx *rx)
{
	free(rx->data);
	proto_rx_init(rx);
}

void proto_rx_reset(struct proto_rx *rx)
{
	rx->len = rx->off = 0;
}

/* Compact, and make room for the frame being received (or a chunk). */
static int rx_room(struct proto_rx *rx, size_t *room)
{
	size_t want = RX_CHUNK, cap;
	uint8_t *p;

	if (rx->off) {
		memmove(rx->data, rx->data + rx->off, rx->len - rx->off);
		rx->len -= rx->off;
		rx->off = 0;
	}
	if (rx->len >= PROTO_HDR_SIZE) {
		uint32_t flen = get_le32(rx->data);

		if (flen > PROTO_MAX_PAYLOAD)
			return -E2BIG;
		if (PROTO_HDR_SIZE + (size_t)flen > rx->len)
			want = PROTO_HDR_SIZE + (size_t)flen - rx->len;
	}
	if (rx->cap - rx->len < want) {
		cap = rx->cap ? rx->cap : RX_CHUNK;
		while (cap - rx->len < want)
			cap *= 2;
		p = realloc(rx->data, cap);
		if (!p)
			return -ENOMEM;
		rx->data = p;
		rx->cap = cap;
	}
	*room = rx->cap - rx->len;
	return 0;
}

long proto_rx_read(struct proto_rx *rx, int fd)
{
	size_t room;
	ssize_t n;
	int ret = rx_room(rx, &room);

	if (ret)
		return ret;
	n = read(fd, rx->data + rx->len, room);
	if (n < 0)
		return -errno;
	rx->len += n;
	return n;
}

int proto_rx_feed(struct proto_rx *rx, const void *p, size_t n)
{
	while (n) {
		size_t room, k;
		int ret = rx_room(rx, &room);

		if (ret)
			return ret;
		k = n < room ? n : room;
		memcpy(rx->data + rx->len, p, k);
		rx->len += k;
		p = (const uint8_t *)p + k;
		n -= k;
	}
	return 0;
}

int proto_rx_next(struct proto_rx *rx, struct proto_frame *f)
{
	long n = proto_frame_parse(rx->data + rx->off, rx->len - rx->off, f);

	if (n <= 0)
		return n;
	rx->off += n;
	return 1;
}
