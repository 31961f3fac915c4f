/*
 * Internals of the rootfs builder, shared by its files only.
 *
 * The namespace of the image lives in memory while layers are applied (struct rfs_node,
 * one per name, hashed by parent and name); file contents, symlinks, devices and every
 * inode are written to the image as members arrive, and directories are written once,
 * at the end, with an htree index when they span more than one block.
 */
#ifndef VMM_IMAGES_ROOTFS_ROOTFS_INTERNAL_H
#define VMM_IMAGES_ROOTFS_ROOTFS_INTERNAL_H

#include <ext2fs/ext2fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "images/rootfs/rootfs.h"
#include "vmm/base/error.h"

struct rfs_node {
	struct rfs_node *parent;
	struct rfs_node *child;		/* first child (directories) */
	struct rfs_node *next, *prev;	/* siblings */
	struct rfs_node *hnext;		/* hash chain */
	uint32_t hash;
	char *target;			/* symlinks: the link text, to resolve paths in memory */
	ext2_ino_t ino;
	mode_t mode;			/* S_IFMT | permissions */
	int stamp;			/* last layer with a member at or below this name */
	uint16_t namelen;
	char name[];
};

struct rfs_tree {
	struct rfs_node *root;
	struct rfs_node **buckets;
	size_t nbuckets;		/* power of two */
	size_t count;
	size_t max;			/* bound on names: hostile layers cannot exhaust memory */
};

struct rfs_extent {
	blk64_t lblk, pblk;
	uint32_t len;
};

struct rfs_extents {
	struct rfs_extent *v;
	size_t n, cap;
};

/* Metadata of one member, as the inode should carry it. */
struct rfs_meta {
	mode_t mode;			/* S_IFMT | permissions incl. setuid/setgid/sticky */
	uint32_t uid, gid;
	int64_t atime, mtime, ctime;
	long atime_ns, mtime_ns, ctime_ns;
	uint32_t rdev_major, rdev_minor;
};

struct rfs {
	ext2_filsys fs;
	unsigned bs;			/* block size */
	struct rfs_tree tree;
	blk64_t cursor;			/* where the data allocator looks next */
	/* pending contiguous data write, flushed when the next run is elsewhere */
	char *wbuf;
	blk64_t wstart;
	size_t wblocks, wcap;
	char *tail;			/* partial block of the file being written */
	struct rfs_extents ext;		/* extents of the file being written */
	char *pathbuf;			/* symlink expansion while resolving paths */
	size_t pathbuf_len;
	int layer;			/* index of the layer being applied */
	const char *layer_name;
	const char *member;		/* member being applied, for messages */
	struct error *e;		/* the first failure, naming layer and member */
	bool failed;			/* e holds it */
	struct rootfs_stats stats;
};

/* Record the failure (the first one counts), naming layer and member; returns err. */
int rfs_fail(struct rfs *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Map a libext2fs error code to -errno. */
int rfs_errno(errcode_t e);
const char *rfs_strerror(errcode_t e);

/* fs.c: the filesystem, block allocation and batched data writes. */
int rfs_fs_create(struct rfs *r, const char *path, const struct rootfs_opts *o,
		  const uint8_t uuid[16]);
int rfs_fs_close(struct rfs *r);	/* flush, write metadata, fsync */
void rfs_fs_abort(struct rfs *r);
int rfs_alloc(struct rfs *r, blk64_t want, blk64_t *start, blk64_t *got);
int rfs_wb_add(struct rfs *r, blk64_t blk, const void *data, size_t nblocks);
int rfs_wb_flush(struct rfs *r);

/* inode.c: inodes, file data, extents, xattrs. */
int rfs_inode_alloc(struct rfs *r, bool dir, ext2_ino_t *ino);
void rfs_inode_fill(struct rfs *r, struct ext2_inode_large *in, const struct rfs_meta *m);
int rfs_inode_write(struct rfs *r, ext2_ino_t ino, struct ext2_inode_large *in);
int rfs_inode_read(struct rfs *r, ext2_ino_t ino, struct ext2_inode_large *in);
void rfs_data_begin(struct rfs *r);
int rfs_data_feed(struct rfs *r, uint64_t *pos, uint64_t off, const void *buf, size_t len);
int rfs_data_end(struct rfs *r, uint64_t *pos, ext2_ino_t ino, struct ext2_inode_large *in);
int rfs_extents_add(struct rfs *r, blk64_t lblk, blk64_t pblk, blk64_t len);
int rfs_extents_store(struct rfs *r, ext2_ino_t ino, struct ext2_inode_large *in);
int rfs_xattr_set(struct rfs *r, ext2_ino_t ino, const char *name, const void *val,
		  size_t len);
int rfs_xattr_clear(struct rfs *r, ext2_ino_t ino);
/* Drop one name of ino; frees blocks, xattrs and the inode with the last one. */
int rfs_inode_unlink(struct rfs *r, ext2_ino_t ino, bool dir);

/* tree.c: the in-memory namespace. */
int rfs_tree_init(struct rfs *r);
void rfs_tree_free(struct rfs *r);
struct rfs_node *rfs_tree_lookup(struct rfs *r, struct rfs_node *dir, const char *name,
				 size_t len);
int rfs_tree_add(struct rfs *r, struct rfs_node *dir, const char *name, size_t len,
		 mode_t mode, ext2_ino_t ino, struct rfs_node **out);
/* Make an empty directory inode (0755 root unless meta says otherwise) and its name. */
int rfs_tree_mkdir(struct rfs *r, struct rfs_node *dir, const char *name, size_t len,
		   const struct rfs_meta *meta, struct rfs_node **out);
/* Remove n and everything below it, releasing inodes. */
int rfs_tree_remove(struct rfs *r, struct rfs_node *n);
/* Remove everything below dir not stamped with layer (an opaque directory). */
int rfs_tree_prune(struct rfs *r, struct rfs_node *dir, int layer);
void rfs_tree_stamp(struct rfs_node *n, int layer);
/*
 * Resolve a cleaned path to a directory, following symlinks inside the image (at most
 * 40, ".." stays at the root). create: missing directories are made (0755, root) with
 * meta's times. Returns 0, -ENOENT (missing, !create), -ENOTDIR, -ELOOP, -ENAMETOOLONG.
 */
int rfs_tree_resolve_dir(struct rfs *r, const char *path, bool create,
			 const struct rfs_meta *meta, struct rfs_node **out);

/* dir.c: write every directory's blocks, with htree indexes for big ones. */
int rfs_dirs_write(struct rfs *r);

/* layer.c: read one layer blob and apply its members. */
int rfs_layer_apply(struct rfs *r, const struct rootfs_layer *l);

#endif
