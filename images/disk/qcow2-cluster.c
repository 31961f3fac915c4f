/*
 * qcow2 guest I/O: L1/L2 lookup, reads (backing, zero, normal, compressed),
 * allocating writes with copy-on-write, discard, write-zeroes, block status.
 *
 * An allocating write takes a run of contiguous host clusters, writes the
 * guest data together with the copied-on-write head and tail in one
 * pwritev, bumps the refcounts, then points the L2 entries at the new
 * clusters; the old clusters are freed only after the new L2 entries are on
 * disk (qcow2_flush_metadata). Writes into clusters we own (OFLAG_COPIED)
 * go in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "images/disk/qcow2-internal.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"

static uint64_t l2e(const struct qcow2_cache_entry *t, uint64_t i)
{
	return t ? be64toh(((const uint64_t *)t->data)[i]) : 0;
}

static void l2e_set(struct qcow2_cache_entry *t, uint64_t i, uint64_t v)
{
	((uint64_t *)t->data)[i] = htobe64(v);
}

static void l1_dirty(struct qcow2 *s, uint64_t i)
{
	if (s->l1_dirty_lo >= s->l1_dirty_hi) {
		s->l1_dirty_lo = i;
		s->l1_dirty_hi = i + 1;
	} else {
		s->l1_dirty_lo = MIN(s->l1_dirty_lo, i);
		s->l1_dirty_hi = MAX(s->l1_dirty_hi, i + 1);
	}
}

int qcow2_l2_load(struct qcow2 *s, uint64_t l1_idx, bool alloc, struct qcow2_cache_entry **out)
{
	uint64_t e = s->l1[l1_idx], off = e & QCOW2_OFFSET_MASK, rc;
	int ret;

	*out = NULL;
	if (e & QCOW2_L1E_RESERVED) {
		qcow2_signal_corruption(s, "L1 entry %llu has reserved bits set",
					(unsigned long long)l1_idx);
		return -EIO;
	}
	if (!off) {
		if (!alloc)
			return 0;
		ret = qcow2_alloc_clusters_exact(s, 1, &off);
		if (!ret)
			ret = qcow2_meta_mark(s, off, s->cluster_size, true);
		if (!ret)
			ret = qcow2_cache_get(s, &s->l2_cache, off, true, out);
		if (ret)
			return ret;
		qcow2_cache_mark_dirty(&s->l2_cache, *out);
		s->l1[l1_idx] = off | QCOW2_OFLAG_COPIED;
		l1_dirty(s, l1_idx);
		return 0;
	}
	ret = qcow2_check_table_offset(s, off, "L2 table");
	if (ret)
		return ret;
	if (off >= MAX(s->file_size, s->alloc_end)) {
		qcow2_signal_corruption(s, "L2 table at %#llx is past the end of the file",
					(unsigned long long)off);
		return -EIO;
	}
	ret = qcow2_cache_get(s, &s->l2_cache, off, false, out);
	if (ret || !alloc || (e & QCOW2_OFLAG_COPIED))
		return ret;
	/* Writable only if we are its sole user; fix a missing COPIED flag. */
	ret = qcow2_refcount_get(s, off >> s->cluster_bits, &rc);
	if (ret)
		return ret;
	if (rc != 1) {
		qcow2_signal_corruption(s, "L2 table at %#llx is shared (refcount %llu)",
					(unsigned long long)off, (unsigned long long)rc);
		return -EIO;
	}
	s->l1[l1_idx] |= QCOW2_OFLAG_COPIED;
	l1_dirty(s, l1_idx);
	return 0;
}

static int read_backing(struct qcow2 *s, void *buf, size_t len, uint64_t off)
{
	uint64_t n;
	int ret;

	if (!s->backing || off >= s->backing->size) {
		memset(buf, 0, len);
		return 1;
	}
	n = MIN(len, s->backing->size - off);
	ret = disk_read(s->backing, buf, n, off);
	if (ret)
		return err_copy(&s->disk.err, &s->backing->err, ret);
	memset((char *)buf + n, 0, len - n);
	return 0;
}

