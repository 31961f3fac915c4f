/*
 * A libext2fs io manager over our own disk code, so a container's qcow2 overlay (with its
 * backing chain) is read in place. Read-only. Small reads go through a direct-mapped cache
 * of 4 KiB units; blocks that an unrecovered journal holds newer copies of are read from
 * the journal instead (journal.c fills the map).
 *
 * libext2fs opens a channel by name: the name carries the address of the struct rfs_io,
 * which lives as long as the image (no global state).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/disk/disk.h"
#include "images/rootfs/image-internal.h"
#include "vmm/base/util.h"

#define UNIT		4096u
/* smaller in a fuzzing build, as WBUF_BYTES in fs.c */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CACHE_SLOTS	16u		/* 64 KiB */
#define CACHED_MAX	(32u * 1024)	/* tarout.c's 64 KiB chunks still bypass it */
#else
#define CACHE_SLOTS	256u		/* 1 MiB */
#define CACHED_MAX	(64u * 1024)	/* bigger reads (file data) bypass the cache */
#endif
#define NAME_PREFIX	"vmm-rootfs:"

int rfs_io_init(struct rfs_io *io, struct disk *d)
{
	memset(io, 0, sizeof(*io));
	io->disk = d;
	io->cache = malloc((size_t)CACHE_SLOTS * UNIT);
	io->tags = calloc(CACHE_SLOTS, sizeof(*io->tags));
	if (!io->cache || !io->tags) {
		rfs_io_free(io);
		return -ENOMEM;
	}
	return 0;
}

void rfs_io_free(struct rfs_io *io)
{
	free(io->cache);
	free(io->tags);
	rfs_jmap_free(&io->jmap);
	io->cache = NULL;
	io->tags = NULL;
}

void rfs_io_name(const struct rfs_io *io, char *buf, size_t len)
{
	snprintf(buf, len, NAME_PREFIX "%p", (const void *)io);
}

void rfs_io_use_journal(struct rfs_io *io, unsigned bs)
{
	io->bs = bs;
	memset(io->tags, 0, CACHE_SLOTS * sizeof(*io->tags));
}

static int disk_fail(struct rfs_io *io, int ret, uint64_t off, size_t len)
{
	if (err_is_set(&io->disk->err))
		return err_copy(&io->err, &io->disk->err, ret);
	return err_sys(&io->err, ret, "read of %zu bytes at %llu", len, (unsigned long long)off);
}

static int read_unit(struct rfs_io *io, uint64_t unit, const char **out)
{
	size_t slot = unit % CACHE_SLOTS;
	char *p = io->cache + slot * UNIT;
	uint64_t off = unit * UNIT;
	size_t len;
	int ret;

	if (io->tags[slot] == unit + 1) {
		*out = p;
		return 0;
	}
	len = (size_t)MIN((uint64_t)UNIT, io->disk->size - off);	/* a disk may end mid-unit */
	io->tags[slot] = 0;
	ret = disk_read(io->disk, p, len, off);
	if (ret)
		return disk_fail(io, ret, off, len);
	memset(p + len, 0, UNIT - len);
	io->tags[slot] = unit + 1;
	*out = p;
	return 0;
}

