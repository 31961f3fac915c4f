/*
 * Minimal tar (ustar, with pax and GNU long names) for `vmm cp`: header
 * writing and parsing, and the path rule that keeps extraction inside its
 * destination. Only libc: unit tests build it on the host.
 */
#ifndef VMM_GUEST_AGENT_TAR_H
#define VMM_GUEST_AGENT_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define TAR_BLOCK	512
#define TAR_PATH_MAX	4096
#define TAR_LONG_MAX	(64 * 1024)	/* pax / GNU long-name data we accept */
#define TAR_HEADER_MAX	(3 * TAR_BLOCK + 2 * TAR_PATH_MAX + 64)

struct tar_entry {
	char type;		/* '0' file, '1' hard link, '2' symlink, '3'/'4' devices, '5' dir, '6' fifo,
				   'x' pax, 'g' global pax, 'L'/'K' GNU long name/link, others */
	char name[TAR_PATH_MAX];
	char link[TAR_PATH_MAX];
	uint32_t mode;
	uint32_t uid, gid;
	uint64_t size;
	int64_t mtime;
	uint32_t devmajor, devminor;
};

/*
 * The header block(s) for one entry (a pax header first when a name does
 * not fit ustar): bytes written to out (cap >= TAR_HEADER_MAX), or 0 when
 * the entry cannot be stored (sockets).
 */
size_t tar_header(uint8_t *out, size_t cap, const char *name, const struct stat *st, const char *link);

/*
 * Parse one header block. 1: *e filled; 0: an all-zero block; -EINVAL: a
 * bad checksum or number. Names come from the block (prefix/name).
 */
int tar_parse(const uint8_t blk[TAR_BLOCK], struct tar_entry *e);
/* pax records "LEN key=value\n": apply path= and linkpath= to name/link. -EINVAL if malformed. */
int tar_pax(const char *data, size_t len, char *name, char *link);
/* Fill the checksum field of a header block (after editing it). */
void tar_checksum(uint8_t b[TAR_BLOCK]);
/* Padding after size data bytes. */
static inline uint32_t tar_pad(uint64_t size)
{
	return (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
}

#endif
