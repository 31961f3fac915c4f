/*
 * qcow2 internals shared by the qcow2-*.c files (and the unit tests).
 * On-disk layout: https://gitlab.com/qemu-project/qemu/-/blob/master/docs/interop/qcow2.txt
 * All on-disk integers are big-endian; in memory (l1, reftable) host order.
 */
#ifndef VMM_IMAGES_DISK_QCOW2_INTERNAL_H
#define VMM_IMAGES_DISK_QCOW2_INTERNAL_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "images/disk/disk-internal.h"

#define QCOW2_MAGIC			0x514649fbU	/* "QFI\xfb" */
#define QCOW2_MIN_CLUSTER_BITS		9
#define QCOW2_MAX_CLUSTER_BITS		21
#define QCOW2_MAX_L1_BYTES		(32ULL << 20)	/* as QEMU */
#define QCOW2_MAX_REFTABLE_BYTES	(8ULL << 20)	/* as QEMU */
#define QCOW2_MAX_BACKING_NAME		1023
#define QCOW2_MAX_SNAPSHOTS		65536
#define QCOW2_MAX_VIRTUAL_SIZE		(1ULL << 56)	/* host offsets are 56 bits too */
#define QCOW2_V2_HEADER_LEN		72
#define QCOW2_V3_HEADER_LEN		104

/* Header field offsets. */
#define QH_MAGIC		0
#define QH_VERSION		4
#define QH_BACKING_OFFSET	8
#define QH_BACKING_SIZE		16
#define QH_CLUSTER_BITS		20
#define QH_SIZE			24
#define QH_CRYPT		32
#define QH_L1_SIZE		36
#define QH_L1_OFFSET		40
#define QH_REFTABLE_OFFSET	48
#define QH_REFTABLE_CLUSTERS	56
#define QH_NB_SNAPSHOTS		60
#define QH_SNAPSHOTS_OFFSET	64
#define QH_INCOMPAT		72
#define QH_COMPAT		80
#define QH_AUTOCLEAR		88
#define QH_REFCOUNT_ORDER	96
#define QH_HEADER_LEN		100
#define QH_COMPRESSION_TYPE	104

#define QCOW2_INCOMPAT_DIRTY		(1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT		(1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE	(1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION	(1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2		(1ULL << 4)
#define QCOW2_COMPAT_LAZY_REFCOUNTS	(1ULL << 0)
#define QCOW2_AUTOCLEAR_BITMAPS		(1ULL << 0)

#define QCOW2_COMPRESS_ZLIB	0
#define QCOW2_COMPRESS_ZSTD	1

#define QCOW2_EXT_END			0x00000000U
#define QCOW2_EXT_BACKING_FORMAT	0xe2792acaU
#define QCOW2_EXT_FEATURE_TABLE		0x6803f857U
#define QCOW2_EXT_BITMAPS		0x23852875U
#define QCOW2_EXT_CRYPTO		0x0537be77U
#define QCOW2_EXT_DATA_FILE		0x44415441U

#define QCOW2_OFLAG_COPIED	(1ULL << 63)
#define QCOW2_OFLAG_COMPRESSED	(1ULL << 62)
#define QCOW2_OFLAG_ZERO	(1ULL << 0)
#define QCOW2_OFFSET_MASK	0x00fffffffffffe00ULL	/* L1 / L2 / bitmap table entries */
#define QCOW2_L1E_RESERVED	0x7f000000000001ffULL
#define QCOW2_L2E_RESERVED	0x3f000000000001feULL
#define QCOW2_REFT_OFFSET_MASK	0xfffffffffffffe00ULL
#define QCOW2_REFT_RESERVED	0x00000000000001ffULL

enum qcow2_cluster_type {
	QCOW2_CL_UNALLOCATED,	/* read from the backing file, or zeros */
	QCOW2_CL_ZERO_PLAIN,	/* zero flag, no host cluster */
	QCOW2_CL_ZERO_ALLOC,	/* zero flag, host cluster kept */
	QCOW2_CL_NORMAL,
	QCOW2_CL_COMPRESSED,
};

/* A small write-back cache of cluster-sized tables (L2 tables, refcount blocks). */
struct qcow2_cache_entry {
	uint64_t offset;	/* host offset of the table; 0 = free slot */
	void *data;
	bool dirty;
	int32_t prev, next;	/* LRU list, most recent first */
	int32_t hnext;		/* hash chain */
};

struct qcow2;
struct qcow2_cache {
	const char *name;
	struct qcow2_cache_entry *e;
	uint32_t nb, used;
	int32_t *hash;
	uint32_t hmask;
	int32_t head, tail;
	uint32_t nb_dirty;
	/* Called before a dirty entry is evicted: must write it (and what it depends on). */
	int (*evict_dirty)(struct qcow2 *s, struct qcow2_cache *c);
};

/* Clusters whose reference was dropped; freed once the change is durable. */
struct qcow2_free_range {
	uint64_t cluster;	/* host cluster index */
	uint64_t count;
};

