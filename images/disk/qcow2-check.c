/*
 * qcow2 consistency check and repair (vmm disk check, and opening a dirty
 * image for writing). References are counted by walking every table (active
 * L1/L2, snapshots, refcount structures, bitmaps) and compared with the
 * stored refcounts, as qemu-img check does:
 *   stored > counted: leak (harmless, -r leaks frees it)
 *   stored < counted: corruption (-r all rebuilds the refcount structures)
 * OFLAG_COPIED must be set exactly when a cluster's refcount is 1 (-r all fixes it).
 * Everything read is hostile: bounded sizes, no allocation from header values
 * beyond the file size.
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
#include "vmm/base/util.h"

#define MAX_CHECK_CLUSTERS	(1ULL << 28)	/* 1 GiB of counters */
#define MAX_PRINTED		1000

struct check {
	struct qcow2 *s;
	FILE *out;
	int fix;
	struct qcow2_check_result *res;
	uint32_t *refs;		/* counted references per host cluster */
	uint64_t nb;		/* clusters in the file */
	uint8_t *l2;		/* scratch table buffer */
	bool rebuild;		/* refcount structures need rebuilding */
	unsigned printed;
};

static void report(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->out || c->printed++ >= MAX_PRINTED) {
		if (c->out && c->printed == MAX_PRINTED + 1)
			fprintf(c->out, "(further problems not shown)\n");
		return;
	}
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
}

static void corruption(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void corruption(struct check *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(c, "ERROR %s", msg);
	c->res->corruptions++;
}

/* Count one reference to every cluster of [off, off+len). */
static void inc(struct check *c, uint64_t off, uint64_t len, const char *what)
{
	uint64_t first, last;

	if (!len)
		return;
	first = off >> c->s->cluster_bits;
	last = (off + len - 1) >> c->s->cluster_bits;
	if (off + len < off || last >= c->nb) {
		corruption(c, "%s at %#llx is past the end of the file", what,
			   (unsigned long long)off);
		return;
	}
	for (uint64_t i = first; i <= last; i++)
		if (c->refs[i] != UINT32_MAX)
			c->refs[i]++;
}

static int read_buf(struct check *c, void *buf, uint64_t len, uint64_t off)
{
	int ret = pread_zero(c->s->fd, buf, len, off);

	if (ret) {
		report(c, "ERROR reading at %#llx: %s", (unsigned long long)off, strerror(-ret));
		c->res->check_errors++;
	}
	return ret;
}

static void walk_l2(struct check *c, uint64_t l2_off, bool active, uint64_t *prev_host)
{
	struct qcow2 *s = c->s;

	if (read_buf(c, c->l2, s->cluster_size, l2_off))
		return;
	for (uint64_t j = 0; j < s->l2_entries; j++) {
		uint64_t e = qcow2_get_be64(c->l2 + j * 8), host, len;

		switch (qcow2_l2_type(e)) {
		case QCOW2_CL_COMPRESSED:
			if (e & QCOW2_OFLAG_COPIED)
				corruption(c, "compressed cluster with OFLAG_COPIED: l2_entry=%llx",
					   (unsigned long long)e);
			qcow2_compressed_range(s->cluster_bits, e, &host, &len);
			inc(c, host & ~511ULL, len + (host & 511), "compressed cluster");
			if (active) {
				c->res->allocated_clusters++;
				c->res->compressed_clusters++;
			}
			break;
		case QCOW2_CL_NORMAL:
		case QCOW2_CL_ZERO_ALLOC:
			host = e & QCOW2_OFFSET_MASK;
			if (e & QCOW2_L2E_RESERVED)
				corruption(c, "L2 entry %llx has reserved bits set", (unsigned long long)e);
			if (!IS_ALIGNED(host, s->cluster_size)) {
				corruption(c, "offset=%llx: Cluster is not properly aligned; L2 entry corrupted",
					   (unsigned long long)host);
				break;
			}
			inc(c, host, s->cluster_size, "data cluster");
			if (active && qcow2_l2_type(e) == QCOW2_CL_NORMAL) {
				c->res->allocated_clusters++;
				if (*prev_host && host != *prev_host + s->cluster_size)
					c->res->fragmented_clusters++;
				*prev_host = host;
			}
			break;
		default:
			if (e & QCOW2_L2E_RESERVED & ~QCOW2_OFFSET_MASK)
				corruption(c, "L2 entry %llx has reserved bits set", (unsigned long long)e);
			break;
		}
	}
}

static void walk_l1(struct check *c, const uint64_t *l1, uint64_t n, bool active)
{
	struct qcow2 *s = c->s;
	uint64_t prev_host = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = l1[i] & QCOW2_OFFSET_MASK;

		if (!off)
			continue;
		if ((l1[i] & QCOW2_L1E_RESERVED) || !IS_ALIGNED(off, s->cluster_size)) {
			corruption(c, "L1 entry %llu (%llx) is invalid", (unsigned long long)i,
				   (unsigned long long)l1[i]);
			continue;
		}
		if ((off >> s->cluster_bits) >= c->nb) {
			corruption(c, "L2 table %llu at %#llx is past the end of the file",
				   (unsigned long long)i, (unsigned long long)off);
			continue;
		}
		inc(c, off, s->cluster_size, "L2 table");
		walk_l2(c, off, active, &prev_host);
	}
}

