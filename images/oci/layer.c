/* Streaming decompression (zlib, libzstd) into SHA-256 for diff_ids. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "images/oci/layer.h"
#include "vmm/base/util.h"

#define OUT_CHUNK	(128 * 1024)

struct diff_hasher {
	enum compression c;
	struct sha256 *hash;
	uint64_t usize;
	unsigned char *out;
	z_stream z;
	bool z_init, z_end;	/* z_end: a gzip member just ended */
	ZSTD_DStream *zs;
	size_t zs_hint;		/* last ZSTD_decompressStream result: 0 at a frame end */
	bool failed;
};

enum compression layer_sniff(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return COMPRESSION_GZIP;
	if (len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return COMPRESSION_ZSTD;
	return COMPRESSION_NONE;
}

const char *layer_media_type(enum compression c)
{
	switch (c) {
	case COMPRESSION_GZIP: return MT_OCI_LAYER_GZIP;
	case COMPRESSION_ZSTD: return MT_OCI_LAYER_ZSTD;
	default: return MT_OCI_LAYER;
	}
}

int diff_hasher_new(enum compression c, struct diff_hasher **out)
{
	struct diff_hasher *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->c = c;
	h->hash = sha256_new();
	if (!h->hash)
		goto nomem;
	if (c != COMPRESSION_NONE && !(h->out = malloc(OUT_CHUNK)))
		goto nomem;
	if (c == COMPRESSION_GZIP) {
		if (inflateInit2(&h->z, 16 + MAX_WBITS) != Z_OK)
			goto nomem;
		h->z_init = true;
	} else if (c == COMPRESSION_ZSTD) {
		h->zs = ZSTD_createDStream();
		if (!h->zs || ZSTD_isError(ZSTD_initDStream(h->zs)))
			goto nomem;
		h->zs_hint = 1;
	}
	*out = h;
	return 0;
nomem:
	diff_hasher_free(h);
	return -ENOMEM;
}

void diff_hasher_free(struct diff_hasher *h)
{
	if (!h)
		return;
	if (h->z_init)
		inflateEnd(&h->z);
	ZSTD_freeDStream(h->zs);
	sha256_free(h->hash);
	free(h->out);
	free(h);
}

static int gzip_update(struct diff_hasher *h, const unsigned char *data, size_t len)
{
	while (len) {
		int zr;

		if (h->z_end) {
			/* after a member: zero padding, or another gzip member */
			if (data[0] == 0) {
				data++;
				len--;
				continue;
			}
			if (inflateReset(&h->z) != Z_OK)
				return -EBADMSG;
			h->z_end = false;
		}
		h->z.next_in = (unsigned char *)data;
		h->z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
		do {
			h->z.next_out = h->out;
			h->z.avail_out = OUT_CHUNK;
			zr = inflate(&h->z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
				return -EBADMSG;
			sha256_update(h->hash, h->out, OUT_CHUNK - h->z.avail_out);
			h->usize += OUT_CHUNK - h->z.avail_out;
			if (zr == Z_STREAM_END) {
				h->z_end = true;
				break;
			}
		} while (h->z.avail_out == 0);
		{
			size_t used = (size_t)(h->z.next_in - data);

			data += used;
			len -= used;
		}
		if (!h->z_end && len && h->z.avail_in == 0)
			continue;
		if (!h->z_end && h->z.avail_in)
			return -EBADMSG;	/* no progress */
	}
	return 0;
}

static int zstd_update(struct diff_hasher *h, const void *data, size_t len)
{
	ZSTD_inBuffer in = { data, len, 0 };
	bool full = false;

	/* until the input is used up and the decoder holds no more output */
	while (in.pos < in.size || full) {
		ZSTD_outBuffer outb = { h->out, OUT_CHUNK, 0 };
		size_t before = in.pos;
		size_t r = ZSTD_decompressStream(h->zs, &outb, &in);

		if (ZSTD_isError(r))
			return -EBADMSG;
		sha256_update(h->hash, h->out, outb.pos);
		h->usize += outb.pos;
		full = outb.pos == outb.size;
		/* a call that did nothing after a frame's end would report the next frame's needs */
		if (in.pos != before || outb.pos)
			h->zs_hint = r;
	}
	return 0;
}

int diff_hasher_update(struct diff_hasher *h, const void *data, size_t len)
{
	int ret = 0;

	if (h->failed)
		return -EBADMSG;
	if (!len)
		return 0;
	switch (h->c) {
	case COMPRESSION_NONE:
		sha256_update(h->hash, data, len);
		h->usize += len;
		break;
	case COMPRESSION_GZIP:
		ret = gzip_update(h, data, len);
		break;
	case COMPRESSION_ZSTD:
		ret = zstd_update(h, data, len);
		break;
	}
	if (ret)
		h->failed = true;
	return ret;
}

int diff_hasher_final(struct diff_hasher *h, char diff_id[DIGEST_BUF], uint64_t *usize)
{
	if (h->failed)
		return -EBADMSG;
	if ((h->c == COMPRESSION_GZIP && !h->z_end) || (h->c == COMPRESSION_ZSTD && h->zs_hint != 0))
		return -EBADMSG;	/* truncated */
	sha256_final(h->hash, diff_id);
	if (usize)
		*usize = h->usize;
	return 0;
}

static int diff_piece(void *opaque, const void *buf, size_t len)
{
	return diff_hasher_update(opaque, buf, len);
}

int layer_diff_id(int fd, enum compression c, char diff_id[DIGEST_BUF])
{
	struct diff_hasher *h;
	int ret;

	if ((ret = diff_hasher_new(c, &h)))
		return ret;
	ret = pread_each(fd, diff_piece, h, NULL);
	if (!ret)
		ret = diff_hasher_final(h, diff_id, NULL);
	diff_hasher_free(h);
	return ret;
}
