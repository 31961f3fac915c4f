/*
 * qcow2: open, close, flush ordering, the dirty and corrupt bits. The header
 * itself is parsed (and refused) in qcow2-header.c.
 *
 * Dirty bit (v3): set (and synced) when an image is opened for writing,
 * cleared on a clean close. An image opened for writing with the dirty bit
 * set was not closed cleanly: its refcounts are rebuilt (leaks freed,
 * refcount errors fixed) before use; if its tables are damaged beyond that,
 * the open is refused and `vmm disk check` shows what is wrong.
 *
 * Flush order (qcow2_flush_metadata): refcount blocks, fdatasync (data and
 * refcounts durable), refcount table, fdatasync, L2 tables, fdatasync, L1
 * table, fdatasync; then deferred frees are applied. A crash at any point
 * leaks clusters at worst: no table ever points at a cluster whose data or
 * refcount is not yet on disk, and no cluster is reused before the table
 * that referenced it has been rewritten on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/disk/qcow2-internal.h"
#include "images/disk/qcow2.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"


int qcow2_write_header_field(struct qcow2 *s, unsigned off, const void *val, size_t len)
{
	int ret = pwrite_full(s->fd, val, len, off);

	if (ret)
		err_set(&s->disk.err, ret, "%s: writing the header: %s", s->disk.path, strerror(-ret));
	return ret;
}

int qcow2_sync(struct qcow2 *s)
{
	if (s->disk.no_sync)
		return 0;
	if (fdatasync(s->fd) < 0)
		return err_set(&s->disk.err, -errno, "%s: fdatasync: %s", s->disk.path, strerror(errno));
	return 0;
}

void qcow2_signal_corruption(struct qcow2 *s, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!s->disk.read_only && !s->broken && s->version >= 3) {
		uint8_t v[8];

		s->incompat |= QCOW2_INCOMPAT_CORRUPT;
		qcow2_put_be64(v, s->incompat);
		if (qcow2_write_header_field(s, QH_INCOMPAT, v, 8) == 0)
			fdatasync(s->fd);
	}
	/* Last: what the failing call returns -EIO for. */
	err_set(&s->disk.err, -EIO, "%s: corrupt image: %s (run 'vmm disk check' on it)", s->disk.path, msg);
	s->broken = true;
}

int qcow2_meta_mark(struct qcow2 *s, uint64_t off, uint64_t len, bool set)
{
	uint64_t first = off >> s->cluster_bits, last;

	if (!len || !s->meta)
		return 0;
	last = (off + len - 1) >> s->cluster_bits;
	if (last >= s->meta_bits) {
		uint64_t bits = ALIGN_UP(MAX(last + 1, s->meta_bits * 2), 8);
		uint8_t *m = realloc(s->meta, bits / 8);

		if (!m)
			return -ENOMEM;
		memset(m + s->meta_bits / 8, 0, (bits - s->meta_bits) / 8);
		s->meta = m;
		s->meta_bits = bits;
	}
	for (uint64_t c = first; c <= last; c++) {
		if (set)
			s->meta[c / 8] |= 1 << (c % 8);
		else
			s->meta[c / 8] &= ~(1 << (c % 8));
	}
	return 0;
}

bool qcow2_meta_overlaps(struct qcow2 *s, uint64_t off, uint64_t len)
{
	uint64_t first = off >> s->cluster_bits, last;

	if (!len)
		return false;
	if (first == 0)
		return true;
	if (!s->meta)
		return false;
	last = MIN((off + len - 1) >> s->cluster_bits, s->meta_bits - 1);
	for (uint64_t c = first; c <= last; c++)
		if (s->meta[c / 8] & (1 << (c % 8)))
			return true;
	return false;
}

int qcow2_check_table_offset(struct qcow2 *s, uint64_t off, const char *what)
{
	uint64_t l1_end = s->l1_offset + (uint64_t)s->l1_size * 8;
	uint64_t rt_end = s->reftable_offset + (uint64_t)s->reftable_clusters * s->cluster_size;

	if (!IS_ALIGNED(off, s->cluster_size) || off < s->cluster_size ||
	    (off < l1_end && off + s->cluster_size > s->l1_offset) ||
	    (off < rt_end && off + s->cluster_size > s->reftable_offset) ||
	    off >= QCOW2_MAX_VIRTUAL_SIZE) {
		qcow2_signal_corruption(s, "%s at %#llx is unaligned or overlaps other metadata",
					what, (unsigned long long)off);
		return -EIO;
	}
	return 0;
}