static int load_l1(struct check *c, uint64_t off, uint64_t n, uint64_t **out)
{
	uint64_t *t;

	if (n * 8 > QCOW2_MAX_L1_BYTES || !IS_ALIGNED(off, c->s->cluster_size) ||
	    (n && (off >> c->s->cluster_bits) >= c->nb)) {
		corruption(c, "snapshot L1 table at %#llx (%llu entries) is invalid",
			   (unsigned long long)off, (unsigned long long)n);
		return -EINVAL;
	}
	t = malloc(MAX(n, 1) * 8);
	if (!t)
		return -ENOMEM;
	if (read_buf(c, t, n * 8, off)) {
		free(t);
		return -EIO;
	}
	for (uint64_t i = 0; i < n; i++)
		t[i] = be64toh(t[i]);
	*out = t;
	return 0;
}

static void walk_snapshots(struct check *c)
{
	struct qcow2 *s = c->s;
	uint64_t off = s->snapshots_offset;

	for (uint32_t i = 0; i < s->nb_snapshots; i++) {
		uint8_t h[40];
		uint64_t l1_off, *l1 = NULL;
		uint32_t l1_size, extra;
		uint16_t id_len, name_len;

		if (off - s->snapshots_offset > (64ULL << 20) || read_buf(c, h, sizeof(h), off))
			return;
		l1_off = qcow2_get_be64(h);
		l1_size = qcow2_get_be32(h + 8);
		id_len = qcow2_get_be16(h + 12);
		name_len = qcow2_get_be16(h + 14);
		extra = qcow2_get_be32(h + 36);
		if (extra > 1024) {
			corruption(c, "snapshot %u has %u bytes of extra data", i, extra);
			return;
		}
		off += ALIGN_UP(40ULL + extra + id_len + name_len, 8);
		if (load_l1(c, l1_off, l1_size, &l1) == 0) {
			inc(c, l1_off, (uint64_t)l1_size * 8, "snapshot L1 table");
			walk_l1(c, l1, l1_size, false);
			free(l1);
		}
	}
	if (s->nb_snapshots)
		inc(c, s->snapshots_offset, off - s->snapshots_offset, "snapshot table");
}

static void walk_bitmaps(struct check *c)
{
	struct qcow2 *s = c->s;
	uint64_t dsize = s->bitmaps_dir_size, doff = s->bitmaps_dir_offset, pos = 0;
	uint8_t *dir;

	if (!(s->autoclear & QCOW2_AUTOCLEAR_BITMAPS) || !s->nb_bitmaps)
		return;
	if (dsize > (64ULL << 20) || !IS_ALIGNED(doff, s->cluster_size) ||
	    (doff >> s->cluster_bits) >= c->nb) {
		corruption(c, "bitmap directory at %#llx is invalid", (unsigned long long)doff);
		return;
	}
	dir = malloc(MAX(dsize, 1));
	if (!dir || read_buf(c, dir, dsize, doff)) {
		free(dir);
		return;
	}
	inc(c, doff, dsize, "bitmap directory");
	for (uint32_t i = 0; i < s->nb_bitmaps && pos + 24 <= dsize; i++) {
		uint64_t toff = qcow2_get_be64(dir + pos), *tab = NULL;
		uint32_t tsize = qcow2_get_be32(dir + pos + 8);
		uint16_t name_len = qcow2_get_be16(dir + pos + 18);
		uint32_t extra = qcow2_get_be32(dir + pos + 20);

		pos += ALIGN_UP(24ULL + extra + name_len, 8);
		if (load_l1(c, toff, tsize, &tab))
			continue;
		inc(c, toff, (uint64_t)tsize * 8, "bitmap table");
		for (uint32_t j = 0; j < tsize; j++) {
			uint64_t off = tab[j] & QCOW2_OFFSET_MASK;

			if (off)
				inc(c, off, s->cluster_size, "bitmap data");
		}
		free(tab);
	}
	free(dir);
}

