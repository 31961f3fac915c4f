/* Shared by protocol.c and protocol-msg.c only: byte order and field checks. */
#ifndef VMM_GUEST_AGENT_PROTOCOL_INTERNAL_H
#define VMM_GUEST_AGENT_PROTOCOL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define FIELD_HDR	6		/* u16 tag, u32 length */

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static inline uint16_t get_le16(const uint8_t *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* An integer field no larger than max; *v is 0 on error. */
int proto_get_range(const uint8_t *val, uint32_t len, uint64_t max, uint64_t *v);
/* A string value: no NUL inside, at most PROTO_MAX_STRING bytes. */
int proto_check_str(const uint8_t *val, uint32_t len);
/* Copy a string value into strbuf at *used, NUL-terminated; -E2BIG when it does not fit. */
int proto_take_str(const uint8_t *val, uint32_t len, char *strbuf, size_t strbuf_len,
		   size_t *used, const char **out);

#endif
