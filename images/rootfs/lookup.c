/* Lookups in a root disk opened read-only (diff.h's rootfs_image). */
#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "images/rootfs/image-internal.h"
#include "images/rootfs/lookup.h"

static int resolve(struct rootfs_image *ri, const char *path, ext2_ino_t *ino,
		   struct ext2_inode *in)
{
	errcode_t err;

	while (*path == '/')
		path++;
	if (!*path) {
		*ino = EXT2_ROOT_INO;
	} else {
		err = ext2fs_namei_follow(ri->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, ino);
		if (err)
			return err == EXT2_ET_FILE_NOT_FOUND || err == EXT2_ET_NO_DIRECTORY ? -ENOENT
											    : rfs_ext2_errno(err);
	}
	err = ext2fs_read_inode(ri->fs, *ino, in);
	return err ? rfs_ext2_errno(err) : 0;
}

int rootfs_image_stat(struct rootfs_image *ri, const char *path, struct rootfs_stat *st)
{
	struct ext2_inode in;
	ext2_ino_t ino;
	int ret = resolve(ri, path, &ino, &in);

	if (ret)
		return ret;
	st->mode = in.i_mode;
	st->uid = inode_uid(in);
	st->gid = inode_gid(in);
	st->size = EXT2_I_SIZE(&in);
	return 0;
}

int rootfs_image_read(struct rootfs_image *ri, const char *path, size_t max, char **data,
		      size_t *len)
{
	struct ext2_inode in;
	ext2_file_t f;
	ext2_ino_t ino;
	unsigned int got;
	uint64_t size;
	char *buf;
	int ret = resolve(ri, path, &ino, &in);

	if (ret)
		return ret;
	if (!LINUX_S_ISREG(in.i_mode))
		return -EINVAL;
	size = EXT2_I_SIZE(&in);
	if (size > max)
		return -EFBIG;
	if (!(buf = malloc(size + 1)))
		return -ENOMEM;
	if (ext2fs_file_open(ri->fs, ino, 0, &f)) {
		free(buf);
		return -EIO;
	}
	ret = ext2fs_file_read(f, buf, (unsigned int)size, &got) || got != size ? -EIO : 0;
	ext2fs_file_close(f);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[size] = '\0';
	*data = buf;
	*len = size;
	return 0;
}
