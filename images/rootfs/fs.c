/*
 * The ext4 image itself: created with mke2fs's defaults for ext4 (4 KiB blocks, extents,
 * flex_bg, metadata_csum, 64bit, a journal), data blocks handed out by a forward-moving
 * allocator and written in large batches through the io channel.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <et/com_err.h>

#include "images/rootfs/image-internal.h"
#include "images/rootfs/rootfs-internal.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

/*
 * A fuzzing build (tests/fuzz/run.sh defines FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
 * keeps the per-call buffers here, in layer.c, io.c and tarout.c under 128 KiB: ASan maps,
 * poisons and unmaps every bigger allocation, which was most of an execution. Their sizes
 * change no result, and small ones take their full/overflow paths with small inputs too.
 */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define WBUF_BYTES	(64 * KiB)
#else
#define WBUF_BYTES	(8 * MiB)
#endif
#define INODE_RATIO	16384

int rfs_errno(errcode_t e)
{
	switch (e) {
	case 0:
		return 0;
	case EXT2_ET_BLOCK_ALLOC_FAIL:
	case EXT2_ET_INODE_ALLOC_FAIL:
	case EXT2_ET_DIR_NO_SPACE:
	case EXT2_ET_EA_NO_SPACE:
		return -ENOSPC;
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	default:
		if (e > 0 && e < 4096)
			return -(int)e;		/* a plain errno */
		return -EIO;
	}
}

const char *rfs_strerror(errcode_t e)
{
	return rfs_ext2_msg(e);
}

int rfs_fail(struct rfs *r, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (r->failed)
		return err;
	r->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)	/* hardlink targets, xattr names... are untrusted too */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (r->layer_name && r->member) {
		char name[256];
		size_t i;

		/* member names are untrusted: no control characters on the terminal */
		for (i = 0; r->member[i] && i < sizeof(name) - 1; i++)
			name[i] = (unsigned char)r->member[i] < 0x20 || r->member[i] == 0x7f ?
				  '?' : r->member[i];
		name[i] = '\0';
		err_set(r->e, err, "layer %s: %s: %s", r->layer_name, name, msg);
	} else if (r->layer_name) {
		err_set(r->e, err, "layer %s: %s", r->layer_name, msg);
	} else {
		err_set(r->e, err, "%s", msg);
	}
	return err;
}

static int fs_setup(struct rfs *r, const struct rootfs_opts *o, const uint8_t uuid[16])
{
	ext2_filsys fs = r->fs;
	struct ext2fs_journal_params jp;
	errcode_t e;

	fs->super->s_checksum_type = EXT2_CRC32C_CHKSUM;
	memcpy(fs->super->s_uuid, uuid, 16);
	/* the directory hash seed: a second value derived from the same uuid */
	for (int i = 0; i < 16; i++)
		((uint8_t *)fs->super->s_hash_seed)[i] = uuid[15 - i] ^ 0x5c;
	ext2fs_init_csum_seed(fs);
	fs->super->s_def_hash_version = EXT2_HASH_HALF_MD4;
	fs->super->s_flags |= EXT2_FLAGS_UNSIGNED_HASH;
	fs->super->s_max_mnt_count = -1;
	fs->super->s_default_mount_opts = EXT2_DEFM_XATTR_USER | EXT2_DEFM_ACL;
	if (o->label)
		strncpy((char *)fs->super->s_volume_name, o->label,
			sizeof(fs->super->s_volume_name));

	e = ext2fs_allocate_tables(fs);
	if (e)
		return rfs_fail(r, rfs_errno(e), "cannot lay out the filesystem: %s", rfs_strerror(e));
	/* The temp file is new and sparse: inode tables read as zeros already. */
	for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
		ext2fs_bg_flags_set(fs, g, EXT2_BG_INODE_ZEROED);
		ext2fs_group_desc_csum_set(fs, g);
	}

	/* Reserved inodes, as mke2fs: 1 (bad blocks), 2 (root), 3..first_ino-1. */
	ext2fs_inode_alloc_stats2(fs, EXT2_ROOT_INO, +1, 1);
	for (ext2_ino_t i = EXT2_ROOT_INO + 1; i < EXT2_FIRST_INODE(fs->super); i++)
		ext2fs_inode_alloc_stats2(fs, i, +1, 0);
	ext2fs_inode_alloc_stats2(fs, EXT2_BAD_INO, +1, 0);
	e = ext2fs_update_bb_inode(fs, NULL);
	if (!e && ext2fs_has_feature_resize_inode(fs->super))
		e = ext2fs_create_resize_inode(fs);
	if (e)
		return rfs_fail(r, rfs_errno(e), "cannot create the reserved inodes: %s",
				rfs_strerror(e));

	e = ext2fs_get_journal_params(&jp, fs);
	if (!e)
		e = ext2fs_add_journal_inode3(fs, &jp, ~0ULL,
					      EXT2_MKJOURNAL_LAZYINIT | EXT2_MKJOURNAL_NO_MNT_CHECK);
	if (e)
		return rfs_fail(r, rfs_errno(e), "cannot create the journal: %s", rfs_strerror(e));
	return 0;
}

