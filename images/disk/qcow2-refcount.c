/*
 * qcow2 refcounts: the refcount table (in memory, written back by range) and
 * refcount blocks (through rb_cache), cluster allocation and deferred frees.
 *
 * Refcount blocks may be written at any time: an increment that reaches the
 * disk before the L2 entry using it is a leak at worst. Decrements are only
 * applied (qcow2_apply_frees) after the L2/L1 change that dropped the
 * reference is durable, so a freed cluster is never reused while an on-disk
 * table still points at it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/disk/qcow2-internal.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"

#define MAX_PENDING_FREES 4096

static uint64_t max_cluster(const struct qcow2 *s)
{
	return QCOW2_MAX_VIRTUAL_SIZE >> s->cluster_bits;
}

static bool is_meta(const struct qcow2 *s, uint64_t cluster)
{
	return s->meta && cluster < s->meta_bits && (s->meta[cluster / 8] & (1 << (cluster % 8)));
}

static int rb_load(struct qcow2 *s, uint64_t t, struct qcow2_cache_entry **e)
{
	uint64_t off = s->reftable[t] & QCOW2_REFT_OFFSET_MASK;

	return qcow2_cache_get(s, &s->rb_cache, off, false, e);
}

int qcow2_refcount_get(struct qcow2 *s, uint64_t cluster, uint64_t *rc)
{
	uint64_t t = cluster >> s->rb_bits;
	struct qcow2_cache_entry *e;
	int ret;

	*rc = 0;
	if (t >= s->reftable_size || !(s->reftable[t] & QCOW2_REFT_OFFSET_MASK))
		return 0;
	ret = rb_load(s, t, &e);
	if (ret)
		return ret;
	*rc = qcow2_rc_get(e->data, cluster & ((1ULL << s->rb_bits) - 1), s->refcount_order);
	return 0;
}

static void reftable_dirty(struct qcow2 *s, uint64_t t)
{
	if (s->reftable_dirty_lo >= s->reftable_dirty_hi) {
		s->reftable_dirty_lo = t;
		s->reftable_dirty_hi = t + 1;
		return;
	}
	s->reftable_dirty_lo = MIN(s->reftable_dirty_lo, t);
	s->reftable_dirty_hi = MAX(s->reftable_dirty_hi, t + 1);
}

int qcow2_write_reftable_dirty(struct qcow2 *s)
{
	uint64_t lo = s->reftable_dirty_lo, hi = s->reftable_dirty_hi;
	uint64_t *buf;
	int ret;

	if (lo >= hi)
		return 0;
	buf = malloc((hi - lo) * 8);
	if (!buf)
		return -ENOMEM;
	for (uint64_t i = lo; i < hi; i++)
		buf[i - lo] = htobe64(s->reftable[i]);
	ret = pwrite_full(s->fd, buf, (hi - lo) * 8, s->reftable_offset + lo * 8);
	free(buf);
	if (ret)
		return err_set(&s->disk.err, ret, "%s: writing the refcount table: %s", s->disk.path, strerror(-ret));
	s->reftable_dirty_lo = s->reftable_dirty_hi = 0;
	return 0;
}

static void note_alloc_end(struct qcow2 *s, uint64_t cluster_end)
{
	uint64_t end = cluster_end << s->cluster_bits;

	if (end > s->alloc_end)
		s->alloc_end = end;
}

/*
 * Grow the refcount table so that entry t exists. The new table goes right
 * after the area the old table covers, followed by the refcount blocks that
 * describe the new table and themselves; all of it is written and synced
 * before the header points at it, then the old table is freed.
 */
