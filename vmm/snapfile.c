#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/digest.h"
#include "vmm/snapfile.h"
#include "vmm/base/util.h"

#define MAX_BODY (64u << 20)

struct rec_hdr {
	char tag[SNAP_TAG_LEN];
	uint32_t len;
	uint32_t pad;
};

void snapbuf_put(struct snapbuf *b, const char *tag, const void *data, uint32_t len)
{
	size_t need = sizeof(struct rec_hdr) + ALIGN_UP((size_t)len, 8);
	struct rec_hdr h = { .len = len };

	if (b->err)
		return;
	if (strlen(tag) >= SNAP_TAG_LEN) {
		b->err = -ENAMETOOLONG;
		return;
	}
	if (b->len + need > b->cap) {
		size_t cap = MAX(b->cap * 2, b->len + need + 4096);
		uint8_t *n = realloc(b->data, cap);

		if (!n) {
			b->err = -ENOMEM;
			return;
		}
		b->data = n;
		b->cap = cap;
	}
	strncpy(h.tag, tag, SNAP_TAG_LEN - 1);
	memcpy(b->data + b->len, &h, sizeof(h));
	memcpy(b->data + b->len + sizeof(h), data, len);
	memset(b->data + b->len + sizeof(h) + len, 0, need - sizeof(h) - len);
	b->len += need;
}

void snapbuf_putf(struct snapbuf *b, const void *data, uint32_t len, const char *fmt, ...)
{
	char tag[SNAP_TAG_LEN + 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tag, sizeof(tag), fmt, ap);
	va_end(ap);
	snapbuf_put(b, tag, data, len);
}

void snapbuf_free(struct snapbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Walk the records; the framing was checked by snap_read. */
int snapreader_get(const struct snapreader *r, const char *tag, const void **data, uint32_t *len,
		   uint32_t want)
{
	size_t off = 0;

	while (off + sizeof(struct rec_hdr) <= r->len) {
		struct rec_hdr h;

		memcpy(&h, r->data + off, sizeof(h));
		if (!strncmp(h.tag, tag, SNAP_TAG_LEN)) {
			if (want && h.len != want)
				return -EINVAL;
			*data = r->data + off + sizeof(h);
			if (len)
				*len = h.len;
			return 0;
		}
		off += sizeof(h) + ALIGN_UP((size_t)h.len, 8);
	}
	return -ENOENT;
}

int snapreader_getf(const struct snapreader *r, const void **data, uint32_t *len, uint32_t want,
		    const char *fmt, ...)
{
	char tag[SNAP_TAG_LEN + 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tag, sizeof(tag), fmt, ap);
	va_end(ap);
	return snapreader_get(r, tag, data, len, want);
}

int snapreader_copy(const struct snapreader *r, const char *tag, void *dst, uint32_t len)
{
	const void *p;
	int ret = snapreader_get(r, tag, &p, NULL, len);

	if (!ret)
		memcpy(dst, p, len);
	return ret;
}

int snap_write(const char *path, struct snap_header *h, const struct snapbuf *b)
{
	uint8_t *all;
	int ret;

	if (b->err)
		return b->err;
	memcpy(h->magic, SNAP_MAGIC, 8);
	h->version = SNAP_VERSION;
	h->body_len = b->len;
	sha256_buf(b->data, b->len, h->body_sha256);
	all = malloc(sizeof(*h) + b->len);
	if (!all)
		return -ENOMEM;
	memcpy(all, h, sizeof(*h));
	memcpy(all + sizeof(*h), b->data, b->len);
	ret = write_file_atomic(AT_FDCWD, path, all, sizeof(*h) + b->len, 0600);
	free(all);
	return ret;
}

int snap_read(const char *path, const char *key, struct snap_header *h, uint8_t **body,
	      struct snapreader *r)
{
	uint8_t sum[32];
	char *data;
	size_t len, off = 0;
	int ret = read_file(AT_FDCWD, path, MAX_BODY + sizeof(*h), &data, &len);

	if (ret)
		return ret;
	ret = -EINVAL;
	if (len < sizeof(*h))
		goto bad;
	memcpy(h, data, sizeof(*h));
	if (memcmp(h->magic, SNAP_MAGIC, 8) || h->version != SNAP_VERSION ||
	    h->body_len != len - sizeof(*h) || h->key[SNAP_KEY_LEN] != '\0' ||
	    (key && strcmp(h->key, key)))
		goto bad;
	sha256_buf(data + sizeof(*h), h->body_len, sum);
	if (memcmp(sum, h->body_sha256, 32))
		goto bad;
	/* Check the framing once, so lookups can trust it. */
	while (off < h->body_len) {
		struct rec_hdr rh;

		if (h->body_len - off < sizeof(rh))
			goto bad;
		memcpy(&rh, data + sizeof(*h) + off, sizeof(rh));
		if (rh.len > h->body_len - off - sizeof(rh) || rh.tag[SNAP_TAG_LEN - 1])
			goto bad;
		off += sizeof(rh) + ALIGN_UP((size_t)rh.len, 8);
	}
	if (off != h->body_len)
		goto bad;
	*body = (uint8_t *)data;
	r->data = (uint8_t *)data + sizeof(*h);
	r->len = h->body_len;
	return 0;
bad:
	free(data);
	return ret;
}