static bool block_valid(struct check *c, uint64_t e)
{
	uint64_t off = e & QCOW2_REFT_OFFSET_MASK;

	return off && !(e & QCOW2_REFT_RESERVED) && IS_ALIGNED(off, c->s->cluster_size) &&
	       (off >> c->s->cluster_bits) < c->nb;
}

static void walk_refcounts(struct check *c)
{
	struct qcow2 *s = c->s;

	inc(c, s->reftable_offset, (uint64_t)s->reftable_clusters * s->cluster_size,
	    "refcount table");
	for (uint64_t i = 0; i < s->reftable_size; i++) {
		uint64_t e = s->reftable[i];

		if (!e)
			continue;
		if (!block_valid(c, e)) {
			corruption(c, "refcount block %llu at %#llx is invalid or outside the image",
				   (unsigned long long)i, (unsigned long long)e);
			c->rebuild = true;
			continue;
		}
		inc(c, e & QCOW2_REFT_OFFSET_MASK, s->cluster_size, "refcount block");
	}
}

static int count_refs(struct check *c)
{
	struct qcow2 *s = c->s;

	memset(c->refs, 0, c->nb * sizeof(*c->refs));
	c->res->allocated_clusters = c->res->fragmented_clusters = c->res->compressed_clusters = 0;
	inc(c, 0, s->cluster_size, "header");
	inc(c, s->l1_offset, (uint64_t)s->l1_size * 8, "L1 table");
	walk_l1(c, s->l1, s->l1_size, true);
	walk_snapshots(c);
	walk_refcounts(c);
	walk_bitmaps(c);
	return c->res->check_errors ? -EIO : 0;
}

/* Stored refcount of cluster i (0 where the block is missing or invalid). */
static int stored_rc(struct check *c, uint64_t i, uint64_t *rc)
{
	uint64_t t = i >> c->s->rb_bits;

	*rc = 0;
	if (t >= c->s->reftable_size || !block_valid(c, c->s->reftable[t]))
		return 0;
	return qcow2_refcount_get(c->s, i, rc);
}

static int compare(struct check *c)
{
	struct qcow2 *s = c->s;
	uint64_t end = MAX(c->nb, MIN(s->reftable_size << s->rb_bits, c->nb + (1ULL << s->rb_bits)));
	int ret;

	/* Clusters covered by valid refcount blocks past the end of the file, too. */
	for (uint64_t t = 0; t < s->reftable_size; t++)
		if (block_valid(c, s->reftable[t]))
			end = MAX(end, (t + 1) << s->rb_bits);
	for (uint64_t i = 0; i < end; i++) {
		uint64_t stored, counted = i < c->nb ? c->refs[i] : 0;

		if (i % (1ULL << s->rb_bits) == 0 &&
		    ((i >> s->rb_bits) >= s->reftable_size ||
		     !block_valid(c, s->reftable[i >> s->rb_bits]))) {
			/* No block: all stored refcounts are 0. */
			uint64_t stop = MIN(end, i + (1ULL << s->rb_bits));

			for (; i < stop; i++) {
				if (i < c->nb && c->refs[i]) {
					corruption(c, "cluster %llu refcount=0 reference=%u",
						   (unsigned long long)i, c->refs[i]);
					c->rebuild = true;
				}
			}
			i--;
			continue;
		}
		ret = stored_rc(c, i, &stored);
		if (ret) {
			c->res->check_errors++;
			return ret;
		}
		if (stored == counted)
			continue;
		if (stored == 0) {
			corruption(c, "cluster %llu refcount=0 reference=%llu", (unsigned long long)i,
				   (unsigned long long)counted);
			c->rebuild = true;
		} else if (stored > counted) {
			if (c->fix & QCOW2_FIX_LEAKS) {
				report(c, "Repairing cluster %llu refcount=%llu reference=%llu",
				       (unsigned long long)i, (unsigned long long)stored,
				       (unsigned long long)counted);
				ret = qcow2_refcount_update(s, i, (int64_t)counted - (int64_t)stored);
				if (ret)
					return ret;
				c->res->leaks_fixed++;
			} else {
				report(c, "Leaked cluster %llu refcount=%llu reference=%llu",
				       (unsigned long long)i, (unsigned long long)stored,
				       (unsigned long long)counted);
				c->res->leaks++;
			}
		} else {
			corruption(c, "cluster %llu refcount=%llu reference=%llu",
				   (unsigned long long)i, (unsigned long long)stored,
				   (unsigned long long)counted);
			c->rebuild = true;
		}
	}
	return 0;
}