static int grow_reftable(struct qcow2 *s, uint64_t t)
{
	uint64_t per_cl = s->cluster_size / 8, E = 1ULL << s->rb_bits;
	uint64_t old_size = s->reftable_size, new_size, start, tab_cl, k;
	uint64_t *tab = NULL;
	uint8_t *blocks = NULL, hdr[12];
	int ret;

	new_size = ALIGN_UP(MAX(t + 1, old_size * 2), per_cl);
	start = old_size << s->rb_bits;
	for (;;) {
		if (new_size * 8 > QCOW2_MAX_REFTABLE_BYTES)
			return err_set(&s->disk.err, -EFBIG, "%s: image too large: refcount table would exceed %llu MiB",
				       s->disk.path, QCOW2_MAX_REFTABLE_BYTES >> 20);
		tab_cl = new_size / per_cl;
		k = 0;
		for (;;) {
			uint64_t last = start + tab_cl + k - 1;
			uint64_t n = (last >> s->rb_bits) - old_size + 1;

			if (n <= k)
				break;
			k = n;
		}
		if (old_size + k <= new_size)
			break;
		new_size = ALIGN_UP(old_size + k, per_cl);
	}
	if (start + tab_cl + k > max_cluster(s))
		return -EFBIG;
	tab = calloc(new_size, 8);
	blocks = calloc(k, s->cluster_size);
	if (!tab || !blocks) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < old_size; i++)
		tab[i] = htobe64(s->reftable[i]);
	for (uint64_t j = 0; j < k; j++)
		tab[old_size + j] = htobe64((start + tab_cl + j) << s->cluster_bits);
	for (uint64_t c = start; c < start + tab_cl + k; c++)
		qcow2_rc_set(blocks + ((c >> s->rb_bits) - old_size) * s->cluster_size,
			     c & (E - 1), s->refcount_order, 1);

	/* Blocks the new table references must be on disk before it is live. */
	ret = qcow2_cache_write_dirty(s, &s->rb_cache);
	if (!ret)
		ret = pwrite_full(s->fd, blocks, k * s->cluster_size,
				  (start + tab_cl) << s->cluster_bits);
	if (!ret)
		ret = pwrite_full(s->fd, tab, new_size * 8, start << s->cluster_bits);
	if (!ret)
		ret = qcow2_sync(s);
	if (ret) {
		err_set(&s->disk.err, ret, "%s: growing the refcount table: %s", s->disk.path, strerror(-ret));
		goto out;
	}
	qcow2_put_be64(hdr, start << s->cluster_bits);
	qcow2_put_be32(hdr + 8, tab_cl);
	ret = qcow2_write_header_field(s, QH_REFTABLE_OFFSET, hdr, sizeof(hdr));
	if (!ret)
		ret = qcow2_sync(s);
	if (ret)
		goto out;

	{
		uint64_t old_off = s->reftable_offset, old_cl = s->reftable_clusters;

		for (uint64_t i = 0; i < new_size; i++)
			tab[i] = be64toh(tab[i]);
		free(s->reftable);
		s->reftable = tab;
		tab = NULL;
		s->reftable_size = new_size;
		s->reftable_offset = start << s->cluster_bits;
		s->reftable_clusters = tab_cl;
		s->reftable_dirty_lo = s->reftable_dirty_hi = 0;
		note_alloc_end(s, start + tab_cl + k);
		if (s->alloc_end > s->file_size)
			s->file_size = s->alloc_end;
		qcow2_meta_mark(s, s->reftable_offset, (tab_cl + k) << s->cluster_bits, true);
		qcow2_meta_mark(s, old_off, old_cl << s->cluster_bits, false);
		/* The header no longer points at the old table: free it now. */
		for (uint64_t c = 0; c < old_cl && !ret; c++)
			ret = qcow2_refcount_update(s, (old_off >> s->cluster_bits) + c, -1);
	}
out:
	free(tab);
	free(blocks);
	return ret;
}

/* First cluster of range t that is free to hold the range's new refcount block. */
static int new_refcount_block(struct qcow2 *s, uint64_t t)
{
	uint64_t E = 1ULL << s->rb_bits, b = t << s->rb_bits;
	struct qcow2_cache_entry *e;
	int ret;

	while (b < (t + 1) * E && (b == 0 || is_meta(s, b)))
		b++;
	if (b >= (t + 1) * E || b >= max_cluster(s))
		return -EFBIG;
	ret = qcow2_cache_get(s, &s->rb_cache, b << s->cluster_bits, true, &e);
	if (ret)
		return ret;
	qcow2_rc_set(e->data, b & (E - 1), s->refcount_order, 1);
	qcow2_cache_mark_dirty(&s->rb_cache, e);
	s->reftable[t] = b << s->cluster_bits;
	reftable_dirty(s, t);
	qcow2_meta_mark(s, b << s->cluster_bits, s->cluster_size, true);
	note_alloc_end(s, b + 1);
	return 0;
}

