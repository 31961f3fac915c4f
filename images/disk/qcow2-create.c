/*
 * qcow2 image creation (qemu-img create's layout: header cluster, refcount
 * table, refcount block(s), L1 table) and growing the virtual size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/disk/qcow2-internal.h"
#include "images/disk/qcow2.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"

/* Feature name table, as qemu-img writes it: {type, bit, name[46]}. */
static const struct { uint8_t type, bit; const char *name; } features[] = {
	{ 0, 0, "dirty bit" }, { 0, 1, "corrupt bit" }, { 0, 2, "external data file" },
	{ 0, 3, "compression type" }, { 0, 4, "extended L2 entries" },
	{ 1, 0, "lazy refcounts" }, { 2, 0, "bitmaps" }, { 2, 1, "raw external data" },
};

static int log2_exact(uint64_t v)
{
	int b = 0;

	if (!v || (v & (v - 1)))
		return -1;
	while ((1ULL << b) != v)
		b++;
	return b;
}

static size_t put_ext(uint8_t *p, uint32_t type, const void *data, uint32_t len)
{
	qcow2_put_be32(p, type);
	qcow2_put_be32(p + 4, len);
	memcpy(p + 8, data, len);
	return 8 + ALIGN_UP((size_t)len, 8);
}

static int build_header(uint8_t *hc, uint64_t cs, const struct qcow2_create_opts *o,
			uint32_t cluster_bits, uint32_t order, uint64_t l1_size, uint64_t l1_off,
			uint64_t rt_off, uint64_t rt_cl)
{
	size_t off = o->version == 3 ? 112 : QCOW2_V2_HEADER_LEN;
	uint8_t ft[ARRAY_SIZE(features) * 48];
	size_t blen = o->backing_file ? strlen(o->backing_file) : 0;

	qcow2_put_be32(hc + QH_MAGIC, QCOW2_MAGIC);
	qcow2_put_be32(hc + QH_VERSION, o->version);
	qcow2_put_be32(hc + QH_CLUSTER_BITS, cluster_bits);
	qcow2_put_be64(hc + QH_SIZE, o->size);
	qcow2_put_be32(hc + QH_L1_SIZE, l1_size);
	qcow2_put_be64(hc + QH_L1_OFFSET, l1_off);
	qcow2_put_be64(hc + QH_REFTABLE_OFFSET, rt_off);
	qcow2_put_be32(hc + QH_REFTABLE_CLUSTERS, rt_cl);
	if (o->version == 3) {
		qcow2_put_be64(hc + QH_COMPAT, o->lazy_refcounts ? QCOW2_COMPAT_LAZY_REFCOUNTS : 0);
		qcow2_put_be32(hc + QH_REFCOUNT_ORDER, order);
		qcow2_put_be32(hc + QH_HEADER_LEN, 112);
	}
	if (o->backing_fmt)
		off += put_ext(hc + off, QCOW2_EXT_BACKING_FORMAT, o->backing_fmt, strlen(o->backing_fmt));
	memset(ft, 0, sizeof(ft));
	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		ft[i * 48] = features[i].type;
		ft[i * 48 + 1] = features[i].bit;
		memcpy(ft + i * 48 + 2, features[i].name, strlen(features[i].name));
	}
	if (off + 8 + sizeof(ft) + 8 + blen <= cs)
		off += put_ext(hc + off, QCOW2_EXT_FEATURE_TABLE, ft, sizeof(ft));
	off += 8;	/* end of extensions */
	if (blen) {
		if (off + blen > cs)
			return -ENAMETOOLONG;
		memcpy(hc + off, o->backing_file, blen);
		qcow2_put_be64(hc + QH_BACKING_OFFSET, off);
		qcow2_put_be32(hc + QH_BACKING_SIZE, blen);
	}
	return 0;
}

