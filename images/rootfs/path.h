/* Layer member names: lexical cleaning inside the image root and member classification. */
#ifndef VMM_IMAGES_ROOTFS_PATH_H
#define VMM_IMAGES_ROOTFS_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ROOTFS_NAME_MAX		255	/* ext4 directory entry name limit */
#define ROOTFS_PATH_MAX		4096	/* longest member path or link target, NUL included */

#define WHITEOUT_PREFIX		".wh."
#define WHITEOUT_META_PREFIX	".wh..wh."
#define WHITEOUT_OPAQUE		".wh..wh..opq"

enum rootfs_kind {
	RF_REG,
	RF_DIR,
	RF_SYMLINK,
	RF_HARDLINK,
	RF_CHR,
	RF_BLK,
	RF_FIFO,
	RF_SOCK,	/* skipped: a socket cannot be meaningfully restored */
	RF_WHITEOUT,	/* ".wh.NAME": remove NAME from the lower layers */
	RF_OPAQUE,	/* ".wh..wh..opq": hide the lower layers' contents of this directory */
	RF_META,	/* other ".wh..wh." names (AUFS metadata): skipped */
	RF_BAD,		/* unusable: ".wh." alone, ".wh..", unknown file type */
};

/*
 * Clean a member path lexically, as if chrooted into the image: leading "/" dropped,
 * "//" and "." collapsed, ".." removes the previous component and stays at the root.
 * The result has no leading or trailing slash; "" is the root itself.
 * Returns 0, -ENAMETOOLONG (out too small, or a component longer than 255 bytes).
 */
int rootfs_path_clean(const char *in, char *out, size_t outlen);

/*
 * Classify a member by its cleaned path, tar file type (S_IFREG, ... or 0) and whether it
 * is a hard link. For whiteouts *name gets the whited-out name (points into path).
 */
enum rootfs_kind rootfs_member_kind(const char *path, mode_t type, bool hardlink,
				    const char **name);

/* Split a cleaned path in place into parent ("" for the root) and last component. */
void rootfs_path_split(char *path, const char **dir, const char **base);

const char *rootfs_kind_name(enum rootfs_kind k);

#endif
