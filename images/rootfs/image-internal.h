/*
 * Internals of reading ext4 images back (image.c, io.c, journal.c, reader.c) and of the
 * layer diff (diff.c, tarout.c). Everything read from an image is untrusted: the bounds
 * here keep a hostile filesystem from exhausting memory or time.
 */
#ifndef VMM_IMAGES_ROOTFS_IMAGE_INTERNAL_H
#define VMM_IMAGES_ROOTFS_IMAGE_INTERNAL_H

#include <ext2fs/ext2fs.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "images/rootfs/diff.h"
#include "images/rootfs/path.h"
#include "vmm/base/error.h"

#define RFS_MAX_DEPTH		2048		/* directory levels: as many as a 4095-byte path has */
#define RFS_MAX_EXTENTS		(1u << 20)	/* data extents of one file */
#define RFS_MAX_XATTR_BYTES	(1u << 20)	/* names and values of one inode */
#define RFS_MAX_NAME_BYTES	(256ULL << 20)	/* names held in memory at once (all levels) */
#define RFS_MAX_FILE_SIZE	((1ULL << 32) * 4096 - 4096)	/* ext4 with 4 KiB blocks */
#define RFS_MAX_APPARENT	(1ULL << 52)	/* sum of file sizes written, holes included */

/* Journal blocks to read instead of their home location (journal.c, used by io.c). */
struct rfs_jmap {
	uint64_t *key;		/* fs block + 1; 0: empty slot */
	uint64_t *val;		/* journal block, RFS_JMAP_ESCAPED set when its magic was escaped */
	size_t cap;		/* power of two */
	size_t n;
};
#define RFS_JMAP_ESCAPED	(1ULL << 63)
#define RFS_JMAP_NONE		UINT64_MAX	/* revoked: read the home location */

/* What an image's io channel reads through (io.c). */
struct rfs_io {
	struct disk *disk;
	struct rfs_jmap jmap;
	unsigned bs;		/* the jmap's block size; 0 while there is no jmap */
	char *cache;		/* direct-mapped cache of 4 KiB units */
	uint64_t *tags;		/* unit + 1 per slot; 0: empty */
	struct error err;	/* why the last read failed */
};

struct rootfs_image {
	char *name;		/* for messages */
	struct disk *disk;
	bool own_disk;
	bool replayed;
	struct rfs_io io;
	ext2_filsys fs;
	unsigned bs;
	uint64_t fs_bytes;	/* blocks_count * bs: nothing in it can hold more */
	/* bounds of one walk (rootfs_diff resets them) */
	uint64_t names_seen, names_max;
	uint64_t data_read;
};