struct qcow2 {
	struct disk disk;
	int fd;
	struct disk *backing;

	uint32_t version;
	uint32_t cluster_bits;
	uint64_t cluster_size;
	uint32_t l2_bits;	/* log2(entries per L2 table) */
	uint64_t l2_entries;
	uint64_t file_size;	/* current end of the host file */
	uint64_t alloc_end;	/* end of the highest cluster handed out */

	uint64_t l1_offset;
	uint32_t l1_size;
	uint64_t *l1;		/* host order */
	uint32_t l1_dirty_lo, l1_dirty_hi;	/* dirty L1 entries [lo, hi) */

	uint64_t reftable_offset;
	uint32_t reftable_clusters;
	uint64_t reftable_size;	/* entries */
	uint64_t *reftable;
	uint64_t reftable_dirty_lo, reftable_dirty_hi;
	uint32_t refcount_order;
	uint32_t rb_bits;	/* log2(refcount entries per block) */
	uint64_t refcount_max;

	uint64_t incompat, compat, autoclear;
	uint32_t header_len;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	uint8_t compression_type;
	char *backing_name;
	char *backing_fmt;
	uint64_t bitmaps_dir_offset;
	uint64_t bitmaps_dir_size;
	uint32_t nb_bitmaps;

	struct qcow2_cache l2_cache;
	struct qcow2_cache rb_cache;
	uint64_t free_hint;	/* no free cluster below this index */

	struct qcow2_free_range *frees;
	size_t nb_frees, cap_frees;

	/* Metadata clusters (write mode): data must never land there. */
	uint8_t *meta;
	uint64_t meta_bits;

	/* Compressed clusters: last one decompressed, buffers, streams. */
	uint64_t dcache_entry;	/* L2 entry whose data is in dbuf; 0 = none */
	uint8_t *dbuf, *cbuf;
	void *zstream, *zstd_dctx;
	uint64_t comp_cluster;	/* host offset of the cluster being packed (writes) */
	uint64_t comp_used;

	uint8_t *cow_head, *cow_tail;	/* cluster-sized scratch buffers */
	bool broken;		/* corruption seen: no more writes */
	bool no_falloc;		/* fallocate() unsupported here */
	bool in_flush;
};

static inline uint64_t qcow2_get_be64(const void *p) { uint64_t v; memcpy(&v, p, 8); return be64toh(v); }
static inline uint32_t qcow2_get_be32(const void *p) { uint32_t v; memcpy(&v, p, 4); return be32toh(v); }
static inline uint16_t qcow2_get_be16(const void *p) { uint16_t v; memcpy(&v, p, 2); return be16toh(v); }
static inline void qcow2_put_be64(void *p, uint64_t v) { v = htobe64(v); memcpy(p, &v, 8); }
static inline void qcow2_put_be32(void *p, uint32_t v) { v = htobe32(v); memcpy(p, &v, 4); }
static inline void qcow2_put_be16(void *p, uint16_t v) { v = htobe16(v); memcpy(p, &v, 2); }

static inline enum qcow2_cluster_type qcow2_l2_type(uint64_t e)
{
	if (e & QCOW2_OFLAG_COMPRESSED)
		return QCOW2_CL_COMPRESSED;
	if (e & QCOW2_OFLAG_ZERO)
		return (e & QCOW2_OFFSET_MASK) ? QCOW2_CL_ZERO_ALLOC : QCOW2_CL_ZERO_PLAIN;
	return (e & QCOW2_OFFSET_MASK) ? QCOW2_CL_NORMAL : QCOW2_CL_UNALLOCATED;
}

/* Compressed cluster descriptor: host byte offset and bytes to read. */
static inline uint32_t qcow2_csize_shift(uint32_t cluster_bits) { return 62 - (cluster_bits - 8); }

static inline void qcow2_compressed_range(uint32_t cluster_bits, uint64_t e,
					  uint64_t *off, uint64_t *len)
{
	uint32_t shift = qcow2_csize_shift(cluster_bits);
	uint64_t mask = (1ULL << (cluster_bits - 8)) - 1;
	uint64_t sectors = ((e >> shift) & mask) + 1;

	*off = e & ((1ULL << shift) - 1);
	*len = sectors * 512 - (*off & 511);
}

/* Refcount entry i of a refcount block with 2^order-bit entries. */
static inline uint64_t qcow2_rc_get(const void *blk, uint64_t i, uint32_t order)
{
	const uint8_t *b = blk;

	switch (order) {
	case 0: return (b[i / 8] >> (i % 8)) & 1;
	case 1: return (b[i / 4] >> (2 * (i % 4))) & 3;
	case 2: return (b[i / 2] >> (4 * (i % 2))) & 15;
	case 3: return b[i];
	case 4: return qcow2_get_be16(b + 2 * i);
	case 5: return qcow2_get_be32(b + 4 * i);
	default: return qcow2_get_be64(b + 8 * i);
	}
}

