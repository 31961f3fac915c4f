/*
 * Reading ext4 root disks back: an image opened read-only with libext2fs through our own
 * disk code (raw, or qcow2 with its backing chain), and the layer that turns a parent
 * filesystem into a child one, computed from the two images without mounting or unpacking
 * anything on the host.
 *
 * Everything on a child disk may come from a hostile guest: names, sizes, extents and
 * directory structure are bounded and checked, and a corrupt structure is one error
 * naming the disk and the path ("disk.qcow2: /etc/x: corrupt directory (...)").
 */
#ifndef VMM_IMAGES_ROOTFS_DIFF_H
#define VMM_IMAGES_ROOTFS_DIFF_H

#include <stdbool.h>
#include <stdint.h>

struct disk;
struct disk_open_opts;
struct error;

/* An ext4 filesystem opened read-only. Not thread-safe: one user at a time. */
struct rootfs_image;

/*
 * Open the filesystem on the disk image at path (raw or qcow2, opts as disk_open's; it is
 * always opened read-only). A journal left with committed transactions (a guest that was
 * killed) is replayed in memory: the image reads as the guest's kernel would mount it,
 * and nothing is written. 0, or -errno with e naming the image.
 */
int rootfs_image_open(const char *path, const struct disk_open_opts *opts,
		      struct rootfs_image **out, struct error *e);
/* The same over an open disk, which stays the caller's (it must outlive the image). */
int rootfs_image_open_disk(struct disk *d, const char *name, struct rootfs_image **out,
			   struct error *e);
void rootfs_image_close(struct rootfs_image *img);
/* Whether opening replayed journal transactions in memory. */
bool rootfs_image_replayed(const struct rootfs_image *img);

/* docker diff's kinds. */
enum rootfs_change {
	ROOTFS_CHANGE_MODIFIED = 'C',
	ROOTFS_CHANGE_ADDED = 'A',
	ROOTFS_CHANGE_DELETED = 'D',
};

/* One change, as docker diff lists it: path is absolute ("/etc/passwd"). Nonzero stops the diff. */
typedef int (*rootfs_change_fn)(void *arg, enum rootfs_change kind, const char *path);

struct rootfs_diff_stats {
	uint64_t entries;	/* tar members written (whiteouts and opaque markers included) */
	uint64_t whiteouts;	/* .wh.NAME members */
	uint64_t opaque;	/* .wh..wh..opq members */
	uint64_t data_bytes;	/* file data written (holes excluded) */
	uint64_t changes;	/* changes reported */
};

/*
 * What changed in child relative to parent, walking both trees by name (lost+found at
 * the root is left out on both sides):
 *
 * - out_fd >= 0: an uncompressed pax tar layer is written there. Applied over parent it
 *   gives child exactly: added and changed entries with their metadata (mode with
 *   setuid/setgid/sticky, numeric owners, mtime, xattrs as SCHILY.xattr, symlink targets,
 *   device numbers, fifos; sparse files stay sparse), a second name of an inode written in
 *   this tar as a hard link to the first, deleted names as ".wh.NAME", and a directory
 *   that was removed and made again as itself, ".wh..wh..opq" and all of its contents.
 *   Unchanged inodes (same inode, generation, ctime, mtime, size, mode and owners, which
 *   is what an overlay or an in-place copy leaves) are not written. Sockets are skipped.
 * - on_change: docker diff's list, in the same order (names sorted bytewise within a
 *   directory, a directory before its contents): A added, D deleted (only the top of a
 *   deleted tree), C changed, including the directories on the way to any change. As in
 *   docker's, a directory whose times alone changed is not listed (its tar entry is
 *   written), and neither is a name whose link count alone went down (rm of another name).
 *
 * parent NULL: the whole tree of child (vmm export), everything added.
 * 0, or -errno with e: -EUCLEAN (a corrupt or hostile structure: e names the disk and
 * the path), -EIO, -ENOMEM, -EFBIG (beyond a bound), a write error on out_fd, or what
 * on_change returned. stats may be NULL.
 */
int rootfs_diff(struct rootfs_image *parent, struct rootfs_image *child, int out_fd,
		rootfs_change_fn on_change, void *arg, struct rootfs_diff_stats *stats,
		struct error *e);

/*
 * rootfs_diff with flags. ROOTFS_DIFF_NO_MOUNT_STUBS: an empty /etc/hostname, /etc/hosts
 * or /etc/resolv.conf the child added is left out of the list and the tar. The guest
 * agent makes them, where an image has none, to bind-mount the container's own over
 * them: as docker keeps them in its init layer, its diff and commit never show them.
 */
#define ROOTFS_DIFF_NO_MOUNT_STUBS	1u
int rootfs_diff_flags(struct rootfs_image *parent, struct rootfs_image *child, int out_fd,
		      rootfs_change_fn on_change, void *arg, struct rootfs_diff_stats *stats,
		      unsigned flags, struct error *e);

#endif
