/* Inodes: metadata, file data streamed into contiguous extents (zero blocks become holes). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "images/rootfs/rootfs-internal.h"
#include "vmm/base/util.h"

#define EXTRA_ISIZE	(sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE)
#define EXT_INIT_MAX	32768	/* longest initialized extent, in blocks */

int rfs_inode_alloc(struct rfs *r, bool dir, ext2_ino_t *ino)
{
	errcode_t e = ext2fs_new_inode(r->fs, 0, dir ? LINUX_S_IFDIR : LINUX_S_IFREG, NULL, ino);

	if (e)
		return rfs_errno(e);
	ext2fs_inode_alloc_stats2(r->fs, *ino, +1, dir);
	return 0;
}

static void set_time(__u32 *t, __u32 *extra, int64_t sec, long nsec)
{
	*t = (__u32)sec;
	/* two epoch bits extend the 32-bit seconds; nanoseconds above them (kernel layout) */
	*extra = (__u32)(((sec - (int32_t)sec) >> 32) & 3) |
		 ((__u32)(nsec >= 0 && nsec < 1000000000L ? nsec : 0) << 2);
}

void rfs_inode_fill(struct rfs *r, struct ext2_inode_large *in, const struct rfs_meta *m)
{
	memset(in, 0, sizeof(*in));
	in->i_mode = m->mode;
	in->i_uid = m->uid & 0xffff;
	in->osd2.linux2.l_i_uid_high = m->uid >> 16;
	in->i_gid = m->gid & 0xffff;
	in->osd2.linux2.l_i_gid_high = m->gid >> 16;
	in->i_links_count = 1;
	in->i_extra_isize = EXTRA_ISIZE;
	set_time(&in->i_atime, &in->i_atime_extra, m->atime, m->atime_ns);
	set_time(&in->i_mtime, &in->i_mtime_extra, m->mtime, m->mtime_ns);
	set_time(&in->i_ctime, &in->i_ctime_extra, m->ctime, m->ctime_ns);
	set_time(&in->i_crtime, &in->i_crtime_extra, m->mtime, m->mtime_ns);
	if (LINUX_S_ISCHR(m->mode) || LINUX_S_ISBLK(m->mode)) {
		/* old 16-bit encoding when it fits, else the kernel's new_encode_dev */
		if (m->rdev_major < 256 && m->rdev_minor < 256) {
			in->i_block[0] = m->rdev_major * 256 + m->rdev_minor;
		} else {
			in->i_block[1] = (m->rdev_minor & 0xff) | (m->rdev_major << 8) |
					 ((m->rdev_minor & ~0xffU) << 12);
		}
	}
	(void)r;
}

int rfs_inode_write(struct rfs *r, ext2_ino_t ino, struct ext2_inode_large *in)
{
	return rfs_errno(ext2fs_write_inode_full(r->fs, ino, (struct ext2_inode *)in,
						 sizeof(*in)));
}

int rfs_inode_read(struct rfs *r, ext2_ino_t ino, struct ext2_inode_large *in)
{
	return rfs_errno(ext2fs_read_inode_full(r->fs, ino, (struct ext2_inode *)in,
						sizeof(*in)));
}

int rfs_extents_add(struct rfs *r, blk64_t lblk, blk64_t pblk, blk64_t len)
{
	struct rfs_extents *x = &r->ext;

	while (len) {
		struct rfs_extent *last = x->n ? &x->v[x->n - 1] : NULL;
		blk64_t n;

		if (last && last->lblk + last->len == lblk && last->pblk + last->len == pblk &&
		    last->len < EXT_INIT_MAX) {
			n = MIN(len, (blk64_t)(EXT_INIT_MAX - last->len));
			last->len += n;
		} else {
			if (x->n == x->cap) {
				size_t cap = x->cap ? x->cap * 2 : 16;
				struct rfs_extent *v = realloc(x->v, cap * sizeof(*v));

				if (!v)
					return -ENOMEM;
				x->v = v;
				x->cap = cap;
			}
			n = MIN(len, (blk64_t)EXT_INIT_MAX);
			x->v[x->n++] = (struct rfs_extent){ lblk, pblk, (uint32_t)n };
		}
		lblk += n;
		pblk += n;
		len -= n;
	}
	return 0;
}