/* Make sure range t has a refcount block; *created says whether one was made. */
static int ensure_block(struct qcow2 *s, uint64_t t, bool *created)
{
	int ret;

	*created = false;
	if (t >= s->reftable_size) {
		ret = grow_reftable(s, t);
		if (ret)
			return ret;
		*created = true;
	}
	if (s->reftable[t] & QCOW2_REFT_OFFSET_MASK)
		return 0;
	*created = true;
	return new_refcount_block(s, t);
}

int qcow2_refcount_update(struct qcow2 *s, uint64_t cluster, int64_t delta)
{
	uint64_t t = cluster >> s->rb_bits, idx, old, nv;
	struct qcow2_cache_entry *e;
	bool created;
	int ret;

	if (delta > 0) {
		ret = ensure_block(s, t, &created);
		if (ret)
			return ret;
	} else if (t >= s->reftable_size || !(s->reftable[t] & QCOW2_REFT_OFFSET_MASK)) {
		qcow2_signal_corruption(s, "freeing cluster %#llx which has no refcount block",
					(unsigned long long)cluster << s->cluster_bits);
		return -EIO;
	}
	ret = rb_load(s, t, &e);
	if (ret)
		return ret;
	idx = cluster & ((1ULL << s->rb_bits) - 1);
	old = qcow2_rc_get(e->data, idx, s->refcount_order);
	if (delta < 0 && old < (uint64_t)-delta) {
		qcow2_signal_corruption(s, "refcount of cluster %#llx would drop below zero",
					(unsigned long long)cluster << s->cluster_bits);
		return -EIO;
	}
	nv = old + delta;
	if (delta > 0 && (nv > s->refcount_max || nv < old))
		return err_set(&s->disk.err, -ERANGE, "%s: refcount overflow on cluster %#llx (%u-bit refcounts)", s->disk.path,
			       (unsigned long long)cluster << s->cluster_bits, 1u << s->refcount_order);
	qcow2_rc_set(e->data, idx, s->refcount_order, nv);
	qcow2_cache_mark_dirty(&s->rb_cache, e);
	if (nv == 0 && cluster < s->free_hint)
		s->free_hint = cluster;
	return 0;
}

/*
 * Find free clusters from the hint on: the first run of up to n (exact: of
 * exactly n). Metadata clusters and cluster 0 count as used whatever their
 * refcount says.
 */
static int find_free(struct qcow2 *s, uint64_t n, bool exact, uint64_t *start, uint64_t *len,
		     uint64_t *first_free)
{
	uint64_t E = 1ULL << s->rb_bits, c = MAX(s->free_hint, 1), run = 0, rs = 0;
	bool seen_free = false;
	int ret;

	while (c < max_cluster(s)) {
		uint64_t t = c >> s->rb_bits, end = (t + 1) * E;
		struct qcow2_cache_entry *e = NULL;

		if (t < s->reftable_size && (s->reftable[t] & QCOW2_REFT_OFFSET_MASK)) {
			ret = rb_load(s, t, &e);
			if (ret)
				return ret;
		}
		for (; c < end; c++) {
			bool used = is_meta(s, c) ||
				(e && qcow2_rc_get(e->data, c & (E - 1), s->refcount_order));

			if (used) {
				if (run && !exact)
					goto found;
				run = 0;
				continue;
			}
			if (!seen_free) {
				seen_free = true;
				*first_free = c;
			}
			if (!run)
				rs = c;
			if (++run == n)
				goto found;
		}
	}
	return err_set(&s->disk.err, -ENOSPC, "%s: no free cluster left in the image", s->disk.path);
found:
	*start = rs;
	*len = run;
	return 0;
}