int rfs_fs_create(struct rfs *r, const char *path, const struct rootfs_opts *o,
		  const uint8_t uuid[16])
{
	struct ext2_super_block param;
	uint64_t inodes = o->inodes ? o->inodes : o->size / INODE_RATIO;
	errcode_t e;

	memset(&param, 0, sizeof(param));
	param.s_log_block_size = 2;		/* 1024 << 2 = 4 KiB */
	ext2fs_blocks_count_set(&param, o->size / 4096);
	param.s_rev_level = EXT2_DYNAMIC_REV;
	param.s_inode_size = 256;		/* like mke2fs: room for in-inode xattrs */
	param.s_inodes_count = (uint32_t)MIN(inodes, (uint64_t)UINT32_MAX - 65536);
	param.s_log_groups_per_flex = 4;
	param.s_desc_size = EXT2_MIN_DESC_SIZE_64BIT;
	ext2fs_set_feature_xattr(&param);
	ext2fs_set_feature_resize_inode(&param);
	ext2fs_set_feature_dir_index(&param);
	ext2fs_set_feature_filetype(&param);
	ext2fs_set_feature_extents(&param);
	ext2fs_set_feature_64bit(&param);
	ext2fs_set_feature_flex_bg(&param);
	ext2fs_set_feature_sparse_super(&param);
	ext2fs_set_feature_large_file(&param);
	ext2fs_set_feature_huge_file(&param);
	ext2fs_set_feature_dir_nlink(&param);
	ext2fs_set_feature_extra_isize(&param);
	ext2fs_set_feature_metadata_csum(&param);

	e = ext2fs_initialize(path, EXT2_FLAG_RW | EXT2_FLAG_64BITS, &param,
			      unix_io_manager, &r->fs);
	if (e) {
		r->fs = NULL;
		return rfs_fail(r, rfs_errno(e), "%s: cannot create the filesystem: %s", path,
				rfs_strerror(e));
	}
	r->bs = r->fs->blocksize;
	r->cursor = r->fs->super->s_first_data_block;
	r->wcap = WBUF_BYTES / r->bs;
	r->wbuf = malloc(WBUF_BYTES);
	r->tail = malloc(r->bs);
	if (!r->wbuf || !r->tail)
		return rfs_fail(r, -ENOMEM, "out of memory");
	return fs_setup(r, o, uuid);
}

int rfs_alloc(struct rfs *r, blk64_t want, blk64_t *start, blk64_t *got)
{
	ext2_filsys fs = r->fs;
	blk64_t end = ext2fs_blocks_count(fs->super) - 1;

	for (int pass = 0; pass < 2; pass++) {
		blk64_t from = pass ? fs->super->s_first_data_block : r->cursor;
		blk64_t s, e, last;
		errcode_t err;

		if (from > end)
			continue;
		err = ext2fs_find_first_zero_block_bitmap2(fs->block_map, from, end, &s);
		if (err == ENOENT)
			continue;
		if (err)
			return rfs_errno(err);
		last = MIN(s + want - 1, end);
		err = ext2fs_find_first_set_block_bitmap2(fs->block_map, s, last, &e);
		if (err && err != ENOENT)
			return rfs_errno(err);
		*start = s;
		*got = err == ENOENT ? last - s + 1 : e - s;
		ext2fs_block_alloc_stats_range(fs, s, *got, +1);
		r->cursor = s + *got;
		return 0;
	}
	return -ENOSPC;
}

static int write_blocks(struct rfs *r, blk64_t blk, const void *data, size_t n)
{
	const char *p = data;

	while (n) {
		size_t chunk = MIN(n, (size_t)(1 << 16));
		errcode_t e = io_channel_write_blk64(r->fs->io, blk, (int)chunk, p);

		if (e)
			return rfs_errno(e);
		blk += chunk;
		p += chunk * r->bs;
		n -= chunk;
	}
	return 0;
}

int rfs_wb_flush(struct rfs *r)
{
	int err;

	if (!r->wblocks)
		return 0;
	err = write_blocks(r, r->wstart, r->wbuf, r->wblocks);
	r->wblocks = 0;
	return err;
}

int rfs_wb_add(struct rfs *r, blk64_t blk, const void *data, size_t n)
{
	int err;

	if (r->wblocks && blk == r->wstart + r->wblocks && r->wblocks + n <= r->wcap) {
		memcpy(r->wbuf + r->wblocks * r->bs, data, n * r->bs);
		r->wblocks += n;
		return 0;
	}
	err = rfs_wb_flush(r);
	if (err)
		return err;
	if (n >= r->wcap)
		return write_blocks(r, blk, data, n);
	memcpy(r->wbuf, data, n * r->bs);
	r->wstart = blk;
	r->wblocks = n;
	return 0;
}

int rfs_fs_close(struct rfs *r)
{
	ext2_filsys fs = r->fs;
	errcode_t e;
	int err;

	err = rfs_wb_flush(r);
	if (err)
		return rfs_fail(r, err, "cannot write the image: %s", strerror(-err));
	for (dgrp_t g = 0; g < fs->group_desc_count; g++)
		ext2fs_group_desc_csum_set(fs, g);
	r->stats.used_bytes = (ext2fs_blocks_count(fs->super) -
			       ext2fs_free_blocks_count(fs->super)) * (uint64_t)r->bs;
	r->stats.files = fs->super->s_inodes_count - fs->super->s_free_inodes_count -
			 (EXT2_FIRST_INODE(fs->super) - 1);
	ext2fs_mark_super_dirty(fs);
	e = ext2fs_close_free(&r->fs);	/* writes bitmaps, descriptors, superblocks; fsyncs */
	r->fs = NULL;
	if (e)
		return rfs_fail(r, rfs_errno(e), "cannot write the image: %s", rfs_strerror(e));
	return 0;
}

void rfs_fs_abort(struct rfs *r)
{
	if (r->fs) {
		ext2fs_free(r->fs);
		r->fs = NULL;
	}
}
