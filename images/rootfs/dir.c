/*
 * Directories are written once, after the last layer: a single block when the entries
 * fit, else an htree (dir_index) laid out as e2fsck -D would, so lookups in big
 * directories are fast in the guest. Blocks are contiguous and checksummed here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "images/rootfs/rootfs-internal.h"
#include "vmm/base/util.h"

struct dent {
	const char *name;
	uint32_t len;
	uint32_t ino;
	uint32_t hash, minor;
	uint8_t ftype;
};

struct dirbuf {
	struct dent *v;
	size_t cap;
	char *blocks;
	size_t blocks_cap;	/* in blocks */
};

#define REC_LEN(namelen)	(((namelen) + 8 + 3) & ~3U)

static uint8_t ftype(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return EXT2_FT_REG_FILE;
	case S_IFDIR: return EXT2_FT_DIR;
	case S_IFCHR: return EXT2_FT_CHRDEV;
	case S_IFBLK: return EXT2_FT_BLKDEV;
	case S_IFIFO: return EXT2_FT_FIFO;
	case S_IFSOCK: return EXT2_FT_SOCK;
	case S_IFLNK: return EXT2_FT_SYMLINK;
	default: return EXT2_FT_UNKNOWN;
	}
}

static struct ext2_dir_entry_2 *put(char *at, uint32_t ino, uint32_t rec, const char *name,
				    uint32_t len, uint8_t type)
{
	struct ext2_dir_entry_2 *de = (struct ext2_dir_entry_2 *)at;

	de->inode = ino;
	de->rec_len = (uint16_t)rec;
	de->name_len = (uint8_t)len;
	de->file_type = type;
	memcpy(de->name, name, len);
	return de;
}

static int cmp_hash(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->minor != y->minor)
		return x->minor < y->minor ? -1 : 1;
	return 0;
}

static int grow_blocks(struct dirbuf *db, size_t nblocks, unsigned bs)
{
	if (nblocks > db->blocks_cap) {
		size_t cap = MAX(nblocks, db->blocks_cap * 2);
		char *b = realloc(db->blocks, cap * bs);

		if (!b)
			return -ENOMEM;
		db->blocks = b;
		db->blocks_cap = cap;
	}
	memset(db->blocks, 0, nblocks * bs);
	return 0;
}

/* Pack sorted entries into leaves from block `first`; returns the leaf count. */
static size_t pack_leaves(struct dirbuf *db, size_t n, size_t first, unsigned bs,
			  unsigned cap, uint32_t *leafhash)
{
	size_t leaf = 0, used = 0;
	struct ext2_dir_entry_2 *last = NULL;

	for (size_t i = 0; i < n; i++) {
		struct dent *d = &db->v[i];
		uint32_t rec = REC_LEN(d->len);

		if (!last || used + rec > cap) {
			if (last) {
				last->rec_len += cap - used;
				leaf++;
			}
			used = 0;
			leafhash[leaf] = d->hash;
			if (leaf && i && db->v[i - 1].hash == d->hash)
				leafhash[leaf] |= 1;	/* collision continues from the previous leaf */
		}
		last = put(db->blocks + (first + leaf) * bs + used, d->ino, rec, d->name, d->len,
			   d->ftype);
		used += rec;
	}
	if (last)
		last->rec_len += cap - used;
	return last ? leaf + 1 : 0;
}

static size_t leaves_needed(struct dirbuf *db, size_t n, unsigned cap)
{
	size_t leaves = 0, used = cap;

	for (size_t i = 0; i < n; i++) {
		uint32_t rec = REC_LEN(db->v[i].len);

		if (used + rec > cap) {
			leaves++;
			used = 0;
		}
		used += rec;
	}
	return leaves;
}

static void put_index(char *at, unsigned limit, size_t count, uint32_t first_block,
		      const uint32_t *hashes, const uint32_t *blocks)
{
	struct ext2_dx_countlimit *cl = (struct ext2_dx_countlimit *)at;
	struct ext2_dx_entry *e = (struct ext2_dx_entry *)at;

	cl->limit = (uint16_t)limit;
	cl->count = (uint16_t)count;
	e[0].block = first_block;
	for (size_t i = 1; i < count; i++) {
		e[i].hash = hashes[i];
		e[i].block = blocks[i];
	}
}