/*
 * Write new refcount structures describing refs (plus themselves) after the
 * end of the file, then switch the header to them. The old ones are simply
 * no longer referenced.
 */
static int rebuild_refcounts(struct qcow2 *s, const uint32_t *refs, uint64_t nb)
{
	uint64_t cs = s->cluster_size, E = 1ULL << s->rb_bits, start, rt_cl = 1, nblocks = 1, total;
	uint8_t *blocks = NULL, hdr[12];
	uint64_t *tab = NULL, *host_tab = NULL;
	int ret;

	start = MAX(nb, ALIGN_UP(s->alloc_end, cs) >> s->cluster_bits);
	for (;;) {
		uint64_t nbk, nrt;

		total = start + rt_cl + nblocks;
		nbk = (total + E - 1) / E;
		nrt = (nbk * 8 + cs - 1) / cs;
		if (nbk <= nblocks && nrt <= rt_cl)
			break;
		nblocks = MAX(nbk, nblocks);
		rt_cl = MAX(nrt, rt_cl);
	}
	if (rt_cl * cs > QCOW2_MAX_REFTABLE_BYTES)
		return -EFBIG;
	blocks = calloc(nblocks, cs);
	tab = calloc(rt_cl, cs);
	host_tab = calloc(rt_cl, cs);
	if (!blocks || !tab || !host_tab) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < total; i++) {
		uint64_t v = i < nb ? refs[i] : (i >= start ? 1 : 0);

		if (v > s->refcount_max) {
			ret = err_set(&s->disk.err, -ERANGE, "%s: cluster %llu has %llu references, more than "
				      "%u-bit refcounts hold", s->disk.path, (unsigned long long)i,
				      (unsigned long long)v, 1u << s->refcount_order);
			goto out;
		}
		qcow2_rc_set(blocks + (i / E) * cs, i % E, s->refcount_order, v);
	}
	for (uint64_t j = 0; j < nblocks; j++) {
		host_tab[j] = (start + rt_cl + j) << s->cluster_bits;
		tab[j] = htobe64(host_tab[j]);
	}
	ret = pwrite_full(s->fd, tab, rt_cl * cs, start << s->cluster_bits);
	if (!ret)
		ret = pwrite_full(s->fd, blocks, nblocks * cs, (start + rt_cl) << s->cluster_bits);
	if (!ret)
		ret = qcow2_sync(s);
	qcow2_put_be64(hdr, start << s->cluster_bits);
	qcow2_put_be32(hdr + 8, rt_cl);
	if (!ret)
		ret = qcow2_write_header_field(s, QH_REFTABLE_OFFSET, hdr, sizeof(hdr));
	if (!ret)
		ret = qcow2_sync(s);
	if (ret)
		goto out;
	for (uint64_t i = 0; i < s->reftable_size; i++)
		if (s->reftable[i] & QCOW2_REFT_OFFSET_MASK)
			qcow2_meta_mark(s, s->reftable[i] & QCOW2_REFT_OFFSET_MASK, cs, false);
	qcow2_meta_mark(s, s->reftable_offset, (uint64_t)s->reftable_clusters * cs, false);
	qcow2_cache_drop_all(&s->rb_cache);
	free(s->reftable);
	s->reftable = host_tab;
	host_tab = NULL;
	s->reftable_offset = start << s->cluster_bits;
	s->reftable_clusters = rt_cl;
	s->reftable_size = rt_cl * cs / 8;
	s->reftable_dirty_lo = s->reftable_dirty_hi = 0;
	qcow2_meta_mark(s, s->reftable_offset, (rt_cl + nblocks) * cs, true);
	s->free_hint = 1;
	s->alloc_end = MAX(s->alloc_end, total << s->cluster_bits);
	s->file_size = MAX(s->file_size, total << s->cluster_bits);
