/*
 * qcow2 header parsing: every field is hostile. Refused here, naming the
 * feature: encryption, external data files, extended L2 entries, unknown
 * incompatible bits, unknown compression types, and for writing internal
 * snapshots and the corrupt bit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/disk/qcow2-internal.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"

/* Refuse the image: -EINVAL with the reason in the disk's error. */
#define EINVAL_MSG(...) return err_set(&s->disk.err, -EINVAL, __VA_ARGS__)

static const char *feature_name(const uint8_t *hc, size_t hc_len, uint64_t ft_off,
				uint64_t ft_len, uint8_t bit, char *buf, size_t len)
{
	/* Feature name table: 48-byte entries {u8 type (0 = incompatible), u8 bit, char name[46]}. */
	for (uint64_t o = ft_off; ft_off && o + 48 <= ft_off + ft_len && o + 48 <= hc_len; o += 48) {
		if (hc[o] == 0 && hc[o + 1] == bit) {
			snprintf(buf, len, "%.46s", (const char *)hc + o + 2);
			return buf;
		}
	}
	snprintf(buf, len, "unknown");
	return buf;
}

struct header_exts {
	uint64_t ft_off, ft_len;	/* feature name table */
	bool crypto, data_file;
};

static int parse_extensions(struct qcow2 *s, const uint8_t *hc, size_t hc_len, uint64_t start,
			    uint64_t end, struct header_exts *x)
{
	uint64_t off = start;

	while (off + 8 <= end) {
		uint32_t type = qcow2_get_be32(hc + off), len = qcow2_get_be32(hc + off + 4);

		if (type == QCOW2_EXT_END)
			break;
		if (len > end - off - 8)
			return err_set(&s->disk.err, -EINVAL, "%s: header extension %#x overflows the header", s->disk.path, type);
		off += 8;
		switch (type) {
		case QCOW2_EXT_BACKING_FORMAT:
			free(s->backing_fmt);
			s->backing_fmt = strndup((const char *)hc + off, MIN(len, 32));
			if (!s->backing_fmt)
				return -ENOMEM;
			break;
		case QCOW2_EXT_FEATURE_TABLE:
			x->ft_off = off;
			x->ft_len = len;
			break;
		case QCOW2_EXT_BITMAPS:
			if (len >= 24) {
				s->nb_bitmaps = qcow2_get_be32(hc + off);
				s->bitmaps_dir_size = qcow2_get_be64(hc + off + 8);
				s->bitmaps_dir_offset = qcow2_get_be64(hc + off + 16);
			}
			break;
		case QCOW2_EXT_CRYPTO:
			x->crypto = true;
			break;
		case QCOW2_EXT_DATA_FILE:
			x->data_file = true;
			break;
		default:
			break;	/* unknown extensions are kept as they are */
		}
		off += ALIGN_UP((uint64_t)len, 8);
	}
	return 0;
}