/* Lay out an htree directory in db->blocks; returns the block count or -errno. */
static long build_htree(struct rfs *r, struct dirbuf *db, size_t n, ext2_ino_t ino,
			ext2_ino_t parent, size_t *first_leaf)
{
	ext2_filsys fs = r->fs;
	unsigned bs = r->bs, csum = ext2fs_has_feature_metadata_csum(fs->super) ? 1 : 0;
	unsigned leafcap = bs - (csum ? sizeof(struct ext2_dir_entry_tail) : 0);
	unsigned root_limit = (bs - 32) / 8 - csum, node_limit = (bs - 8) / 8 - csum;
	int alg = fs->super->s_def_hash_version;
	size_t nleaves, nnodes = 0, per = 0, total;
	uint32_t *lhash = NULL, *lblock = NULL, *nhash = NULL, *nblock = NULL;
	struct ext2_dx_root_info *info;
	long ret;

	if (alg <= EXT2_HASH_TEA && (fs->super->s_flags & EXT2_FLAGS_UNSIGNED_HASH))
		alg += 3;
	for (size_t i = 0; i < n; i++) {
		errcode_t e = ext2fs_dirhash(alg, db->v[i].name, (int)db->v[i].len,
					     fs->super->s_hash_seed, &db->v[i].hash,
					     &db->v[i].minor);
		if (e)
			return rfs_errno(e);
	}
	qsort(db->v, n, sizeof(*db->v), cmp_hash);
	nleaves = leaves_needed(db, n, leafcap);
	if (nleaves > root_limit) {
		nnodes = (nleaves + node_limit - 1) / node_limit;
		if (nnodes > root_limit)
			return -EFBIG;
		per = (nleaves + nnodes - 1) / nnodes;
	}
	total = 1 + nnodes + nleaves;
	lhash = calloc(nleaves + 1, sizeof(*lhash));
	lblock = calloc(nleaves + 1, sizeof(*lblock));
	nhash = calloc(nnodes + 1, sizeof(*nhash));
	nblock = calloc(nnodes + 1, sizeof(*nblock));
	ret = -ENOMEM;
	if (!lhash || !lblock || !nhash || !nblock || grow_blocks(db, total, bs))
		goto out;
	if (pack_leaves(db, n, 1 + nnodes, bs, leafcap, lhash) != nleaves) {
		ret = -EIO;
		goto out;
	}
	for (size_t i = 0; i < nleaves; i++)
		lblock[i] = (uint32_t)(1 + nnodes + i);

	/* root: "." and ".." then the dx root info and the first index level */
	put(db->blocks, ino, 12, ".", 1, EXT2_FT_DIR);
	put(db->blocks + 12, parent, bs - 12, "..", 2, EXT2_FT_DIR);
	info = (struct ext2_dx_root_info *)(db->blocks + 24);
	info->hash_version = fs->super->s_def_hash_version;
	info->info_length = 8;
	info->indirect_levels = nnodes ? 1 : 0;
	if (!nnodes) {
		put_index(db->blocks + 32, root_limit, nleaves, lblock[0], lhash, lblock);
	} else {
		for (size_t j = 0; j < nnodes; j++) {
			size_t from = j * per, cnt = MIN(per, nleaves - from);
			struct ext2_dir_entry *fake;
			char *blk = db->blocks + (1 + j) * bs;

			/* an index node looks like one empty entry spanning the block */
			fake = (struct ext2_dir_entry *)blk;
			fake->inode = 0;
			fake->rec_len = (uint16_t)bs;
			put_index(blk + 8, node_limit, cnt, lblock[from], lhash + from,
				  lblock + from);
			nhash[j] = lhash[from];
			nblock[j] = (uint32_t)(1 + j);
		}
		put_index(db->blocks + 32, root_limit, nnodes, nblock[0], nhash, nblock);
	}
	*first_leaf = 1 + nnodes;
	ret = (long)total;
out:
	free(lhash);
	free(lblock);
	free(nhash);
	free(nblock);
	return ret;
}