static int write_l1_dirty(struct qcow2 *s)
{
	uint32_t lo = s->l1_dirty_lo, hi = s->l1_dirty_hi;
	uint64_t *buf;
	int ret;

	if (lo >= hi)
		return 0;
	buf = malloc((size_t)(hi - lo) * 8);
	if (!buf)
		return -ENOMEM;
	for (uint32_t i = lo; i < hi; i++)
		buf[i - lo] = htobe64(s->l1[i]);
	ret = pwrite_full(s->fd, buf, (size_t)(hi - lo) * 8, s->l1_offset + (uint64_t)lo * 8);
	free(buf);
	if (ret)
		return err_set(&s->disk.err, ret, "%s: writing the L1 table: %s", s->disk.path, strerror(-ret));
	s->l1_dirty_lo = s->l1_dirty_hi = 0;
	return 0;
}

/*
 * Write dirty metadata in crash-safe order (see the top of this file).
 * full=false stops after the L2 tables: what evicting an L2 table needs.
 */
int qcow2_flush_metadata(struct qcow2 *s, bool full)
{
	bool l2_dirty = s->l2_cache.nb_dirty > 0;
	bool rt_dirty = s->reftable_dirty_lo < s->reftable_dirty_hi;
	bool l1_dirty = s->l1_dirty_lo < s->l1_dirty_hi;
	int ret;

	if (s->broken)
		return -EIO;
	s->in_flush = true;
	ret = qcow2_cache_write_dirty(s, &s->rb_cache);
	if (!ret && (rt_dirty || l2_dirty || l1_dirty))
		ret = qcow2_sync(s);
	if (!ret && rt_dirty) {
		ret = qcow2_write_reftable_dirty(s);
		if (!ret && (l2_dirty || l1_dirty))
			ret = qcow2_sync(s);
	}
	if (!ret && l2_dirty)
		ret = qcow2_cache_write_dirty(s, &s->l2_cache);
	if (ret || !full)
		goto out;
	if (l1_dirty) {
		ret = qcow2_sync(s);
		if (!ret)
			ret = write_l1_dirty(s);
	}
	/* Clusters handed out but never written up to their end: make the file cover them. */
	if (!ret && s->file_size < s->alloc_end) {
		if (ftruncate(s->fd, s->alloc_end) < 0)
			ret = -errno;
		else
			s->file_size = s->alloc_end;
	}
	if (!ret)
		ret = qcow2_sync(s);
	if (!ret && s->nb_frees)
		ret = qcow2_apply_frees(s);
out:
	s->in_flush = false;
	return ret;
}

static int l2_evict(struct qcow2 *s, struct qcow2_cache *c)
{
	return qcow2_flush_metadata(s, false);
}

static int rb_evict(struct qcow2 *s, struct qcow2_cache *c)
{
	return qcow2_cache_write_dirty(s, c);
}

static int qcow2_flush(struct disk *d)
{
	return qcow2_flush_metadata(to_qcow2(d), true);
}

static int set_incompat(struct qcow2 *s, uint64_t v)
{
	uint8_t b[8];
	int ret;

	qcow2_put_be64(b, v);
	ret = qcow2_write_header_field(s, QH_INCOMPAT, b, 8);
	if (!ret)
		ret = qcow2_sync(s);
	if (!ret)
		s->incompat = v;
	return ret;
}

static void qcow2_free_state(struct qcow2 *s)
{
	disk_close(s->backing);
	qcow2_cache_destroy(&s->l2_cache);
	qcow2_cache_destroy(&s->rb_cache);
	qcow2_compress_free(s);
	if (s->fd >= 0)
		close(s->fd);
	free(s->l1);
	free(s->reftable);
	free(s->frees);
	free(s->meta);
	free(s->cow_head);
	free(s->cow_tail);
	free(s->backing_name);
	free(s->backing_fmt);
	free(s->disk.path);
	free(s);
}

static void qcow2_close(struct disk *d)
{
	struct qcow2 *s = to_qcow2(d);

	if (!d->read_only && !s->broken) {
		/* Twice: the second pass writes the refcounts the first one freed. */
		int ret = qcow2_flush_metadata(s, true);

		if (!ret)
			ret = qcow2_flush_metadata(s, true);
		if (!ret && (s->incompat & QCOW2_INCOMPAT_DIRTY))
			ret = set_incompat(s, s->incompat & ~QCOW2_INCOMPAT_DIRTY);
		if (ret)	/* nobody left to tell but the log: the next open repairs it */
			pr_warn("%s: not closed cleanly: %s", d->path, d->err.code ? d->err.msg : strerror(-ret));
	}
	qcow2_free_state(s);
}