static inline void qcow2_rc_set(void *blk, uint64_t i, uint32_t order, uint64_t v)
{
	uint8_t *b = blk;

	switch (order) {
	case 0: b[i / 8] = (b[i / 8] & ~(1 << (i % 8))) | (v << (i % 8)); break;
	case 1: b[i / 4] = (b[i / 4] & ~(3 << (2 * (i % 4)))) | (v << (2 * (i % 4))); break;
	case 2: b[i / 2] = (b[i / 2] & ~(15 << (4 * (i % 2)))) | (v << (4 * (i % 2))); break;
	case 3: b[i] = v; break;
	case 4: qcow2_put_be16(b + 2 * i, v); break;
	case 5: qcow2_put_be32(b + 4 * i, v); break;
	default: qcow2_put_be64(b + 8 * i, v); break;
	}
}

static inline struct qcow2 *to_qcow2(struct disk *d) { return (struct qcow2 *)d; }
static inline uint64_t qcow2_offset_to_cluster(const struct qcow2 *s, uint64_t off)
{
	return off >> s->cluster_bits;
}

/* qcow2-header.c: read and validate the header, extensions and backing name into s. */
int qcow2_read_header(struct qcow2 *s, bool writing, unsigned flags);

/* qcow2.c */
int qcow2_write_header_field(struct qcow2 *s, unsigned off, const void *val, size_t len);
void qcow2_signal_corruption(struct qcow2 *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int qcow2_sync(struct qcow2 *s);
int qcow2_flush_metadata(struct qcow2 *s, bool full);
bool qcow2_meta_overlaps(struct qcow2 *s, uint64_t off, uint64_t len);
int qcow2_meta_mark(struct qcow2 *s, uint64_t off, uint64_t len, bool set);
/* Are [off, off+len) cluster-aligned and clear of the header, L1 and refcount table? */
int qcow2_check_table_offset(struct qcow2 *s, uint64_t off, const char *what);

#define QCOW2_OPEN_CHECK	1	/* vmm disk check: no dirty-bit repair, corrupt images writable */
int qcow2_open_flags(int fd, const char *path, const struct disk_open_opts *opts,
		     struct disk_chain *chain, unsigned flags, struct disk **out, struct error *e);

/* qcow2-check.c: rebuild refcounts of an image opened for writing with the dirty bit. */
int qcow2_check_repair_dirty(struct qcow2 *s);

/* qcow2-cache.c */
int qcow2_cache_init(struct qcow2_cache *c, const char *name, uint32_t nb,
		     int (*evict_dirty)(struct qcow2 *, struct qcow2_cache *));
void qcow2_cache_destroy(struct qcow2_cache *c);
/* Table at host offset off; read from disk unless fresh (then zero-filled). */
int qcow2_cache_get(struct qcow2 *s, struct qcow2_cache *c, uint64_t off, bool fresh,
		    struct qcow2_cache_entry **out);
void qcow2_cache_mark_dirty(struct qcow2_cache *c, struct qcow2_cache_entry *e);
int qcow2_cache_write_dirty(struct qcow2 *s, struct qcow2_cache *c);
void qcow2_cache_drop(struct qcow2_cache *c, uint64_t off);
void qcow2_cache_drop_all(struct qcow2_cache *c);

/* qcow2-refcount.c */
int qcow2_refcount_get(struct qcow2 *s, uint64_t cluster, uint64_t *rc);
int qcow2_refcount_update(struct qcow2 *s, uint64_t cluster, int64_t delta);
/* Allocate up to n (>=1) contiguous clusters with refcount 1; *got says how many. */
int qcow2_alloc_clusters(struct qcow2 *s, uint64_t n, uint64_t *off, uint64_t *got);
/* Allocate exactly n contiguous clusters. */
int qcow2_alloc_clusters_exact(struct qcow2 *s, uint64_t n, uint64_t *off);
int qcow2_free_later(struct qcow2 *s, uint64_t cluster, uint64_t count);
/* Drop the reference that L2 entry e held (after the L2 change is durable). */
int qcow2_free_l2_entry_later(struct qcow2 *s, uint64_t e);
int qcow2_apply_frees(struct qcow2 *s);
int qcow2_write_reftable_dirty(struct qcow2 *s);

/* qcow2-cluster.c */
int qcow2_l2_load(struct qcow2 *s, uint64_t l1_idx, bool alloc, struct qcow2_cache_entry **out);
extern const struct disk_ops qcow2_ops;
int qcow2_read(struct disk *d, void *buf, size_t len, uint64_t off);
int qcow2_write(struct disk *d, const void *buf, size_t len, uint64_t off);
int qcow2_discard(struct disk *d, uint64_t off, uint64_t len);
int qcow2_write_zeroes(struct disk *d, uint64_t off, uint64_t len, bool may_unmap);
int qcow2_block_status(struct disk *d, uint64_t off, uint64_t len, uint64_t *pnum,
		       enum disk_status *status);

/* qcow2-compress.c */
int qcow2_read_compressed(struct qcow2 *s, uint64_t e, void *buf, size_t len, uint64_t in_off);
void qcow2_compress_free(struct qcow2 *s);

#endif