static int check_features(struct qcow2 *s, const uint8_t *hc, size_t hc_len,
			  const struct header_exts *x, uint32_t crypt, bool writing,
			  unsigned flags)
{
	static const uint64_t known = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT |
		QCOW2_INCOMPAT_COMPRESSION;
	const char *p = s->disk.path;
	char name[64];

	if (crypt || x->crypto)
		EINVAL_MSG("%s: encrypted qcow2 images are not supported", p);
	if (s->incompat & QCOW2_INCOMPAT_DATA_FILE || x->data_file)
		EINVAL_MSG("%s: qcow2 external data files are not supported", p);
	if (s->incompat & QCOW2_INCOMPAT_EXTL2)
		EINVAL_MSG("%s: qcow2 extended L2 entries (subclusters) are not supported", p);
	for (unsigned bit = 0; bit < 64; bit++) {
		if ((s->incompat & (1ULL << bit)) && !(known & (1ULL << bit)))
			EINVAL_MSG("%s: unsupported qcow2 incompatible feature bit %u (%s)", p, bit,
				   feature_name(hc, hc_len, x->ft_off, x->ft_len, bit, name, sizeof(name)));
	}
	if ((s->incompat & QCOW2_INCOMPAT_COMPRESSION) && s->compression_type == QCOW2_COMPRESS_ZLIB)
		EINVAL_MSG("%s: compression type bit set for the default (zlib) compression", p);
	if (s->compression_type != QCOW2_COMPRESS_ZLIB &&
	    (!(s->incompat & QCOW2_INCOMPAT_COMPRESSION) || s->compression_type != QCOW2_COMPRESS_ZSTD))
		EINVAL_MSG("%s: unsupported qcow2 compression type %u", p, s->compression_type);
	if (writing && s->nb_snapshots)
		EINVAL_MSG("%s: qcow2 internal snapshots are only supported read-only "
			   "(%u snapshots in the image)", p, s->nb_snapshots);
	if (writing && (s->incompat & QCOW2_INCOMPAT_CORRUPT) && !(flags & QCOW2_OPEN_CHECK))
		EINVAL_MSG("%s: image is marked corrupt; it can only be opened read-only "
			   "(try 'vmm disk check -r all')", p);
	return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

static int parse_header(struct qcow2 *s, const uint8_t *h, uint64_t file_size, uint32_t *crypt)
{
	const char *p = s->disk.path;
	uint64_t l2_cover, need;

	if (qcow2_get_be32(h + QH_MAGIC) != QCOW2_MAGIC)
		EINVAL_MSG("%s: not a qcow2 image (bad magic)", p);
	s->version = qcow2_get_be32(h + QH_VERSION);
	if (s->version != 2 && s->version != 3)
		EINVAL_MSG("%s: unsupported qcow2 version %u (2 and 3 are supported)", p, s->version);
	s->cluster_bits = qcow2_get_be32(h + QH_CLUSTER_BITS);
	if (s->cluster_bits < QCOW2_MIN_CLUSTER_BITS || s->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		EINVAL_MSG("%s: unsupported cluster size 2^%u (512 B to 2 MiB)", p, s->cluster_bits);
	s->cluster_size = 1ULL << s->cluster_bits;
	s->l2_bits = s->cluster_bits - 3;
	s->l2_entries = 1ULL << s->l2_bits;
	s->disk.size = qcow2_get_be64(h + QH_SIZE);
	*crypt = qcow2_get_be32(h + QH_CRYPT);
	s->l1_size = qcow2_get_be32(h + QH_L1_SIZE);
	s->l1_offset = qcow2_get_be64(h + QH_L1_OFFSET);
	s->reftable_offset = qcow2_get_be64(h + QH_REFTABLE_OFFSET);
	s->reftable_clusters = qcow2_get_be32(h + QH_REFTABLE_CLUSTERS);
	s->nb_snapshots = qcow2_get_be32(h + QH_NB_SNAPSHOTS);
	s->snapshots_offset = qcow2_get_be64(h + QH_SNAPSHOTS_OFFSET);
	if (s->version == 3) {
		s->incompat = qcow2_get_be64(h + QH_INCOMPAT);
		s->compat = qcow2_get_be64(h + QH_COMPAT);
		s->autoclear = qcow2_get_be64(h + QH_AUTOCLEAR);
		s->refcount_order = qcow2_get_be32(h + QH_REFCOUNT_ORDER);
		s->header_len = qcow2_get_be32(h + QH_HEADER_LEN);
		if (s->header_len < QCOW2_V3_HEADER_LEN || s->header_len > s->cluster_size ||
		    s->header_len % 8)
			EINVAL_MSG("%s: bad qcow2 header length %u", p, s->header_len);
		if (s->header_len > QH_COMPRESSION_TYPE)
			s->compression_type = h[QH_COMPRESSION_TYPE];
	} else {
		s->refcount_order = 4;
		s->header_len = QCOW2_V2_HEADER_LEN;
	}
	if (s->refcount_order > 6)
		EINVAL_MSG("%s: bad refcount order %u (refcounts up to 64 bits)", p, s->refcount_order);
	s->rb_bits = s->cluster_bits + 3 - s->refcount_order;
	s->refcount_max = s->refcount_order == 6 ? UINT64_MAX : (1ULL << (1u << s->refcount_order)) - 1;

	if (s->disk.size > QCOW2_MAX_VIRTUAL_SIZE)
		EINVAL_MSG("%s: virtual size %llu is too large", p, (unsigned long long)s->disk.size);
	l2_cover = s->cluster_bits + s->l2_bits;
	need = (s->disk.size + (1ULL << l2_cover) - 1) >> l2_cover;
	if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES)
		EINVAL_MSG("%s: L1 table too large (%u entries)", p, s->l1_size);
	if (s->l1_size < need)
		EINVAL_MSG("%s: L1 table too small (%u entries) for the virtual size", p, s->l1_size);
	if (s->l1_size && (!IS_ALIGNED(s->l1_offset, s->cluster_size) || !s->l1_offset ||
			   s->l1_offset > file_size || s->l1_size * 8ULL > file_size - s->l1_offset))
		EINVAL_MSG("%s: L1 table offset %#llx is unaligned or past the end of the file",
			   p, (unsigned long long)s->l1_offset);
	if (!s->reftable_clusters ||
	    (uint64_t)s->reftable_clusters * s->cluster_size > QCOW2_MAX_REFTABLE_BYTES)
		EINVAL_MSG("%s: bad refcount table size (%u clusters)", p, s->reftable_clusters);
	if (!IS_ALIGNED(s->reftable_offset, s->cluster_size) || !s->reftable_offset ||
	    s->reftable_offset > file_size)
		EINVAL_MSG("%s: refcount table offset %#llx is unaligned or past the end of the file",
			   p, (unsigned long long)s->reftable_offset);
	s->reftable_size = (uint64_t)s->reftable_clusters * s->cluster_size / 8;
	if (s->nb_snapshots > QCOW2_MAX_SNAPSHOTS ||
	    (s->nb_snapshots && (!IS_ALIGNED(s->snapshots_offset, s->cluster_size) ||
				 s->snapshots_offset >= file_size)))
		EINVAL_MSG("%s: bad snapshot table (%u snapshots at %#llx)", p, s->nb_snapshots,
			   (unsigned long long)s->snapshots_offset);
	if (ranges_overlap(0, s->cluster_size, s->l1_offset, s->l1_size * 8ULL) ||
	    ranges_overlap(0, s->cluster_size, s->reftable_offset, s->reftable_size * 8) ||
	    ranges_overlap(s->l1_offset, s->l1_size * 8ULL, s->reftable_offset, s->reftable_size * 8))
		EINVAL_MSG("%s: qcow2 header, L1 table and refcount table overlap", p);
	return 0;
}

static int read_backing_name(struct qcow2 *s, const uint8_t *h, const uint8_t *hc, size_t hc_len)
{
	uint64_t off = qcow2_get_be64(h + QH_BACKING_OFFSET);
	uint32_t len = qcow2_get_be32(h + QH_BACKING_SIZE);

	if (!off)
		return 0;
	if (len > QCOW2_MAX_BACKING_NAME)
		EINVAL_MSG("%s: backing file name too long (%u bytes, at most %d)", s->disk.path,
			   len, QCOW2_MAX_BACKING_NAME);
	if (off > hc_len || len > hc_len - off)
		EINVAL_MSG("%s: backing file name lies outside the header cluster", s->disk.path);
	if (memchr(hc + off, 0, len))
		EINVAL_MSG("%s: backing file name contains a NUL byte", s->disk.path);
	s->backing_name = strndup((const char *)hc + off, len);
	return s->backing_name ? 0 : -ENOMEM;
}

int qcow2_read_header(struct qcow2 *s, bool writing, unsigned flags)
{
	struct header_exts x = { 0 };
	uint8_t h[QCOW2_V3_HEADER_LEN + 8] = { 0 }, *hc;
	uint64_t boff;
	size_t hc_len;
	uint32_t crypt = 0;
	int ret;

	if (s->file_size < QCOW2_V2_HEADER_LEN)
		EINVAL_MSG("%s: file too small for a qcow2 header", s->disk.path);
	ret = pread_zero(s->fd, h, sizeof(h), 0);
	if (ret)
		return err_set(&s->disk.err, ret, "%s: reading the qcow2 header: %s", s->disk.path, strerror(-ret));
	ret = parse_header(s, h, s->file_size, &crypt);
	if (ret)
		return ret;
	/* Extensions and the backing name live in the first cluster. */
	hc_len = MIN(s->cluster_size, s->file_size);
	hc = malloc(hc_len);
	if (!hc)
		return -ENOMEM;
	ret = pread_zero(s->fd, hc, hc_len, 0);
	if (ret) {
		err_set(&s->disk.err, ret, "%s: reading the qcow2 header: %s", s->disk.path, strerror(-ret));
		goto out;
	}
	boff = qcow2_get_be64(h + QH_BACKING_OFFSET);
	ret = parse_extensions(s, hc, hc_len, s->header_len, boff && boff < hc_len ? boff : hc_len, &x);
	if (!ret)
		ret = read_backing_name(s, h, hc, hc_len);
	if (!ret)
		ret = check_features(s, hc, hc_len, &x, crypt, writing, flags);
out:
	free(hc);
	return ret;
}
