/*
 * Container image layers applied straight into an ext4 filesystem image, without
 * mounts or root: tar members are read with libarchive and written with libext2fs.
 * Nothing from a layer ever names a host path; all resolution happens inside the image.
 */
#ifndef VMM_IMAGES_ROOTFS_ROOTFS_H
#define VMM_IMAGES_ROOTFS_ROOTFS_H

#include <stddef.h>
#include <stdint.h>

struct error;

#define ROOTFS_DEFAULT_SIZE	(4ULL << 30)	/* 4 GiB virtual, sparse on the host */
#define ROOTFS_MIN_SIZE		(16ULL << 20)
#define ROOTFS_MAX_SIZE		(16ULL << 40)

struct rootfs_layer {
	const char *path;	/* blob file: a tar, plain, gzip or zstd */
	/*
	 * OCI/Docker layer media type, or NULL to sniff. A type that is not a tar layer
	 * (e.g. "...tar+bzip2" or an artifact) is refused; the compression is sniffed anyway.
	 */
	const char *media_type;
};

struct rootfs_opts {
	uint64_t size;		/* virtual size of the fs image in bytes; 0: ROOTFS_DEFAULT_SIZE */
	uint64_t inodes;	/* inode count; 0: one per 16 KiB, like mke2fs */
	/*
	 * Filesystem UUID; all zero: derived from the layer file names and the size, so
	 * the same image builds the same UUID. Also seeds the directory hash.
	 */
	uint8_t uuid[16];
	const char *label;	/* volume label (at most 16 bytes); NULL: none */
};

/* What a build did, for logs and the benchmark (may be NULL). */
struct rootfs_stats {
	uint64_t members;	/* tar members read, all layers */
	uint64_t files;		/* inodes in the finished image (excluding reserved ones) */
	uint64_t data_bytes;	/* file data written (holes excluded) */
	uint64_t used_bytes;	/* filesystem blocks in use, metadata included */
};

/*
 * Build out_path from layers[0..n) applied in order. Writes a temp file next to
 * out_path (".NAME.tmp.XXXXXX", locked while in use; stale ones from killed builds are
 * removed) and renames it into place only on success, after fsync. On failure e holds
 * one line naming the layer and the member; nothing is left behind; -errno
 * (-EINVAL bad layer, -ENOSPC image full, -ENOTSUP unsupported media type, -EIO ...).
 * opts and stats may be NULL.
 */
int rootfs_build(const struct rootfs_layer *layers, size_t n, const char *out_path,
		 const struct rootfs_opts *opts, struct rootfs_stats *stats, struct error *e);

#endif
