/*
 * Compressed qcow2 clusters. Reading: zlib raw deflate (as QEMU writes it) and
 * zstd (compression_type 1). Writing (vmm disk convert -c): zlib raw deflate
 * with a 4 KiB window like QEMU, packed byte by byte into host clusters whose
 * refcount counts the compressed clusters stored in them. A guest write to a
 * compressed cluster rewrites it uncompressed (qcow2-cluster.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "images/disk/qcow2-internal.h"
#include "images/disk/qcow2.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"

static int inflate_cluster(struct qcow2 *s, const uint8_t *in, size_t in_len)
{
	z_stream *z = s->zstream;
	int ret;

	if (!z) {
		z = calloc(1, sizeof(*z));
		if (!z)
			return -ENOMEM;
		if (inflateInit2(z, -15) != Z_OK) {
			free(z);
			return -ENOMEM;
		}
		s->zstream = z;
	} else if (inflateReset(z) != Z_OK) {
		return -EIO;
	}
	z->next_in = (Bytef *)in;
	z->avail_in = in_len;
	z->next_out = s->dbuf;
	z->avail_out = s->cluster_size;
	ret = inflate(z, Z_FINISH);
	/* The input is known to the sector only: trailing bytes are fine, a short output is not. */
	if ((ret == Z_STREAM_END || ret == Z_BUF_ERROR) && z->avail_out == 0)
		return 0;
	return -EIO;
}

static int zstd_cluster(struct qcow2 *s, const uint8_t *in, size_t in_len)
{
	ZSTD_inBuffer ib = { in, in_len, 0 };
	ZSTD_outBuffer ob = { s->dbuf, s->cluster_size, 0 };

	if (!s->zstd_dctx) {
		s->zstd_dctx = ZSTD_createDCtx();
		if (!s->zstd_dctx)
			return -ENOMEM;
	}
	ZSTD_DCtx_reset(s->zstd_dctx, ZSTD_reset_session_only);
	while (ob.pos < ob.size) {
		size_t r = ZSTD_decompressStream(s->zstd_dctx, &ob, &ib);

		if (ZSTD_isError(r))
			return -EIO;
		if (r == 0 || ib.pos == ib.size)
			break;
	}
	return ob.pos == ob.size ? 0 : -EIO;
}

int qcow2_read_compressed(struct qcow2 *s, uint64_t e, void *buf, size_t len, uint64_t in_off)
{
	uint64_t coff, clen;
	int ret;

	if (s->dcache_entry != e || !s->dbuf) {
		qcow2_compressed_range(s->cluster_bits, e, &coff, &clen);
		if (!s->dbuf)
			s->dbuf = malloc(s->cluster_size);
		if (!s->cbuf)
			s->cbuf = malloc(2 * s->cluster_size + 512);
		if (!s->dbuf || !s->cbuf)
			return -ENOMEM;
		if (coff + clen > QCOW2_MAX_VIRTUAL_SIZE || coff < s->cluster_size) {
			qcow2_signal_corruption(s, "compressed cluster at %#llx is out of range",
						(unsigned long long)coff);
			return -EIO;
		}
		ret = pread_zero(s->fd, s->cbuf, clen, coff);
		if (ret)
			return err_set(&s->disk.err, ret, "%s: read: %s", s->disk.path, strerror(-ret));
		s->dcache_entry = 0;
		if (s->compression_type == QCOW2_COMPRESS_ZSTD)
			ret = zstd_cluster(s, s->cbuf, clen);
		else
			ret = inflate_cluster(s, s->cbuf, clen);
		if (ret)
			return err_set(&s->disk.err, ret, "%s: cannot decompress the cluster at %#llx", s->disk.path,
				       (unsigned long long)coff);
		s->dcache_entry = e;
	}
	memcpy(buf, s->dbuf + in_off, len);
	return 0;
}

void qcow2_compress_free(struct qcow2 *s)
{
	if (s->zstream) {
		inflateEnd(s->zstream);
		free(s->zstream);
	}
	ZSTD_freeDCtx(s->zstd_dctx);
	free(s->dbuf);
	free(s->cbuf);
}