/* Point the inode at r->ext: in i_block when it fits, else through libext2fs' extent tree. */
int rfs_extents_store(struct rfs *r, ext2_ino_t ino, struct ext2_inode_large *in)
{
	struct rfs_extents *x = &r->ext;
	struct ext3_extent_header *eh = (struct ext3_extent_header *)in->i_block;
	ext2_extent_handle_t h;
	blk64_t nblocks = 0;
	errcode_t e = 0;
	int err;

	for (size_t i = 0; i < x->n; i++)
		nblocks += x->v[i].len;
	in->i_flags |= EXT4_EXTENTS_FL;
	memset(in->i_block, 0, sizeof(in->i_block));
	e = ext2fs_iblk_add_blocks(r->fs, (struct ext2_inode *)in, nblocks);
	if (e)
		return rfs_errno(e);
	if (x->n <= 4) {
		struct ext3_extent *ex = (struct ext3_extent *)(eh + 1);

		eh->eh_magic = ext2fs_cpu_to_le16(EXT3_EXT_MAGIC);
		eh->eh_entries = ext2fs_cpu_to_le16(x->n);
		eh->eh_max = ext2fs_cpu_to_le16(4);
		eh->eh_depth = 0;
		for (size_t i = 0; i < x->n; i++) {
			ex[i].ee_block = ext2fs_cpu_to_le32((__u32)x->v[i].lblk);
			ex[i].ee_len = ext2fs_cpu_to_le16((__u16)x->v[i].len);
			ex[i].ee_start_hi = ext2fs_cpu_to_le16((__u16)(x->v[i].pblk >> 32));
			ex[i].ee_start = ext2fs_cpu_to_le32((__u32)x->v[i].pblk);
		}
		return rfs_inode_write(r, ino, in);
	}
	/* the tree code rewrites the inode's first 128 bytes: put the rest on disk first */
	err = rfs_inode_write(r, ino, in);
	if (err)
		return err;
	e = ext2fs_extent_open2(r->fs, ino, (struct ext2_inode *)in, &h);
	if (e)
		return rfs_errno(e);
	for (size_t i = 0; i < x->n && !e; i++) {
		struct ext2fs_extent ex = {
			.e_pblk = x->v[i].pblk, .e_lblk = x->v[i].lblk, .e_len = x->v[i].len,
		};

		e = ext2fs_extent_insert(h, EXT2_EXTENT_INSERT_AFTER, &ex);
		if (!e)
			e = ext2fs_extent_fix_parents(h);
	}
	ext2fs_extent_free(h);
	if (e)
		return rfs_errno(e);
	return rfs_inode_write(r, ino, in);
}

void rfs_data_begin(struct rfs *r)
{
	r->ext.n = 0;
}

static bool block_is_zero(const char *p, size_t n)
{
	return p[0] == 0 && !memcmp(p, p + 1, n - 1);
}

/* Write n whole blocks of data at logical block lblk; all-zero blocks stay holes. */
static int emit(struct rfs *r, blk64_t lblk, const char *data, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j;

		if (block_is_zero(data + i * r->bs, r->bs)) {
			i++;
			continue;
		}
		for (j = i + 1; j < n && !block_is_zero(data + j * r->bs, r->bs); j++)
			;
		while (i < j) {
			blk64_t p, got;
			int err = rfs_alloc(r, j - i, &p, &got);

			if (!err)
				err = rfs_wb_add(r, p, data + i * r->bs, got);
			if (!err)
				err = rfs_extents_add(r, lblk + i, p, got);
			if (err)
				return err;
			r->stats.data_bytes += got * r->bs;
			i += got;
		}
	}
	return 0;
}

