/* Read-only lookups in a raw ext4 root disk with libext2fs. */
#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "images/rootfs/lookup.h"
#include "images/rootfs/rootfs-internal.h"
#include "vmm/base/error.h"

struct rootfs_lookup {
	ext2_filsys fs;
};

int rootfs_lookup_open(const char *path, struct rootfs_lookup **out, struct error *e)
{
	struct rootfs_lookup *ri = calloc(1, sizeof(*ri));
	errcode_t err;

	if (!ri)
		return err_set(e, -ENOMEM, "out of memory");
	err = ext2fs_open(path, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &ri->fs);
	if (err) {
		free(ri);
		return err_set(e, rfs_errno(err), "%s: cannot open the root disk: %s", path,
			       rfs_strerror(err));
	}
	*out = ri;
	return 0;
}

void rootfs_lookup_close(struct rootfs_lookup *ri)
{
	if (!ri)
		return;
	ext2fs_close_free(&ri->fs);
	free(ri);
}

static int resolve(struct rootfs_lookup *ri, const char *path, ext2_ino_t *ino,
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
											    : rfs_errno(err);
	}
	err = ext2fs_read_inode(ri->fs, *ino, in);
	return err ? rfs_errno(err) : 0;
}

int rootfs_lookup_stat(struct rootfs_lookup *ri, const char *path, struct rootfs_stat *st)
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

int rootfs_lookup_read(struct rootfs_lookup *ri, const char *path, size_t max, char **data,
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