static int check_host_cluster(struct qcow2 *s, uint64_t e, uint64_t n)
{
	uint64_t host = e & QCOW2_OFFSET_MASK;

	if (!IS_ALIGNED(host, s->cluster_size) || host + n * s->cluster_size > QCOW2_MAX_VIRTUAL_SIZE) {
		qcow2_signal_corruption(s, "data cluster offset %#llx is unaligned",
					(unsigned long long)host);
		return -EIO;
	}
	/* A cluster may end past the end of the file (never written up to its end), not start there. */
	if (host + (n - 1) * s->cluster_size >= MAX(s->file_size, s->alloc_end)) {
		qcow2_signal_corruption(s, "data cluster offset %#llx is past the end of the file",
					(unsigned long long)host);
		return -EIO;
	}
	return 0;
}

/*
 * Read len bytes at guest offset off, all inside the guest cluster described
 * by L2 entry e. Returns 1 when the result is known to be zeros, 0, or -errno.
 */
static int read_in_cluster(struct qcow2 *s, uint64_t e, void *buf, size_t len, uint64_t off)
{
	uint64_t in = off & (s->cluster_size - 1);
	int ret;

	switch (qcow2_l2_type(e)) {
	case QCOW2_CL_UNALLOCATED:
		return read_backing(s, buf, len, off);
	case QCOW2_CL_ZERO_PLAIN:
	case QCOW2_CL_ZERO_ALLOC:
		memset(buf, 0, len);
		return 1;
	case QCOW2_CL_COMPRESSED:
		return qcow2_read_compressed(s, e, buf, len, in);
	default:
		ret = check_host_cluster(s, e, 1);
		if (ret)
			return ret;
		ret = pread_zero(s->fd, buf, len, (e & QCOW2_OFFSET_MASK) + in);
		if (ret)
			err_set(&s->disk.err, ret, "%s: read: %s", s->disk.path, strerror(-ret));
		return ret;
	}
}

static bool same_class(enum qcow2_cluster_type a, enum qcow2_cluster_type b)
{
	if (a == QCOW2_CL_ZERO_ALLOC)
		a = QCOW2_CL_ZERO_PLAIN;
	if (b == QCOW2_CL_ZERO_ALLOC)
		b = QCOW2_CL_ZERO_PLAIN;
	return a == b;
}

/* How many clusters from index i of table t read the same way as the first (max n). */
static uint64_t run_length(struct qcow2 *s, struct qcow2_cache_entry *t, uint64_t i, uint64_t n)
{
	uint64_t e = l2e(t, i), k = 1;
	enum qcow2_cluster_type type = qcow2_l2_type(e);

	if (type == QCOW2_CL_COMPRESSED)
		return 1;
	for (; k < n; k++) {
		uint64_t e2 = l2e(t, i + k);
		enum qcow2_cluster_type t2 = qcow2_l2_type(e2);

		if (type == QCOW2_CL_NORMAL) {
			if (t2 != QCOW2_CL_NORMAL ||
			    (e2 & QCOW2_OFFSET_MASK) != (e & QCOW2_OFFSET_MASK) + k * s->cluster_size)
				break;
		} else if (!same_class(type, t2)) {
			break;
		}
	}
	return k;
}

/* Split a request at L2-table boundaries: index and max clusters in this table. */
static void locate(struct qcow2 *s, uint64_t off, uint64_t len, uint64_t *l1_idx,
		   uint64_t *l2_idx, uint64_t *nmax)
{
	uint64_t cl = off >> s->cluster_bits, in = off & (s->cluster_size - 1);
	uint64_t ncl = (in + len + s->cluster_size - 1) >> s->cluster_bits;

	*l1_idx = cl >> s->l2_bits;
	*l2_idx = cl & (s->l2_entries - 1);
	*nmax = MIN(ncl, s->l2_entries - *l2_idx);
}