int qcow2_create(const char *path, const struct qcow2_create_opts *opts, struct error *e)
{
	struct qcow2_create_opts o = *opts;
	uint64_t cs, l1_size, l1_cl, rb_cl = 1, rt_cl = 1, total, E;
	int cluster_bits, order;
	uint8_t *buf = NULL;
	char tmp[4096];
	int fd = -1, ret;

	if (!o.cluster_size)
		o.cluster_size = 64 * 1024;
	if (!o.version)
		o.version = 3;
	if (!o.refcount_bits)
		o.refcount_bits = 16;
	cluster_bits = log2_exact(o.cluster_size);
	order = log2_exact(o.refcount_bits);
	if (cluster_bits < QCOW2_MIN_CLUSTER_BITS || cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return err_set(e, -EINVAL, "%s: cluster size must be a power of two between 512 and 2M", path);
	if (order < 0 || order > 6 || (o.version == 2 && order != 4))
		return err_set(e, -EINVAL, "%s: refcount bits must be a power of two up to 64 (16 for compat 0.10)", path);
	if (o.version != 2 && o.version != 3)
		return err_set(e, -EINVAL, "%s: qcow2 version must be 2 or 3", path);
	if (o.backing_file && strlen(o.backing_file) > QCOW2_MAX_BACKING_NAME)
		return err_set(e, -ENAMETOOLONG, "%s: backing file name too long", path);
	cs = o.cluster_size;
	if (o.size > QCOW2_MAX_VIRTUAL_SIZE)
		return err_set(e, -EFBIG, "%s: virtual size too large", path);
	l1_size = (o.size + (cs * (cs / 8)) - 1) / (cs * (cs / 8));
	if (l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return err_set(e, -EFBIG, "%s: virtual size too large for %llu-byte clusters", path,
			       (unsigned long long)cs);
	l1_cl = (l1_size * 8 + cs - 1) / cs;
	E = cs * 8 / o.refcount_bits;
	for (;;) {	/* refcount blocks and table sized to cover themselves */
		uint64_t nrb, nrt;

		total = 1 + rt_cl + rb_cl + l1_cl;
		nrb = (total + E - 1) / E;
		nrt = (nrb * 8 + cs - 1) / cs;
		if (nrb == rb_cl && nrt == rt_cl)
			break;
		rb_cl = MAX(nrb, rb_cl);
		rt_cl = MAX(nrt, rt_cl);
	}
	if (rt_cl * cs > QCOW2_MAX_REFTABLE_BYTES)
		return err_set(e, -EFBIG, "%s: virtual size too large for these cluster and refcount sizes", path);
	buf = calloc(1 + rt_cl + rb_cl, cs);
	if (!buf)
		return err_set(e, -ENOMEM, "%s: out of memory", path);
	ret = build_header(buf, cs, &o, cluster_bits, order, l1_size, (1 + rt_cl + rb_cl) * cs,
			   cs, rt_cl);
	if (ret) {
		err_set(e, ret, "%s: backing file name does not fit in the header", path);
		goto out;
	}
	for (uint64_t i = 0; i < rb_cl; i++)
		qcow2_put_be64(buf + cs + i * 8, (1 + rt_cl + i) * cs);
	for (uint64_t c = 0; c < total; c++)
		qcow2_rc_set(buf + (1 + rt_cl + c / E) * cs, c % E, order, 1);

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp)) {
		ret = err_set(e, -ENAMETOOLONG, "%s: path too long", path);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = err_set(e, -errno, "%s: cannot create: %s", tmp, strerror(errno));
		goto out;
	}
	ret = pwrite_full(fd, buf, (1 + rt_cl + rb_cl) * cs, 0);
	if (!ret && ftruncate(fd, (1 + rt_cl + rb_cl) * cs + MAX(l1_size * 8, 8)) < 0)
		ret = -errno;
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret) {
		err_set(e, ret, "%s: cannot write the image: %s", path, strerror(-ret));
		unlink(tmp);
		goto out;
	}
	{
		/* Make the rename durable. */
		char *slash = strrchr(tmp, '/');
		int dfd;

		if (slash)
			*slash = '\0';
		dfd = open(slash ? (tmp[0] ? tmp : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

int qcow2_resize(struct disk *d, uint64_t new_size)
{
	struct qcow2 *s = to_qcow2(d);
	uint64_t cover = s->cluster_size << s->l2_bits, need, new_off = 0, l1_cl;
	uint64_t old_off = s->l1_offset, old_cl;
	uint8_t hdr[24];
	uint64_t *nl1 = NULL, *be = NULL;
	int ret;

	if (d->read_only)
		return -EROFS;
	if (new_size < d->size)
		return err_set(&d->err, -EINVAL, "%s: shrinking is not supported (current size %llu, requested %llu)",
			       d->path, (unsigned long long)d->size, (unsigned long long)new_size);
	if (new_size > QCOW2_MAX_VIRTUAL_SIZE)
		return err_set(&d->err, -EFBIG, "%s: virtual size too large", d->path);
	need = (new_size + cover - 1) / cover;
	ret = qcow2_flush_metadata(s, true);
	if (ret)
		return ret;
	if (need > s->l1_size) {
		if (need * 8 > QCOW2_MAX_L1_BYTES)
			return err_set(&d->err, -EFBIG, "%s: virtual size too large for %llu-byte clusters", d->path,
				       (unsigned long long)s->cluster_size);
		l1_cl = (need * 8 + s->cluster_size - 1) / s->cluster_size;
		nl1 = calloc(l1_cl, s->cluster_size);
		be = calloc(l1_cl, s->cluster_size);
		if (!nl1 || !be) {
			ret = -ENOMEM;
			goto out;
		}
		memcpy(nl1, s->l1, (size_t)s->l1_size * 8);
		for (uint64_t i = 0; i < need; i++)
			be[i] = htobe64(nl1[i]);
		ret = qcow2_alloc_clusters_exact(s, l1_cl, &new_off);
		if (!ret)
			ret = qcow2_meta_mark(s, new_off, l1_cl * s->cluster_size, true);
		if (!ret)
			ret = pwrite_full(s->fd, be, l1_cl * s->cluster_size, new_off);
		if (!ret)	/* refcounts of the new table and the table itself durable */
			ret = qcow2_flush_metadata(s, true);
		if (ret)
			goto out;
		if (new_off + l1_cl * s->cluster_size > s->file_size)
			s->file_size = new_off + l1_cl * s->cluster_size;
	}
	/* size, crypt_method, l1_size, l1_table_offset: one write. */
	qcow2_put_be64(hdr, new_size);
	qcow2_put_be32(hdr + 8, 0);
	qcow2_put_be32(hdr + 12, nl1 ? need : s->l1_size);
	qcow2_put_be64(hdr + 16, nl1 ? new_off : s->l1_offset);
	ret = qcow2_write_header_field(s, QH_SIZE, hdr, sizeof(hdr));
	if (!ret)
		ret = qcow2_sync(s);
	if (ret)
		goto out;
	d->size = new_size;
	if (nl1) {
		old_cl = ((uint64_t)s->l1_size * 8 + s->cluster_size - 1) / s->cluster_size;
		free(s->l1);
		s->l1 = nl1;
		nl1 = NULL;
		s->l1_size = need;
		s->l1_offset = new_off;
		qcow2_meta_mark(s, old_off, old_cl * s->cluster_size, false);
		for (uint64_t c = 0; c < old_cl && !ret; c++)
			ret = qcow2_refcount_update(s, (old_off >> s->cluster_bits) + c, -1);
		if (!ret)
			ret = qcow2_flush_metadata(s, true);
	}
out:
	free(nl1);
	free(be);
	return ret;
}