static int alloc_run(struct qcow2 *s, uint64_t n, bool exact, uint64_t *off, uint64_t *got)
{
	uint64_t start = 0, len = 0, first_free = 0;
	int ret;

	for (int tries = 0;; tries++) {
		bool created = false;

		if (tries > 64)
			return err_set(&s->disk.err, -EIO, "%s: cannot allocate clusters", s->disk.path);
		ret = find_free(s, n, exact, &start, &len, &first_free);
		if (ret)
			return ret;
		/* Every range the run touches needs its refcount block first. */
		for (uint64_t t = start >> s->rb_bits; t <= (start + len - 1) >> s->rb_bits; t++) {
			ret = ensure_block(s, t, &created);
			if (ret)
				return ret;
			if (created)
				break;
		}
		if (!created)
			break;	/* the new block may sit inside the run: search again */
	}
	for (uint64_t c = start; c < start + len; c++) {
		ret = qcow2_refcount_update(s, c, 1);
		if (ret)
			return ret;
	}
	if (first_free == start)
		s->free_hint = start + len;
	note_alloc_end(s, start + len);
	*off = start << s->cluster_bits;
	*got = len;
	return 0;
}

int qcow2_alloc_clusters(struct qcow2 *s, uint64_t n, uint64_t *off, uint64_t *got)
{
	return alloc_run(s, n, false, off, got);
}

int qcow2_alloc_clusters_exact(struct qcow2 *s, uint64_t n, uint64_t *off)
{
	uint64_t got;

	return alloc_run(s, n, true, off, &got);
}

int qcow2_free_later(struct qcow2 *s, uint64_t cluster, uint64_t count)
{
	struct qcow2_free_range *f;

	if (s->nb_frees) {
		f = &s->frees[s->nb_frees - 1];
		if (f->cluster + f->count == cluster) {
			f->count += count;
			return 0;
		}
	}
	if (s->nb_frees == s->cap_frees) {
		size_t cap = s->cap_frees ? s->cap_frees * 2 : 64;

		f = realloc(s->frees, cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		s->frees = f;
		s->cap_frees = cap;
	}
	s->frees[s->nb_frees++] = (struct qcow2_free_range){ cluster, count };
	/* Bound the list: make the dropped references durable and free them. */
	if (s->nb_frees >= MAX_PENDING_FREES && !s->in_flush)
		return qcow2_flush_metadata(s, true);
	return 0;
}

int qcow2_free_l2_entry_later(struct qcow2 *s, uint64_t e)
{
	uint64_t off, len;

	switch (qcow2_l2_type(e)) {
	case QCOW2_CL_NORMAL:
	case QCOW2_CL_ZERO_ALLOC:
		return qcow2_free_later(s, (e & QCOW2_OFFSET_MASK) >> s->cluster_bits, 1);
	case QCOW2_CL_COMPRESSED:
		qcow2_compressed_range(s->cluster_bits, e, &off, &len);
		off &= ~511ULL;
		return qcow2_free_later(s, off >> s->cluster_bits,
					((off + len - 1) >> s->cluster_bits) - (off >> s->cluster_bits) + 1);
	default:
		return 0;
	}
}

static void punch(struct qcow2 *s, uint64_t cluster, uint64_t count)
{
	if (count)
		fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  cluster << s->cluster_bits, count << s->cluster_bits);
}

int qcow2_apply_frees(struct qcow2 *s)
{
	int ret = 0;

	for (size_t i = 0; i < s->nb_frees && !ret; i++) {
		struct qcow2_free_range *f = &s->frees[i];
		uint64_t hole = 0, hole_len = 0;

		for (uint64_t c = f->cluster; c < f->cluster + f->count; c++) {
			uint64_t rc;

			ret = qcow2_refcount_update(s, c, -1);
			if (!ret)
				ret = qcow2_refcount_get(s, c, &rc);
			if (ret)
				break;
			if (rc)
				continue;
			/* Give the space back to the host filesystem. */
			if (c == s->comp_cluster >> s->cluster_bits)
				s->comp_cluster = 0;
			if (hole_len && hole + hole_len == c) {
				hole_len++;
			} else {
				punch(s, hole, hole_len);
				hole = c;
				hole_len = 1;
			}
		}
		punch(s, hole, hole_len);
	}
	s->nb_frees = 0;
	s->dcache_entry = 0;
	return ret;
}