int rfs_io_read_raw(struct rfs_io *io, void *buf, size_t len, uint64_t off)
{
	char *dst = buf;
	int ret;

	err_clear(&io->err);
	if (off > io->disk->size || len > io->disk->size - off)
		return err_set(&io->err, -EIO, "read of %zu bytes at %llu, beyond the end of the "
			       "disk (%llu bytes)", len, (unsigned long long)off,
			       (unsigned long long)io->disk->size);
	if (len > CACHED_MAX) {
		ret = disk_read(io->disk, buf, len, off);
		return ret ? disk_fail(io, ret, off, len) : 0;
	}
	while (len) {
		uint64_t unit = off / UNIT;
		size_t in = off % UNIT, n = MIN(len, (size_t)(UNIT - in));
		const char *p = NULL;

		ret = read_unit(io, unit, &p);
		if (ret)
			return ret;
		memcpy(dst, p + in, n);
		dst += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* Blocks the journal holds newer copies of replace what was read from their home. */
static int overlay_journal(struct rfs_io *io, char *buf, size_t len, uint64_t off)
{
	uint64_t bs = io->bs, first = off / bs, last = (off + len - 1) / bs;
	char *tmp = NULL;
	int ret = 0;

	for (uint64_t b = first; b <= last && !ret; b++) {
		uint64_t jblk, bstart = b * bs, from, to;
		bool escaped;

		if (!rfs_jmap_lookup(&io->jmap, b, &jblk, &escaped))
			continue;
		if (!tmp && !(tmp = malloc(bs)))
			return err_set(&io->err, -ENOMEM, "out of memory");
		ret = rfs_io_read_raw(io, tmp, bs, jblk * bs);
		if (ret)
			break;
		if (escaped) {		/* the log zeroed a leading journal magic */
			static const unsigned char magic[4] = { 0xc0, 0x3b, 0x39, 0x98 };

			memcpy(tmp, magic, sizeof(magic));
		}
		from = MAX(bstart, off);
		to = MIN(bstart + bs, off + len);
		memcpy(buf + (from - off), tmp + (from - bstart), to - from);
	}
	free(tmp);
	return ret;
}

static errcode_t to_errcode(int ret)
{
	return ret == -EIO || ret == -EINVAL ? EXT2_ET_SHORT_READ : (errcode_t)-ret;
}

static errcode_t io_read_blk64(io_channel ch, unsigned long long block, int count, void *data)
{
	struct rfs_io *io = ch->private_data;
	uint64_t size = count < 0 ? (uint64_t)-(int64_t)count : (uint64_t)count * ch->block_size;
	uint64_t off;
	int ret;

	if (!size)
		return 0;
	if (block > UINT64_MAX / ch->block_size || size > SIZE_MAX)
		return EXT2_ET_SHORT_READ;
	off = block * ch->block_size;
	ret = rfs_io_read_raw(io, data, (size_t)size, off);
	if (!ret && io->bs && io->jmap.n)
		ret = overlay_journal(io, data, (size_t)size, off);
	return ret ? to_errcode(ret) : 0;
}

static errcode_t io_read_blk(io_channel ch, unsigned long block, int count, void *data)
{
	return io_read_blk64(ch, block, count, data);
}

static errcode_t io_write_blk64(io_channel ch, unsigned long long block, int count,
				const void *data)
{
	return EXT2_ET_RO_FILSYS;
}

static errcode_t io_write_blk(io_channel ch, unsigned long block, int count, const void *data)
{
	return EXT2_ET_RO_FILSYS;
}

static errcode_t io_write_byte(io_channel ch, unsigned long offset, int count, const void *data)
{
	return EXT2_ET_RO_FILSYS;
}

static errcode_t io_set_blksize(io_channel ch, int blksize)
{
	if (blksize < 512 || blksize > 65536)
		return EXT2_ET_INVALID_ARGUMENT;
	ch->block_size = blksize;
	return 0;
}

static errcode_t io_flush(io_channel ch)
{
	return 0;
}

static errcode_t io_set_option(io_channel ch, const char *option, const char *arg)
{
	return EXT2_ET_INVALID_ARGUMENT;
}

static errcode_t io_close(io_channel ch)
{
	if (--ch->refcount > 0)
		return 0;
	free(ch->name);
	free(ch);
	return 0;
}

static errcode_t io_open(const char *name, int flags, io_channel *out)
{
	void *p = NULL;
	io_channel ch;

	if (flags & IO_FLAG_RW)
		return EXT2_ET_RO_FILSYS;
	if (!name || strncmp(name, NAME_PREFIX, strlen(NAME_PREFIX)) ||
	    sscanf(name + strlen(NAME_PREFIX), "%p", &p) != 1 || !p)
		return EXT2_ET_BAD_DEVICE_NAME;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return EXT2_ET_NO_MEMORY;
	ch->name = strdup(name);
	if (!ch->name) {
		free(ch);
		return EXT2_ET_NO_MEMORY;
	}
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = rfs_io_manager();
	ch->block_size = 1024;
	ch->refcount = 1;
	ch->private_data = p;
	*out = ch;
	return 0;
}

static const struct struct_io_manager manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "vmm disk (read-only)",
	.open = io_open,
	.close = io_close,
	.set_blksize = io_set_blksize,
	.read_blk = io_read_blk,
	.write_blk = io_write_blk,
	.flush = io_flush,
	.write_byte = io_write_byte,
	.set_option = io_set_option,
	.read_blk64 = io_read_blk64,
	.write_blk64 = io_write_blk64,
};

io_manager rfs_io_manager(void)
{
	/* libext2fs takes a non-const pointer; it never writes through it */
	return (io_manager)&manager;
}
