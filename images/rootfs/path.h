/* Layer member names: classification (cleaning is vmm/base/path.h, in clamp mode). */
#ifndef VMM_IMAGES_ROOTFS_PATH_H
#define VMM_IMAGES_ROOTFS_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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
 * Classify a member by its cleaned path, tar file type (S_IFREG, ... or 0) and whether it
 * is a hard link. For whiteouts *name gets the whited-out name (points into path).
 */
enum rootfs_kind rootfs_member_kind(const char *path, mode_t type, bool hardlink,
				    const char **name);

const char *rootfs_kind_name(enum rootfs_kind k);

#endif
