/*
 * An ext4 image opened read-only: our disk code below libext2fs (io.c), a superblock
 * checked against the disk before libext2fs sizes anything from it, and an unrecovered
 * journal replayed in memory (journal.c) by opening the filesystem a second time through
 * the journal's newer blocks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <et/com_err.h>

#include "images/disk/disk.h"
#include "images/rootfs/image-internal.h"
#include "vmm/base/util.h"

const char *rfs_ext2_msg(errcode_t code)
{
	const struct error_table *t = &et_ext2_error_table;

	if (code >= t->base && code < t->base + t->n_msgs)
		return t->msgs[code - t->base];
	if (code > 0 && code < 4096)
		return strerror((int)code);
	return error_message(code);
}

int rfs_ext2_errno(errcode_t code)
{
	switch (code) {
	case 0:
		return 0;
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	case EXT2_ET_SHORT_READ:
		return -EIO;
	default:
		if (code > 0 && code < 4096)
			return -(int)code;
		return -EUCLEAN;	/* everything else libext2fs reports is a bad structure */
	}
}

int rfs_img_fail(struct rootfs_image *img, struct error *e, int err, const char *path,
		 const char *fmt, ...)
{
	char msg[ERR_MSG_MAX], where[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	str_sanitize(msg, true);	/* names in it come from the image */
	if (!path)
		return err_set(e, err, "%s: %s", img->name, msg);
	snprintf(where, sizeof(where), "%s%s", *path ? "" : "/", path);
	str_sanitize(where, true);
	return err_set(e, err, "%s: %s%s: %s", img->name, where,
		       strlen(path) >= sizeof(where) - 1 ? "..." : "", msg);
}

/* The primary superblock, checked against the disk before libext2fs trusts it. */
static int check_super(struct rootfs_image *img, struct error *e)
{
	struct ext2_super_block sb;
	uint64_t blocks, bytes;
	int ret;

	if (img->disk->size < 2048 + sizeof(sb))
		return rfs_img_fail(img, e, -EUCLEAN, NULL, "too small for an ext4 filesystem "
				    "(%llu bytes)", (unsigned long long)img->disk->size);
	ret = rfs_io_read_raw(&img->io, &sb, sizeof(sb), 1024);
	if (ret)
		return rfs_img_fail(img, e, ret, NULL, "cannot read the superblock: %s",
				    img->io.err.msg);
	if (sb.s_magic != EXT2_SUPER_MAGIC)
		return rfs_img_fail(img, e, -EUCLEAN, NULL, "no ext4 filesystem (bad superblock "
				    "magic 0x%04x)", sb.s_magic);
	if (sb.s_log_block_size > 6)
		return rfs_img_fail(img, e, -EUCLEAN, NULL, "corrupt superblock: block size 2^%u",
				    sb.s_log_block_size + 10);
	blocks = sb.s_blocks_count;
	if (ext2fs_has_feature_64bit(&sb))
		blocks |= (uint64_t)sb.s_blocks_count_hi << 32;
	bytes = blocks << (sb.s_log_block_size + 10);
	if (!blocks || bytes >> (sb.s_log_block_size + 10) != blocks || bytes > img->disk->size)
		return rfs_img_fail(img, e, -EUCLEAN, NULL, "corrupt superblock: %llu blocks of "
				    "%u bytes do not fit the disk (%llu bytes)",
				    (unsigned long long)blocks, 1024u << sb.s_log_block_size,
				    (unsigned long long)img->disk->size);
	return 0;
}

static int fs_open(struct rootfs_image *img, struct error *e)
{
	char dev[64];
	ext2_filsys fs;
	errcode_t err;

	rfs_io_name(&img->io, dev, sizeof(dev));
	err = ext2fs_open2(dev, NULL, EXT2_FLAG_64BITS, 0, 0, rfs_io_manager(), &fs);
	if (err)
		return rfs_img_fail(img, e, rfs_ext2_errno(err), NULL, "cannot open the ext4 "
				    "filesystem: %s%s%s", rfs_ext2_msg(err),
				    err_is_set(&img->io.err) ? ": " : "", img->io.err.msg);
	img->fs = fs;
	img->bs = fs->blocksize;
	img->fs_bytes = ext2fs_blocks_count(fs->super) * (uint64_t)fs->blocksize;
	if (img->fs_bytes > img->disk->size)
		return rfs_img_fail(img, e, -EUCLEAN, NULL, "corrupt superblock: the filesystem "
				    "(%llu bytes) is larger than the disk",
				    (unsigned long long)img->fs_bytes);
	if (fs->super->s_inodes_count < EXT2_FIRST_INODE(fs->super) ||
	    EXT2_FIRST_INODE(fs->super) <= EXT2_ROOT_INO)
		return rfs_img_fail(img, e, -EUCLEAN, NULL, "corrupt superblock: %u inodes, the "
				    "first at %u", fs->super->s_inodes_count,
				    EXT2_FIRST_INODE(fs->super));
	return 0;
}

int rootfs_image_open_disk(struct disk *d, const char *name, struct rootfs_image **out,
			   struct error *e)
{
	struct rootfs_image *img = calloc(1, sizeof(*img));
	int ret;

	*out = NULL;
	if (!img || !(img->name = strdup(name)) || rfs_io_init(&img->io, d)) {
		if (img)
			free(img->name);
		free(img);
		return err_set(e, -ENOMEM, "out of memory");
	}
	img->disk = d;
	ret = check_super(img, e);
	if (!ret)
		ret = fs_open(img, e);
	if (!ret)
		ret = rfs_journal_load(img, e);
	if (!ret && img->io.jmap.n) {
		/* read everything again, the journal's copies first: superblock included */
		ext2fs_close_free(&img->fs);
		rfs_io_use_journal(&img->io, img->bs);
		img->replayed = true;
		ret = fs_open(img, e);
	}
	if (ret) {
		rootfs_image_close(img);
		return ret;
	}
	*out = img;
	return 0;
}

int rootfs_image_open(const char *path, const struct disk_open_opts *opts,
		      struct rootfs_image **out, struct error *e)
{
	struct disk_open_opts o = { .format = DISK_FMT_AUTO };
	struct disk *d;
	int ret;

	if (opts)
		o = *opts;
	o.read_only = true;
	ret = disk_open(path, &o, &d, e);
	if (ret)
		return ret;
	ret = rootfs_image_open_disk(d, path, out, e);
	if (ret) {
		disk_close(d);
		return ret;
	}
	(*out)->own_disk = true;
	return 0;
}

void rootfs_image_close(struct rootfs_image *img)
{
	if (!img)
		return;
	if (img->fs)
		ext2fs_close_free(&img->fs);
	rfs_io_free(&img->io);
	if (img->own_disk)
		disk_close(img->disk);
	free(img->name);
	free(img);
}

bool rootfs_image_replayed(const struct rootfs_image *img)
{
	return img->replayed;
}