static long build_linear(struct rfs *r, struct dirbuf *db, size_t n, ext2_ino_t ino,
			 ext2_ino_t parent, size_t *first_leaf)
{
	unsigned bs = r->bs;
	unsigned cap = bs - (ext2fs_has_feature_metadata_csum(r->fs->super) ?
			     sizeof(struct ext2_dir_entry_tail) : 0);
	struct ext2_dir_entry_2 *last;
	unsigned used = 24;

	if (grow_blocks(db, 1, bs))
		return -ENOMEM;
	put(db->blocks, ino, 12, ".", 1, EXT2_FT_DIR);
	last = put(db->blocks + 12, parent, 12, "..", 2, EXT2_FT_DIR);
	for (size_t i = 0; i < n; i++) {
		uint32_t rec = REC_LEN(db->v[i].len);

		last = put(db->blocks + used, db->v[i].ino, rec, db->v[i].name, db->v[i].len,
			   db->v[i].ftype);
		used += rec;
	}
	last->rec_len += cap - used;
	*first_leaf = 0;
	return 1;
}

static int write_dir(struct rfs *r, struct dirbuf *db, struct rfs_node *d)
{
	ext2_filsys fs = r->fs;
	unsigned bs = r->bs, csum = ext2fs_has_feature_metadata_csum(fs->super);
	size_t n = 0, subdirs = 0, bytes = 24;
	ext2_ino_t parent = d->parent ? d->parent->ino : d->ino;
	struct ext2_inode_large in;
	size_t first_leaf = 0;
	long nblocks;
	bool htree;
	int err;

	for (struct rfs_node *c = d->child; c; c = c->next) {
		if (n == db->cap) {
			size_t cap = db->cap ? db->cap * 2 : 256;
			struct dent *v = realloc(db->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			db->v = v;
			db->cap = cap;
		}
		db->v[n++] = (struct dent){ .name = c->name, .len = c->namelen, .ino = c->ino,
					    .ftype = ftype(c->mode) };
		bytes += REC_LEN(c->namelen);
		if (S_ISDIR(c->mode))
			subdirs++;
	}
	htree = bytes > bs - (csum ? sizeof(struct ext2_dir_entry_tail) : 0);
	nblocks = htree ? build_htree(r, db, n, d->ino, parent, &first_leaf) :
			  build_linear(r, db, n, d->ino, parent, &first_leaf);
	if (nblocks < 0)
		return (int)nblocks;
	for (long i = 0; csum && i < nblocks; i++) {
		char *blk = db->blocks + i * bs;
		errcode_t e;

		if ((size_t)i >= first_leaf)
			ext2fs_initialize_dirent_tail(fs, EXT2_DIRENT_TAIL(blk, bs));
		e = ext2fs_dir_block_csum_set(fs, d->ino, (struct ext2_dir_entry *)blk);
		if (e)
			return rfs_errno(e);
	}

	rfs_data_begin(r);
	for (long l = 0; l < nblocks;) {
		blk64_t p, got;

		err = rfs_alloc(r, nblocks - l, &p, &got);
		if (!err)
			err = rfs_wb_add(r, p, db->blocks + l * bs, got);
		if (!err)
			err = rfs_extents_add(r, l, p, got);
		if (err)
			return err;
		l += got;
	}
	err = rfs_inode_read(r, d->ino, &in);
	if (err)
		return err;
	in.i_size = (uint32_t)(nblocks * bs);
	in.i_size_high = 0;
	/* with dir_nlink, 1 means "too many subdirectories to count" */
	in.i_links_count = subdirs + 2 > EXT2_LINK_MAX ? 1 : (uint16_t)(subdirs + 2);
	if (htree)
		in.i_flags |= EXT2_INDEX_FL;
	return rfs_extents_store(r, d->ino, &in);
}

int rfs_dirs_write(struct rfs *r)
{
	struct rfs_tree *t = &r->tree;
	struct dirbuf db = { 0 };
	int err;

	err = write_dir(r, &db, t->root);
	for (size_t b = 0; !err && b < t->nbuckets; b++)
		for (struct rfs_node *n = t->buckets[b]; n && !err; n = n->hnext)
			if (S_ISDIR(n->mode))
				err = write_dir(r, &db, n);
	free(db.v);
	free(db.blocks);
	if (err == -EFBIG)
		return rfs_fail(r, err, "a directory has too many entries for an htree index");
	if (err)
		return rfs_fail(r, err, "cannot write directories: %s", strerror(-err));
	return 0;
}