out:
	free(blocks);
	free(tab);
	free(host_tab);
	return ret;
}

/* OFLAG_COPIED must say "refcount is 1"; fix it in place with QCOW2_FIX_ERRORS. */
static int check_copied(struct check *c)
{
	struct qcow2 *s = c->s;
	int ret;

	for (uint64_t i = 0; i < s->l1_size; i++) {
		uint64_t e = s->l1[i], off = e & QCOW2_OFFSET_MASK, rc;
		bool dirty = false;

		if (!off || (e & QCOW2_L1E_RESERVED) || !IS_ALIGNED(off, s->cluster_size) ||
		    (off >> s->cluster_bits) >= c->nb)
			continue;
		ret = stored_rc(c, off >> s->cluster_bits, &rc);
		if (ret)
			return ret;
		if ((rc == 1) != !!(e & QCOW2_OFLAG_COPIED)) {
			if (c->fix & QCOW2_FIX_ERRORS) {
				uint8_t v[8];

				s->l1[i] = rc == 1 ? e | QCOW2_OFLAG_COPIED : e & ~QCOW2_OFLAG_COPIED;
				qcow2_put_be64(v, s->l1[i]);
				ret = pwrite_full(s->fd, v, 8, s->l1_offset + i * 8);
				if (ret)
					return ret;
				c->res->corruptions_fixed++;
			} else {
				corruption(c, "OFLAG_COPIED L2 cluster: l1_index=%llu l1_entry=%llx refcount=%llu",
					   (unsigned long long)i, (unsigned long long)e, (unsigned long long)rc);
			}
		}
		if (read_buf(c, c->l2, s->cluster_size, off))
			return -EIO;
		for (uint64_t j = 0; j < s->l2_entries; j++) {
			uint64_t l2 = qcow2_get_be64(c->l2 + j * 8), host = l2 & QCOW2_OFFSET_MASK;
			enum qcow2_cluster_type type = qcow2_l2_type(l2);

			if ((type != QCOW2_CL_NORMAL && type != QCOW2_CL_ZERO_ALLOC) ||
			    !IS_ALIGNED(host, s->cluster_size) || (host >> s->cluster_bits) >= c->nb)
				continue;
			ret = stored_rc(c, host >> s->cluster_bits, &rc);
			if (ret)
				return ret;
			if ((rc == 1) == !!(l2 & QCOW2_OFLAG_COPIED))
				continue;
			if (c->fix & QCOW2_FIX_ERRORS) {
				l2 = rc == 1 ? l2 | QCOW2_OFLAG_COPIED : l2 & ~QCOW2_OFLAG_COPIED;
				qcow2_put_be64(c->l2 + j * 8, l2);
				dirty = true;
				c->res->corruptions_fixed++;
			} else {
				corruption(c, "OFLAG_COPIED data cluster: l2_entry=%llx refcount=%llu",
					   (unsigned long long)l2, (unsigned long long)rc);
			}
		}
		if (dirty) {
			qcow2_cache_drop(&s->l2_cache, off);
			ret = pwrite_full(s->fd, c->l2, s->cluster_size, off);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int run_check(struct qcow2 *s, int fix, FILE *out, struct qcow2_check_result *res)
{
	struct check c = { .s = s, .out = out, .fix = fix, .res = res };
	uint64_t file_size;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = disk_fd_size(s->fd, &file_size);
	if (ret)
		return ret;
	file_size = MAX(file_size, s->file_size);
	c.nb = (file_size + s->cluster_size - 1) >> s->cluster_bits;
	if (c.nb > MAX_CHECK_CLUSTERS)
		return err_set(&s->disk.err, -EFBIG, "%s: image file too large to check (%llu clusters)", s->disk.path,
			       (unsigned long long)c.nb);
	c.refs = calloc(MAX(c.nb, 1), sizeof(*c.refs));
	c.l2 = malloc(s->cluster_size);
	if (!c.refs || !c.l2) {
		ret = -ENOMEM;
		goto out;
	}
	res->total_clusters = (s->disk.size + s->cluster_size - 1) >> s->cluster_bits;
	res->image_end_offset = file_size;
	ret = count_refs(&c);
	if (!ret)
		ret = compare(&c);
	if (!ret && c.rebuild && (fix & QCOW2_FIX_ERRORS)) {
		report(&c, "Rebuilding refcount structure");
		/* The old structures are dropped: do not count them. */
		for (uint64_t i = 0; i < s->reftable_size; i++)
			if (block_valid(&c, s->reftable[i]))
				c.refs[(s->reftable[i] & QCOW2_REFT_OFFSET_MASK) >> s->cluster_bits]--;
		for (uint64_t i = 0; i < s->reftable_clusters; i++) {
			uint64_t cl = (s->reftable_offset >> s->cluster_bits) + i;

			if (cl < c.nb && c.refs[cl])
				c.refs[cl]--;
		}
		ret = rebuild_refcounts(s, c.refs, c.nb);
		if (!ret) {
			/* The new structures lie past the old end of the file. */
			c.nb = (s->file_size + s->cluster_size - 1) >> s->cluster_bits;
			res->corruptions_fixed += res->corruptions;
			res->corruptions = 0;
			res->leaks_fixed += res->leaks;
			res->leaks = 0;
		}
	}
	if (!ret && !(c.rebuild && !(fix & QCOW2_FIX_ERRORS)))
		ret = check_copied(&c);
	if (!ret && fix) {
		ret = qcow2_flush_metadata(s, true);
		if (!ret)
			ret = qcow2_flush_metadata(s, true);
	}
out:
	free(c.refs);
	free(c.l2);
	return ret;
}

int qcow2_check_file(const char *path, int fix, FILE *out, struct qcow2_check_result *res,
		     struct error *e)
{
	struct disk_open_opts opts = { .read_only = !fix, .no_backing = true };
	struct disk_chain chain = { 0 };
	struct qcow2_check_result again;
	struct disk *d;
	int fd, ret;

	memset(res, 0, sizeof(*res));
	fd = open(path, (fix ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (disk_probe_fd(fd) != DISK_FMT_QCOW2) {
		close(fd);
		return err_set(e, -EINVAL, "%s: not a qcow2 image", path);
	}
	ret = qcow2_open_flags(fd, path, &opts, &chain, QCOW2_OPEN_CHECK, &d, e);
	if (ret)
		return ret;
	ret = run_check(to_qcow2(d), fix, out, res);
	if (!ret && fix && (res->leaks_fixed || res->corruptions_fixed)) {
		/* Report the state after repair, keeping the counts of what was fixed. */
		ret = run_check(to_qcow2(d), 0, out, &again);
		again.leaks_fixed = res->leaks_fixed;
		again.corruptions_fixed = res->corruptions_fixed;
		*res = again;
	}
	if (!ret && fix && !res->corruptions && (to_qcow2(d)->incompat & QCOW2_INCOMPAT_CORRUPT)) {
		uint8_t v[8];
		struct qcow2 *s = to_qcow2(d);

		s->incompat &= ~QCOW2_INCOMPAT_CORRUPT;
		qcow2_put_be64(v, s->incompat);
		ret = qcow2_write_header_field(s, QH_INCOMPAT, v, 8);
	}
	if (ret)
		err_copy(e, &d->err, ret);
	disk_close(d);
	return ret;
}

int qcow2_check_repair_dirty(struct qcow2 *s)
{
	struct qcow2_check_result res;
	int ret = run_check(s, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS, NULL, &res);

	if (!ret) {
		ret = run_check(s, 0, NULL, &res);
		if (!ret && (res.corruptions || res.leaks)) {
			return err_set(&s->disk.err, -EIO, "%s: image is damaged beyond its refcounts (%llu errors); "
				       "see 'vmm disk check %s'", s->disk.path,
				       (unsigned long long)res.corruptions, s->disk.path);
		}
	}
	if (ret)
		err_wrap(&s->disk.err, ret, "%s: repairing the refcounts failed", s->disk.path);
	return ret;
}