/* Raw deflate, 4 KiB window, as QEMU. Returns the compressed size, or 0 if it does not shrink. */
static size_t deflate_cluster(const void *in, size_t len, uint8_t *out, size_t out_len)
{
	z_stream z = { 0 };
	size_t n = 0;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	z.next_in = (Bytef *)in;
	z.avail_in = len;
	z.next_out = out;
	z.avail_out = out_len;
	if (deflate(&z, Z_FINISH) == Z_STREAM_END)
		n = out_len - z.avail_out;
	deflateEnd(&z);
	return n;
}

/* Bytes for one compressed cluster: in the current packing cluster if it fits. */
static int alloc_bytes(struct qcow2 *s, uint64_t len, uint64_t *off)
{
	int ret;

	if (s->comp_cluster && s->comp_used + len <= s->cluster_size) {
		ret = qcow2_refcount_update(s, s->comp_cluster >> s->cluster_bits, 1);
		if (ret == 0) {
			*off = s->comp_cluster + s->comp_used;
			s->comp_used += len;
			return 0;
		}
		if (ret != -ERANGE)
			return ret;
		/* Refcount full (e.g. 1-bit refcounts): start a new cluster. */
	}
	ret = qcow2_alloc_clusters_exact(s, 1, &s->comp_cluster);
	if (ret) {
		s->comp_cluster = 0;
		return ret;
	}
	s->comp_used = len;
	*off = s->comp_cluster;
	return 0;
}

int qcow2_write_compressed(struct disk *d, const void *buf, uint64_t cluster_index)
{
	struct qcow2 *s = to_qcow2(d);
	uint64_t off = cluster_index << s->cluster_bits, host, e, sectors;
	uint64_t l1_idx = cluster_index >> s->l2_bits, l2_idx = cluster_index & (s->l2_entries - 1);
	struct qcow2_cache_entry *t;
	size_t clen, len = s->cluster_size;
	int ret;

	if (d->read_only)
		return -EROFS;
	if (off >= d->size)
		return -EINVAL;
	if (off + len > d->size)	/* last partial cluster: compress it padded with zeros */
		len = d->size - off;
	if (!s->cbuf)
		s->cbuf = malloc(2 * s->cluster_size + 512);
	if (!s->dbuf)
		s->dbuf = malloc(s->cluster_size);
	if (!s->cbuf || !s->dbuf)
		return -ENOMEM;
	memcpy(s->dbuf, buf, len);
	memset(s->dbuf + len, 0, s->cluster_size - len);
	s->dcache_entry = 0;
	/* zlib only: an image of another compression type gets the cluster uncompressed. */
	clen = s->compression_type == QCOW2_COMPRESS_ZLIB ?
	       deflate_cluster(s->dbuf, s->cluster_size, s->cbuf, s->cluster_size - 1) : 0;
	if (!clen)
		return qcow2_write(d, buf, len, off);
	ret = qcow2_l2_load(s, l1_idx, true, &t);
	if (ret)
		return ret;
	e = be64toh(((uint64_t *)t->data)[l2_idx]);
	if (qcow2_l2_type(e) != QCOW2_CL_UNALLOCATED && qcow2_l2_type(e) != QCOW2_CL_ZERO_PLAIN)
		return err_set(&s->disk.err, -EINVAL, "%s: compressed write to an allocated cluster", d->path);
	ret = alloc_bytes(s, clen, &host);
	if (ret)
		return ret;
	ret = pwrite_full(s->fd, s->cbuf, clen, host);
	if (ret)
		return err_set(&s->disk.err, ret, "%s: write: %s", d->path, strerror(-ret));
	if (host + clen > s->file_size)
		s->file_size = host + clen;
	sectors = ((host + clen - 1) >> 9) - (host >> 9);
	e = host | (sectors << qcow2_csize_shift(s->cluster_bits)) | QCOW2_OFLAG_COMPRESSED;
	((uint64_t *)t->data)[l2_idx] = htobe64(e);
	qcow2_cache_mark_dirty(&s->l2_cache, t);
	return 0;
}