/* image.c */
/* Record "NAME: PATH: message" in e (path sanitized for a terminal; NULL: none); returns err. */
int rfs_img_fail(struct rootfs_image *img, struct error *e, int err, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A libext2fs error in words, without registering its error table. */
const char *rfs_ext2_msg(errcode_t code);
/* libext2fs error -> -errno: corruption is -EUCLEAN. */
int rfs_ext2_errno(errcode_t code);

/* io.c */
io_manager rfs_io_manager(void);
int rfs_io_init(struct rfs_io *io, struct disk *d);
void rfs_io_free(struct rfs_io *io);
/* The device name to pass ext2fs_open2 so that it opens io (a pointer in text). */
void rfs_io_name(const struct rfs_io *io, char *buf, size_t len);
/* From now on, read the blocks of io->jmap (of bs bytes) from the journal. */
void rfs_io_use_journal(struct rfs_io *io, unsigned bs);
/* Read bytes from the disk, cached, without the journal. 0 or -errno (io->err says why). */
int rfs_io_read_raw(struct rfs_io *io, void *buf, size_t len, uint64_t off);

/* journal.c */
/* Fill img->io.jmap with the blocks of the committed transactions of an unrecovered journal. */
int rfs_journal_load(struct rootfs_image *img, struct error *e);
/* The journal block holding blk (and whether it was escaped), or false. */
bool rfs_jmap_lookup(const struct rfs_jmap *m, uint64_t blk, uint64_t *jblk, bool *escaped);
void rfs_jmap_free(struct rfs_jmap *m);

/* reader.c: one inode, as the diff needs it. */
struct rfs_stat {
	ext2_ino_t ino;
	uint32_t generation;
	mode_t mode;			/* S_IFMT | permissions */
	uint32_t uid, gid, nlink;
	uint64_t size;
	int64_t mtime, ctime;
	long mtime_ns, ctime_ns;
	uint32_t rdev_major, rdev_minor;
	struct ext2_inode_large in;
};

/* A directory's names, sorted bytewise, "." and ".." left out. */
struct rfs_name {
	const char *name;		/* not NUL-terminated within the pool: use len */
	uint16_t len;
	ext2_ino_t ino;
};
struct rfs_dir {
	struct rfs_name *v;
	size_t n, cap;
	char *pool;
	size_t used, size;
};

/* A data segment of a file: bytes [off, off + len) are stored at block pblk onwards. */
struct rfs_seg {
	uint64_t off, len;
	blk64_t pblk;
};
struct rfs_segs {
	struct rfs_seg *v;
	size_t n, cap;
	char *inline_data;		/* inline-data files: the bytes themselves */
	size_t inline_len;
};

/* Callback over an inode's xattrs (name, value). */
typedef int (*rfs_xattr_fn)(void *arg, const char *name, const void *value, size_t len);

int rfs_stat(struct rootfs_image *img, ext2_ino_t ino, const char *path, struct rfs_stat *st,
	     struct error *e);
/* Read and check a directory's names. held: bytes held by all dirs (bounded). */
int rfs_dir_read(struct rootfs_image *img, const struct rfs_stat *dir, const char *path,
		 uint64_t *held, struct rfs_dir *out, struct error *e);
void rfs_dir_free(struct rfs_dir *d, uint64_t *held);
/* A symlink's target, NUL-terminated, at most ROOTFS_PATH_MAX - 1 bytes. */
int rfs_symlink_read(struct rootfs_image *img, const struct rfs_stat *st, const char *path,
		     char *buf, struct error *e);
/* The data of a regular file: segments in order, holes and unwritten extents left out. */
int rfs_segs_read(struct rootfs_image *img, const struct rfs_stat *st, const char *path,
		  struct rfs_segs *out, struct error *e);
void rfs_segs_free(struct rfs_segs *s);
/* Read len bytes of segment s of all, at offset at into it (a multiple of the block size). */
int rfs_seg_pread(struct rootfs_image *img, const struct rfs_seg *s, const struct rfs_segs *all,
		  uint64_t at, void *buf, size_t len, const char *path, struct error *e);
int rfs_xattrs_each(struct rootfs_image *img, const struct rfs_stat *st, const char *path,
		    rfs_xattr_fn fn, void *arg, struct error *e);

/* inomap.c: a set of inode numbers, each optionally with a string. */
struct rfs_inomap {
	uint32_t *keys;		/* 0: an empty slot (no name ever points to inode 0) */
	char **vals;
	size_t cap, n;
};
/* The string of ino (NULL when none); *found says whether ino is in the set. */
const char *rfs_inomap_get(const struct rfs_inomap *m, uint32_t ino, bool *found);
/* Add ino, with a copy of val when with_vals (always the same for one map). -EEXIST, -ENOMEM. */
int rfs_inomap_add(struct rfs_inomap *m, uint32_t ino, const char *val, bool with_vals);
void rfs_inomap_free(struct rfs_inomap *m);

/* tarout.c: the layer's tar. */
struct rfs_tar;
int rfs_tar_open(int fd, struct rfs_tar **out, struct error *e);
/* Write the end of the archive; frees t. 0 or -errno with e. */
int rfs_tar_finish(struct rfs_tar *t, struct error *e);
void rfs_tar_free(struct rfs_tar *t);
/*
 * The entry for inode st of img named name (relative, no leading slash; "." for the root).
 * hardlink: write a hard link to that earlier member instead. path: for messages.
 */
int rfs_tar_entry(struct rfs_tar *t, struct rootfs_image *img, const char *name,
		  const struct rfs_stat *st, const char *hardlink, struct rootfs_diff_stats *stats,
		  struct error *e);
/* ".wh.NAME" in directory dir ("" for the root), or the opaque marker when name is NULL. */
int rfs_tar_whiteout(struct rfs_tar *t, const char *dir, const char *name, size_t len,
		     struct rootfs_diff_stats *stats, struct error *e);

#endif