/*
 * Feed file bytes [off, off+len). Offsets only grow (a sparse tar skips holes);
 * *pos is how far the file has been fed, the partial block at *pos waits in r->tail.
 */
int rfs_data_feed(struct rfs *r, uint64_t *pos, uint64_t off, const void *buf, size_t len)
{
	const char *p = buf;
	uint64_t bs = r->bs;
	size_t in_tail = *pos % bs;
	int err;

	if (off < *pos)
		return -EINVAL;
	if (off > *pos) {
		if (in_tail) {
			uint64_t bend = *pos - in_tail + bs;

			if (off < bend) {
				memset(r->tail + in_tail, 0, off - *pos);
				*pos = off;
			} else {
				memset(r->tail + in_tail, 0, bs - in_tail);
				err = emit(r, *pos / bs, r->tail, 1);
				if (err)
					return err;
				*pos = bend;
			}
		}
		if (off > *pos) {
			*pos = ALIGN_DOWN(off, bs);
			memset(r->tail, 0, off - *pos);
			*pos = off;
		}
		in_tail = *pos % bs;
	}
	if (in_tail) {
		size_t n = MIN(len, bs - in_tail);

		memcpy(r->tail + in_tail, p, n);
		p += n;
		len -= n;
		*pos += n;
		if (*pos % bs)
			return 0;
		err = emit(r, *pos / bs - 1, r->tail, 1);
		if (err)
			return err;
	}
	if (len >= bs) {
		size_t nb = len / bs;

		err = emit(r, *pos / bs, p, nb);
		if (err)
			return err;
		p += nb * bs;
		len -= nb * bs;
		*pos += nb * bs;
	}
	if (len) {
		memcpy(r->tail, p, len);
		*pos += len;
	}
	return 0;
}

/* Flush the last partial block and store the extents; in->i_size must be set. */
int rfs_data_end(struct rfs *r, uint64_t *pos, ext2_ino_t ino, struct ext2_inode_large *in)
{
	size_t in_tail = *pos % r->bs;

	if (in_tail) {
		int err;

		memset(r->tail + in_tail, 0, r->bs - in_tail);
		err = emit(r, *pos / r->bs, r->tail, 1);
		if (err)
			return err;
		*pos = ALIGN_UP(*pos, (uint64_t)r->bs);
	}
	return rfs_extents_store(r, ino, in);
}

int rfs_inode_unlink(struct rfs *r, ext2_ino_t ino, bool dir)
{
	struct ext2_inode_large in;
	errcode_t e;
	int err;

	err = rfs_inode_read(r, ino, &in);
	if (err)
		return err;
	if (!dir && in.i_links_count > 1) {
		in.i_links_count--;
		return rfs_inode_write(r, ino, &in);
	}
	if (ext2fs_inode_has_valid_blocks2(r->fs, (struct ext2_inode *)&in)) {
		/* a pending write must not land on blocks that are about to be reused */
		err = rfs_wb_flush(r);
		if (err)
			return err;
		e = ext2fs_punch(r->fs, ino, (struct ext2_inode *)&in, NULL, 0, ~0ULL);
		if (e)
			return rfs_errno(e);
	}
	if (ext2fs_file_acl_block(r->fs, (struct ext2_inode *)&in)) {
		e = ext2fs_free_ext_attr(r->fs, ino, &in);
		if (e)
			return rfs_errno(e);
	}
	/* zero all of it: in-inode xattrs past the large inode must not outlive it */
	{
		int isize = EXT2_INODE_SIZE(r->fs->super);
		char *zero = calloc(1, (size_t)isize);

		if (!zero)
			return -ENOMEM;
		((struct ext2_inode_large *)zero)->i_extra_isize = EXTRA_ISIZE;
		e = ext2fs_write_inode_full(r->fs, ino, (struct ext2_inode *)zero, isize);
		free(zero);
		if (e)
			return rfs_errno(e);
	}
	ext2fs_inode_alloc_stats2(r->fs, ino, -1, dir);
	return 0;
}