const struct disk_ops qcow2_ops = {
	.read = qcow2_read,
	.write = qcow2_write,
	.flush = qcow2_flush,
	.discard = qcow2_discard,
	.write_zeroes = qcow2_write_zeroes,
	.block_status = qcow2_block_status,
	.close = qcow2_close,
};

/* Read an on-disk table of n big-endian u64 into host order. */
static int read_table(struct qcow2 *s, uint64_t off, uint64_t n, uint64_t **out, const char *what)
{
	uint64_t *t = malloc(MAX(n, 1) * 8);
	int ret;

	if (!t)
		return -ENOMEM;
	ret = pread_zero(s->fd, t, n * 8, off);
	if (ret) {
		free(t);
		return err_set(&s->disk.err, ret, "%s: reading the %s: %s", s->disk.path, what, strerror(-ret));
	}
	for (uint64_t i = 0; i < n; i++)
		t[i] = be64toh(t[i]);
	*out = t;
	return 0;
}

static int build_meta_map(struct qcow2 *s)
{
	int ret;

	s->meta_bits = 64;
	s->meta = calloc(1, s->meta_bits / 8);
	if (!s->meta)
		return -ENOMEM;
	ret = qcow2_meta_mark(s, 0, s->cluster_size, true);
	if (!ret)
		ret = qcow2_meta_mark(s, s->l1_offset, s->l1_size * 8ULL, true);
	if (!ret)
		ret = qcow2_meta_mark(s, s->reftable_offset, s->reftable_size * 8, true);
	for (uint32_t i = 0; i < s->l1_size && !ret; i++) {
		uint64_t off = s->l1[i] & QCOW2_OFFSET_MASK;

		if (off && off < s->file_size)	/* others are refused when loaded */
			ret = qcow2_meta_mark(s, off, s->cluster_size, true);
	}
	for (uint64_t i = 0; i < s->reftable_size && !ret; i++) {
		uint64_t off = s->reftable[i] & QCOW2_REFT_OFFSET_MASK;

		if (off)
			ret = qcow2_meta_mark(s, off, s->cluster_size, true);
	}
	return ret;
}

/* Refcount blocks must be sane before we allocate anything from them. */
static int check_reftable_entries(struct qcow2 *s)
{
	for (uint64_t i = 0; i < s->reftable_size; i++) {
		uint64_t e = s->reftable[i], off = e & QCOW2_REFT_OFFSET_MASK;

		if (!e)
			continue;
		if ((e & QCOW2_REFT_RESERVED) || !IS_ALIGNED(off, s->cluster_size) ||
		    off >= s->file_size || off >= QCOW2_MAX_VIRTUAL_SIZE)
			return err_set(&s->disk.err, -EINVAL, "%s: refcount block %llu at %#llx is invalid or past the end of the "
				       "file (try 'vmm disk check -r all')", s->disk.path,
				       (unsigned long long)i, (unsigned long long)e);
	}
	return 0;
}

static int open_backing(struct qcow2 *s, const struct disk_open_opts *opts, struct disk_chain *chain)
{
	enum disk_format fmt = DISK_FMT_AUTO;

	if (!s->backing_name || opts->no_backing)
		return 0;
	if (s->backing_fmt && disk_format_parse(s->backing_fmt, &fmt) < 0)
		return err_set(&s->disk.err, -EINVAL, "%s: unsupported backing file format '%s' (raw and "
			       "qcow2 are supported)", s->disk.path, s->backing_fmt);
	return disk_backing_open(s->disk.path, s->backing_name, fmt, opts, chain, &s->backing, &s->disk.err);
}

static int init_caches(struct qcow2 *s)
{
	uint64_t l2_max = MAX(16, (32ULL << 20) >> s->cluster_bits);
	uint64_t rb_max = MAX(8, (8ULL << 20) >> s->cluster_bits);
	uint64_t rb_need = ((s->disk.size >> s->cluster_bits) >> s->rb_bits) + 4;
	int ret;

	ret = qcow2_cache_init(&s->l2_cache, "L2", MIN(MAX(s->l1_size, 16), l2_max), l2_evict);
	if (!ret)
		ret = qcow2_cache_init(&s->rb_cache, "refcount", MIN(MAX(rb_need, 8), rb_max), rb_evict);
	if (ret)
		return ret;
	s->cow_head = malloc(s->cluster_size);
	s->cow_tail = malloc(s->cluster_size);
	return s->cow_head && s->cow_tail ? 0 : -ENOMEM;
}