int qcow2_read(struct disk *d, void *buf, size_t len, uint64_t off)
{
	struct qcow2 *s = to_qcow2(d);
	char *p = buf;

	while (len) {
		struct qcow2_cache_entry *t;
		uint64_t l1_idx, l2_idx, nmax, n, e, bytes, in = off & (s->cluster_size - 1);
		int ret;

		locate(s, off, len, &l1_idx, &l2_idx, &nmax);
		ret = qcow2_l2_load(s, l1_idx, false, &t);
		if (ret)
			return ret;
		e = l2e(t, l2_idx);
		n = t ? run_length(s, t, l2_idx, nmax) : nmax;
		bytes = MIN(len, n * s->cluster_size - in);
		switch (qcow2_l2_type(e)) {
		case QCOW2_CL_NORMAL:
			ret = check_host_cluster(s, e, n);
			if (!ret)
				ret = pread_zero(s->fd, p, bytes, (e & QCOW2_OFFSET_MASK) + in);
			if (ret > 0)
				ret = 0;
			else if (ret && ret != -EIO)
				err_set(&d->err, ret, "%s: read: %s", d->path, strerror(-ret));
			break;
		case QCOW2_CL_UNALLOCATED:
			ret = read_backing(s, p, bytes, off);
			break;
		default:
			ret = read_in_cluster(s, e, p, bytes, off);
			break;
		}
		if (ret < 0)
			return ret;
		p += bytes;
		off += bytes;
		len -= bytes;
	}
	return 0;
}

