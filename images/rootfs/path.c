/* Member names are untrusted: classified after cleaning against the image root. */
#include <string.h>
#include <sys/stat.h>

#include "images/rootfs/path.h"

enum rootfs_kind rootfs_member_kind(const char *path, mode_t type, bool hardlink,
				    const char **name)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	/* AUFS metadata lives in top-level ".wh..wh.*" directories (docker skips them too) */
	if (!strncmp(path, WHITEOUT_META_PREFIX, strlen(WHITEOUT_META_PREFIX)) &&
	    strcmp(path, WHITEOUT_OPAQUE))
		return RF_META;
	if (!strncmp(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX))) {
		const char *rest = base + strlen(WHITEOUT_PREFIX);

		if (!strcmp(base, WHITEOUT_OPAQUE))
			return RF_OPAQUE;
		if (!strncmp(base, WHITEOUT_META_PREFIX, strlen(WHITEOUT_META_PREFIX)))
			return RF_META;
		if (!*rest || !strcmp(rest, ".") || !strcmp(rest, ".."))
			return RF_BAD;
		if (name)
			*name = rest;
		return RF_WHITEOUT;
	}
	if (hardlink)
		return RF_HARDLINK;
	switch (type & S_IFMT) {
	case S_IFREG:
	case 0:		/* old tar: a regular file */
		return RF_REG;
	case S_IFDIR: return RF_DIR;
	case S_IFLNK: return RF_SYMLINK;
	case S_IFCHR: return RF_CHR;
	case S_IFBLK: return RF_BLK;
	case S_IFIFO: return RF_FIFO;
	case S_IFSOCK: return RF_SOCK;
	default: return RF_BAD;
	}
}

const char *rootfs_kind_name(enum rootfs_kind k)
{
	static const char *const names[] = {
		[RF_REG] = "file", [RF_DIR] = "directory", [RF_SYMLINK] = "symlink",
		[RF_HARDLINK] = "hardlink", [RF_CHR] = "char device", [RF_BLK] = "block device",
		[RF_FIFO] = "fifo", [RF_SOCK] = "socket", [RF_WHITEOUT] = "whiteout",
		[RF_OPAQUE] = "opaque whiteout", [RF_META] = "aufs metadata", [RF_BAD] = "bad",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}