int qcow2_open_flags(int fd, const char *path, const struct disk_open_opts *opts,
		     struct disk_chain *chain, unsigned flags, struct disk **out, struct error *e)
{
	bool writing = !opts->read_only;
	struct qcow2 *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return err_set(e, -ENOMEM, "%s: out of memory", path);
	}
	s->fd = fd;
	s->disk.ops = &qcow2_ops;
	s->disk.format = DISK_FMT_QCOW2;
	s->disk.read_only = opts->read_only;
	s->disk.path = strdup(path);
	if (!s->disk.path) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = disk_fd_size(fd, &s->file_size);
	if (ret) {
		err_set(&s->disk.err, ret, "%s: cannot get the size: %s", path, strerror(-ret));
		goto fail;
	}
	ret = qcow2_read_header(s, writing, flags);
	if (ret)
		goto fail;
	ret = read_table(s, s->l1_offset, s->l1_size, &s->l1, "L1 table");
	if (!ret)
		ret = read_table(s, s->reftable_offset, s->reftable_size, &s->reftable, "refcount table");
	if (!ret)
		ret = init_caches(s);
	if (ret)
		goto fail;
	s->alloc_end = s->file_size;
	s->free_hint = 1;
	if (writing && !(flags & QCOW2_OPEN_CHECK)) {
		ret = check_reftable_entries(s);
		if (!ret)
			ret = build_meta_map(s);
		if (ret)
			goto fail;
	}
	ret = open_backing(s, opts, chain);
	if (ret)
		goto fail;
	if (writing && s->autoclear) {
		/* We do not keep bitmaps up to date: invalidate them, as the spec asks. */
		uint8_t z[8] = { 0 };

		ret = qcow2_write_header_field(s, QH_AUTOCLEAR, z, 8);
		if (!ret)
			ret = qcow2_sync(s);
		if (ret)
			goto fail;
		s->autoclear = 0;
	}
	if (writing && !(flags & QCOW2_OPEN_CHECK) && (s->incompat & QCOW2_INCOMPAT_DIRTY)) {
		/* Not a failure: a note that this open takes longer, and why. */
		pr_warn("%s: image was not closed cleanly; repairing its refcounts", path);
		ret = qcow2_check_repair_dirty(s);
		if (ret)
			goto fail;
	}
	if (writing && !(flags & QCOW2_OPEN_CHECK) && s->version >= 3 &&
	    !(s->incompat & QCOW2_INCOMPAT_DIRTY)) {
		ret = set_incompat(s, s->incompat | QCOW2_INCOMPAT_DIRTY);
		if (ret)
			goto fail;
	}
	*out = &s->disk;
	return 0;
fail:
	if (s->disk.err.code)
		err_copy(e, &s->disk.err, ret);
	else
		err_sys(e, ret, "%s", path);
	s->disk.read_only = true;	/* nothing to flush */
	qcow2_free_state(s);
	return ret;
}

int qcow2_open_fd(int fd, const char *path, const struct disk_open_opts *opts,
		  struct disk_chain *chain, struct disk **out, struct error *e)
{
	return qcow2_open_flags(fd, path, opts, chain, 0, out, e);
}

struct disk *disk_backing(struct disk *d)
{
	return d->ops == &qcow2_ops ? to_qcow2(d)->backing : NULL;
}

bool disk_is_qcow2(struct disk *d)
{
	return d->ops == &qcow2_ops;
}

uint64_t qcow2_cluster_size(struct disk *d)
{
	return to_qcow2(d)->cluster_size;
}

void qcow2_get_info(struct disk *d, struct qcow2_info *info)
{
	struct qcow2 *s = to_qcow2(d);

	memset(info, 0, sizeof(*info));
	info->version = s->version;
	info->cluster_size = s->cluster_size;
	info->refcount_bits = 1u << s->refcount_order;
	info->dirty = s->incompat & QCOW2_INCOMPAT_DIRTY;
	info->corrupt = s->incompat & QCOW2_INCOMPAT_CORRUPT;
	info->lazy_refcounts = s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS;
	info->extended_l2 = s->incompat & QCOW2_INCOMPAT_EXTL2;
	info->compression = s->compression_type == QCOW2_COMPRESS_ZSTD ? "zstd" : "zlib";
	info->backing_file = s->backing_name;
	info->backing_fmt = s->backing_fmt;
	info->nb_snapshots = s->nb_snapshots;
	info->image_end = s->file_size;
}