static int pwritev_full(int fd, struct iovec *iov, int cnt, uint64_t off)
{
	while (cnt) {
		ssize_t n = pwritev(fd, iov, cnt, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += n;
		while (cnt && (size_t)n >= iov->iov_len) {
			n -= iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= n;
		}
	}
	return 0;
}

static bool in_place(uint64_t e)
{
	return qcow2_l2_type(e) == QCOW2_CL_NORMAL && (e & QCOW2_OFLAG_COPIED);
}

static void note_written(struct qcow2 *s, uint64_t end)
{
	if (end > s->file_size)
		s->file_size = end;
}

static int write_in_place(struct qcow2 *s, struct qcow2_cache_entry *t, uint64_t l2_idx,
			  uint64_t nmax, const void *buf, uint64_t len, uint64_t off, uint64_t *done)
{
	uint64_t e = l2e(t, l2_idx), in = off & (s->cluster_size - 1), n = 1, host, bytes;
	int ret;

	while (n < nmax && in_place(l2e(t, l2_idx + n)) &&
	       (l2e(t, l2_idx + n) & QCOW2_OFFSET_MASK) == (e & QCOW2_OFFSET_MASK) + n * s->cluster_size)
		n++;
	ret = check_host_cluster(s, e, n);
	if (ret)
		return ret;
	host = (e & QCOW2_OFFSET_MASK) + in;
	bytes = MIN(len, n * s->cluster_size - in);
	if (qcow2_meta_overlaps(s, host, bytes)) {
		qcow2_signal_corruption(s, "data cluster %#llx overlaps metadata",
					(unsigned long long)(e & QCOW2_OFFSET_MASK));
		return -EIO;
	}
	ret = pwrite_full(s->fd, buf, bytes, host);
	if (ret)
		return err_set(&s->disk.err, ret, "%s: write: %s", s->disk.path, strerror(-ret));
	note_written(s, host + bytes);
	*done = bytes;
	return 0;
}

static int write_alloc(struct qcow2 *s, struct qcow2_cache_entry *t, uint64_t l2_idx,
		       uint64_t nmax, const void *buf, uint64_t len, uint64_t off, uint64_t *done)
{
	uint64_t cs = s->cluster_size, in = off & (cs - 1), n = 1, host, got, bytes, end, tail;
	uint64_t old[64];
	struct iovec iov[3];
	bool fresh;
	int cnt = 0, ret, zh = 0, zt = 0;

	nmax = MIN(nmax, ARRAY_SIZE(old));
	while (n < nmax && !in_place(l2e(t, l2_idx + n)))
		n++;
	ret = qcow2_alloc_clusters(s, n, &host, &got);
	if (ret)
		return ret;
	n = got;
	bytes = MIN(len, n * cs - in);
	end = in + bytes;
	tail = n * cs - end;
	if (qcow2_meta_overlaps(s, host, n * cs)) {
		qcow2_signal_corruption(s, "allocated cluster %#llx is metadata (bad refcounts)",
					(unsigned long long)host);
		return -EIO;
	}
	fresh = host >= s->file_size;
	if (in) {
		zh = read_in_cluster(s, l2e(t, l2_idx), s->cow_head, in, off - in);
		if (zh < 0)
			return zh;
	}
	if (tail) {
		zt = read_in_cluster(s, l2e(t, l2_idx + n - 1), s->cow_tail, tail,
				     off - in + end);
		if (zt < 0)
			return zt;
	}
	/* A cluster past the end of the file reads as zeros already: skip zero COW. */
	if (in && !(fresh && zh == 1))
		iov[cnt++] = (struct iovec){ s->cow_head, in };
	iov[cnt++] = (struct iovec){ (void *)buf, bytes };
	if (tail && !(fresh && zt == 1))
		iov[cnt++] = (struct iovec){ s->cow_tail, tail };
	/*
	 * Zero COW skipped on a fresh cluster: reserve the whole cluster in one
	 * extent now, so that later writes into it do not fragment the file.
	 */
	if (fresh && ((in && zh == 1) || (tail && zt == 1)) && !s->no_falloc &&
	    fallocate(s->fd, 0, host, n * cs) < 0)
		s->no_falloc = true;
	{
		uint64_t start = host + ((in && !(fresh && zh == 1)) ? 0 : in);
		uint64_t wend = host + end + ((tail && !(fresh && zt == 1)) ? tail : 0);

		ret = pwritev_full(s->fd, iov, cnt, start);
		if (ret)
			return err_set(&s->disk.err, ret, "%s: write: %s", s->disk.path, strerror(-ret));
		note_written(s, wend);
	}
	for (uint64_t i = 0; i < n; i++) {
		old[i] = l2e(t, l2_idx + i);
		l2e_set(t, l2_idx + i, (host + i * cs) | QCOW2_OFLAG_COPIED);
	}
	qcow2_cache_mark_dirty(&s->l2_cache, t);
	for (uint64_t i = 0; i < n; i++) {
		ret = qcow2_free_l2_entry_later(s, old[i]);
		if (ret)
			return ret;
	}
	*done = bytes;
	return 0;
}

int qcow2_write(struct disk *d, const void *buf, size_t len, uint64_t off)
{
	struct qcow2 *s = to_qcow2(d);
	const char *p = buf;

	if (s->broken)
		return -EIO;
	while (len) {
		struct qcow2_cache_entry *t;
		uint64_t l1_idx, l2_idx, nmax, done = 0;
		int ret;

		locate(s, off, len, &l1_idx, &l2_idx, &nmax);
		ret = qcow2_l2_load(s, l1_idx, true, &t);
		if (ret)
			return ret;
		if (in_place(l2e(t, l2_idx)))
			ret = write_in_place(s, t, l2_idx, nmax, p, len, off, &done);
		else
			ret = write_alloc(s, t, l2_idx, nmax, p, len, off, &done);
		if (ret)
			return ret;
		p += done;
		off += done;
		len -= done;
	}
	return 0;
}

/*
 * Set the L2 entries of the whole clusters in [off, off+len) to what
 * new_entry() says, freeing what they referenced once that is durable.
 * mode: 0 discard, 1 write-zeroes (may unmap), 2 write-zeroes (keep allocation).
 */
static uint64_t zeroed_entry(struct qcow2 *s, uint64_t e, int mode)
{
	if (s->version < 3)
		return 0;	/* v2: no zero flag; callers make sure 0 reads as zeros */
	if (mode == 2 && in_place(e))
		return (e & QCOW2_OFFSET_MASK) | QCOW2_OFLAG_COPIED | QCOW2_OFLAG_ZERO;
	return QCOW2_OFLAG_ZERO;
}

static int zero_clusters(struct qcow2 *s, uint64_t off, uint64_t len, int mode)
{
	while (len) {
		struct qcow2_cache_entry *t;
		uint64_t l1_idx, l2_idx, nmax;
		bool need_table = s->version >= 3 && s->backing;
		int ret;

		locate(s, off, len, &l1_idx, &l2_idx, &nmax);
		ret = qcow2_l2_load(s, l1_idx, need_table, &t);
		if (ret)
			return ret;
		for (uint64_t i = 0; t && i < nmax; i++) {
			uint64_t e = l2e(t, l2_idx + i), ne = zeroed_entry(s, e, mode);
			enum qcow2_cluster_type type = qcow2_l2_type(e);

			if (e == ne || (type == QCOW2_CL_UNALLOCATED && !s->backing) ||
			    (type == QCOW2_CL_ZERO_PLAIN && s->version >= 3))
				continue;
			l2e_set(t, l2_idx + i, ne);
			qcow2_cache_mark_dirty(&s->l2_cache, t);
			if ((ne & QCOW2_OFFSET_MASK) != (e & QCOW2_OFFSET_MASK) ||
			    type == QCOW2_CL_COMPRESSED) {
				ret = qcow2_free_l2_entry_later(s, e);
				if (ret)
					return ret;
			}
		}
		off += nmax << s->cluster_bits;
		len -= MIN(len, nmax << s->cluster_bits);
	}
	return 0;
}

/* Whole clusters inside [off, off+len); the last partial cluster of the disk counts. */
static void whole_clusters(struct qcow2 *s, uint64_t off, uint64_t len, uint64_t *start,
			   uint64_t *end)
{
	*start = ALIGN_UP(off, s->cluster_size);
	*end = off + len == s->disk.size ? ALIGN_UP(off + len, s->cluster_size)
					 : ALIGN_DOWN(off + len, s->cluster_size);
	if (*end < *start)
		*end = *start;
}

int qcow2_discard(struct disk *d, uint64_t off, uint64_t len)
{
	struct qcow2 *s = to_qcow2(d);
	uint64_t start, end;

	if (s->broken)
		return -EIO;
	whole_clusters(s, off, len, &start, &end);
	/* v2 with a backing file: dropping the cluster would expose backing data; keep it. */
	if (end == start || (s->version < 3 && s->backing))
		return 0;
	return zero_clusters(s, start, end - start, 0);
}

static int write_zero_bytes(struct qcow2 *s, uint64_t off, uint64_t len)
{
	size_t chunk = MIN(len, 1 * MiB);
	void *zero;
	int ret = 0;

	if (!len)
		return 0;
	zero = calloc(1, chunk);
	if (!zero)
		return -ENOMEM;
	while (len && !ret) {
		size_t n = MIN(len, chunk);

		ret = qcow2_write(&s->disk, zero, n, off);
		off += n;
		len -= n;
	}
	free(zero);
	return ret;
}

int qcow2_write_zeroes(struct disk *d, uint64_t off, uint64_t len, bool may_unmap)
{
	struct qcow2 *s = to_qcow2(d);
	uint64_t start, end;
	int ret;

	if (s->broken)
		return -EIO;
	whole_clusters(s, off, len, &start, &end);
	/* v2 cannot express "zeros over a backing file" or "zeros, allocated" without data. */
	if (end == start || (s->version < 3 && (s->backing || !may_unmap)))
		return write_zero_bytes(s, off, len);
	ret = write_zero_bytes(s, off, MIN(start, off + len) - off);
	if (!ret && end < off + len)
		ret = write_zero_bytes(s, end, off + len - end);
	if (!ret)
		ret = zero_clusters(s, start, end - start, may_unmap ? 1 : 2);
	return ret;
}

int qcow2_block_status(struct disk *d, uint64_t off, uint64_t len, uint64_t *pnum,
			      enum disk_status *status)
{
	struct qcow2 *s = to_qcow2(d);
	struct qcow2_cache_entry *t;
	uint64_t l1_idx, l2_idx, nmax, n, in = off & (s->cluster_size - 1);
	int ret;

	locate(s, off, len, &l1_idx, &l2_idx, &nmax);
	ret = qcow2_l2_load(s, l1_idx, false, &t);
	if (ret)
		return ret;
	n = t ? run_length(s, t, l2_idx, nmax) : nmax;
	*pnum = MIN(len, n * s->cluster_size - in);
	switch (qcow2_l2_type(l2e(t, l2_idx))) {
	case QCOW2_CL_UNALLOCATED:
		if (s->backing && off < s->backing->size)
			return disk_block_status(s->backing, off,
						 MIN(*pnum, s->backing->size - off), pnum, status);
		*status = DISK_STATUS_ZERO;
		return 0;
	case QCOW2_CL_ZERO_PLAIN:
	case QCOW2_CL_ZERO_ALLOC:
		*status = DISK_STATUS_ZERO;
		return 0;
	default:
		*status = DISK_STATUS_DATA;
		return 0;
	}
}

