/*
 * Replaying an ext4 journal (jbd2) in memory. A guest killed without unmounting leaves
 * committed transactions whose blocks may not have reached their home locations yet; the
 * kernel replays them at the next mount. We read the log the same way, without writing:
 * the blocks of every transaction with a commit record, minus revoked ones, become a map
 * from home block to log block that the io channel reads through.
 *
 * The log is read from s_start with s_sequence: descriptor blocks (tags naming the home
 * block of each following log block), revoke blocks, commit blocks; the first block that
 * is not the next one of the sequence ends it. A block revoked by a transaction is not
 * replayed from that transaction or an earlier one (the kernel's rule).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "images/rootfs/image-internal.h"
#include "vmm/base/util.h"

#define JBD2_MAGIC		0xc03b3998u
#define JB_DESCRIPTOR		1
#define JB_COMMIT		2
#define JB_SUPER_V1		3
#define JB_SUPER_V2		4
#define JB_REVOKE		5

#define JF_REVOKE		0x01	/* incompat features */
#define JF_64BIT		0x02
#define JF_ASYNC_COMMIT		0x04
#define JF_CSUM_V2		0x08
#define JF_CSUM_V3		0x10
#define JF_KNOWN		(JF_REVOKE | JF_64BIT | JF_ASYNC_COMMIT | JF_CSUM_V2 | JF_CSUM_V3)

#define TAG_ESCAPE		0x1
#define TAG_SAME_UUID		0x2
#define TAG_LAST		0x8

#define MAX_LOG_BLOCKS		(1u << 24)

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- the map: open addressing on home block numbers --------------------------------- */

static size_t slot_of(const struct rfs_jmap *m, uint64_t blk)
{
	return (size_t)((blk * 0x9e3779b97f4a7c15ULL) >> 17) & (m->cap - 1);
}

static int jmap_grow(struct rfs_jmap *m)
{
	struct rfs_jmap n = { .cap = m->cap ? m->cap * 2 : 1024 };

	n.key = calloc(n.cap, sizeof(*n.key));
	n.val = calloc(n.cap, sizeof(*n.val));
	if (!n.key || !n.val) {
		rfs_jmap_free(&n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		size_t s;

		if (!m->key[i])
			continue;
		for (s = slot_of(&n, m->key[i] - 1); n.key[s]; s = (s + 1) & (n.cap - 1))
			;
		n.key[s] = m->key[i];
		n.val[s] = m->val[i];
		n.n++;
	}
	rfs_jmap_free(m);
	*m = n;
	return 0;
}

static size_t jmap_find(const struct rfs_jmap *m, uint64_t blk)
{
	size_t s;

	for (s = slot_of(m, blk); m->key[s]; s = (s + 1) & (m->cap - 1))
		if (m->key[s] == blk + 1)
			return s;
	return s;	/* the empty slot where it would go */
}

static int jmap_put(struct rfs_jmap *m, uint64_t blk, uint64_t val)
{
	size_t s;

	if ((m->n + 1) * 2 > m->cap) {
		int ret = jmap_grow(m);

		if (ret)
			return ret;
	}
	s = jmap_find(m, blk);
	if (!m->key[s]) {
		m->key[s] = blk + 1;
		m->n++;
	}
	m->val[s] = val;
	return 0;
}

static void jmap_revoke(struct rfs_jmap *m, uint64_t blk)
{
	size_t s;

	if (!m->cap)
		return;
	s = jmap_find(m, blk);
	if (m->key[s])
		m->val[s] = RFS_JMAP_NONE;
}

bool rfs_jmap_lookup(const struct rfs_jmap *m, uint64_t blk, uint64_t *jblk, bool *escaped)
{
	size_t s;

	if (!m->n)
		return false;
	s = jmap_find(m, blk);
	if (!m->key[s] || m->val[s] == RFS_JMAP_NONE)
		return false;
	*jblk = m->val[s] & ~RFS_JMAP_ESCAPED;
	*escaped = m->val[s] & RFS_JMAP_ESCAPED;
	return true;
}

void rfs_jmap_free(struct rfs_jmap *m)
{
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof(*m));
}

/* ---- the log ------------------------------------------------------------------------ */

struct tag {
	uint64_t home, log;	/* log: the fs block holding the copy */
	bool escaped;
};

struct journal {
	struct rootfs_image *img;
	struct error *e;
	struct ext2_inode_large inode;
	ext2_ino_t ino;
	unsigned char *buf;
	uint32_t bs, first, maxlen, incompat;
	size_t tag_bytes, tail;
	struct tag *tags;	/* the open transaction's blocks */
	size_t ntags, tags_cap;
	uint64_t *revoked;	/* and the blocks it revokes */
	size_t nrevoked, revoked_cap;
};

static int jfail(struct journal *j, int err, const char *fmt, const char *detail)
{
	return rfs_img_fail(j->img, j->e, err, NULL, "journal: %s%s%s", fmt,
			    detail ? ": " : "", detail ? detail : "");
}

/* The fs block holding log block lblk. */
static int log_block(struct journal *j, uint32_t lblk, uint64_t *pblk)
{
	ext2_filsys fs = j->img->fs;
	blk64_t p = 0;
	errcode_t err = ext2fs_bmap2(fs, j->ino, (struct ext2_inode *)&j->inode, NULL, 0, lblk,
				     NULL, &p);

	if (err)
		return jfail(j, rfs_ext2_errno(err), "cannot map the journal",
			     rfs_ext2_msg(err));
	if (p < fs->super->s_first_data_block || p >= ext2fs_blocks_count(fs->super))
		return jfail(j, -EUCLEAN, "a journal block lies outside the filesystem", NULL);
	*pblk = p;
	return 0;
}

static int read_log(struct journal *j, uint32_t lblk, uint64_t *pblk)
{
	uint64_t p;
	int ret = log_block(j, lblk, &p);

	if (ret)
		return ret;
	ret = rfs_io_read_raw(&j->img->io, j->buf, j->bs, p * j->bs);
	if (ret)
		return jfail(j, ret, "cannot read the journal", j->img->io.err.msg);
	if (pblk)
		*pblk = p;
	return 0;
}

static uint32_t next_pos(const struct journal *j, uint32_t pos)
{
	return pos + 1 >= j->maxlen ? j->first : pos + 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A commit record: the open transaction's blocks become readable, its revokes apply. */
static int commit(struct journal *j)
{
	struct rfs_jmap *m = &j->img->io.jmap;

	if (j->nrevoked > 1)
		qsort(j->revoked, j->nrevoked, sizeof(*j->revoked), cmp_u64);
	for (size_t i = 0; i < j->nrevoked; i++)
		jmap_revoke(m, j->revoked[i]);
	for (size_t i = 0; i < j->ntags; i++) {
		const struct tag *t = &j->tags[i];
		int ret;

		if (j->nrevoked &&
		    bsearch(&t->home, j->revoked, j->nrevoked, sizeof(*j->revoked), cmp_u64))
			continue;
		ret = jmap_put(m, t->home, t->log | (t->escaped ? RFS_JMAP_ESCAPED : 0));
		if (ret)
			return jfail(j, ret, "out of memory", NULL);
	}
	j->ntags = j->nrevoked = 0;
	return 0;
}

static int add_tag(struct journal *j, uint64_t home, uint64_t log, bool escaped)
{
	if (home < j->img->fs->super->s_first_data_block ||
	    home >= ext2fs_blocks_count(j->img->fs->super))
		return jfail(j, -EUCLEAN, "a logged block lies outside the filesystem", NULL);
	if (j->ntags == j->tags_cap) {
		size_t cap = j->tags_cap ? j->tags_cap * 2 : 256;
		struct tag *v = realloc(j->tags, cap * sizeof(*v));

		if (!v)
			return jfail(j, -ENOMEM, "out of memory", NULL);
		j->tags = v;
		j->tags_cap = cap;
	}
	j->tags[j->ntags++] = (struct tag){ home, log, escaped };
	return 0;
}

static int add_revoke(struct journal *j, uint64_t blk)
{
	if (j->nrevoked == j->revoked_cap) {
		size_t cap = j->revoked_cap ? j->revoked_cap * 2 : 256;
		uint64_t *v = realloc(j->revoked, cap * sizeof(*v));

		if (!v)
			return jfail(j, -ENOMEM, "out of memory", NULL);
		j->revoked = v;
		j->revoked_cap = cap;
	}
	j->revoked[j->nrevoked++] = blk;
	return 0;
}

/* The tags of the descriptor block in j->buf at log position *pos; moves *pos past its data. */
static int descriptor(struct journal *j, uint32_t *pos, uint32_t *scanned)
{
	size_t off = 12, end = j->bs - j->tail;
	int ret = 0;

	while (off + j->tag_bytes <= end && !ret) {
		const unsigned char *t = j->buf + off;
		uint64_t home = be32(t), log;
		uint32_t flags = j->incompat & JF_CSUM_V3 ? be32(t + 4) : (uint32_t)t[6] << 8 | t[7];

		if (j->incompat & JF_64BIT)
			home |= (uint64_t)be32(t + 8) << 32;
		off += j->tag_bytes;
		if (!(flags & TAG_SAME_UUID))
			off += 16;
		*pos = next_pos(j, *pos);
		if (++*scanned > j->maxlen)
			break;
		ret = log_block(j, *pos, &log);	/* maps only: j->buf stays */
		if (!ret)
			ret = add_tag(j, home, log, flags & TAG_ESCAPE);
		if (flags & TAG_LAST)
			break;
	}
	*pos = next_pos(j, *pos);
	++*scanned;
	return ret;
}

static int revoke(struct journal *j)
{
	uint32_t count = be32(j->buf + 12);
	size_t rsize = j->incompat & JF_64BIT ? 8 : 4;
	int ret = 0;

	if (count < 16 || count > j->bs - j->tail)
		return jfail(j, -EUCLEAN, "corrupt revoke block", NULL);
	for (size_t off = 16; off + rsize <= count && !ret; off += rsize) {
		uint64_t blk = be32(j->buf + off);

		if (rsize == 8)
			blk = blk << 32 | be32(j->buf + off + 4);
		ret = add_revoke(j, blk);
	}
	return ret;
}

static int scan(struct journal *j, uint32_t start, uint32_t seq)
{
	uint32_t pos = start, scanned = 0;
	int ret = 0;

	while (scanned < j->maxlen && !ret) {
		ret = read_log(j, pos, NULL);
		if (ret)
			break;
		if (be32(j->buf) != JBD2_MAGIC || be32(j->buf + 8) != seq)
			break;		/* the end of the log */
		switch (be32(j->buf + 4)) {
		case JB_DESCRIPTOR:
			ret = descriptor(j, &pos, &scanned);
			continue;
		case JB_COMMIT:
			ret = commit(j);
			seq++;
			break;
		case JB_REVOKE:
			ret = revoke(j);
			break;
		default:
			return 0;	/* not a log block: the end, as for the kernel */
		}
		pos = next_pos(j, pos);
		scanned++;
	}
	return ret;
}

static int journal_super(struct journal *j, uint32_t *start, uint32_t *seq)
{
	uint32_t type, blocks;
	int ret;

	ret = read_log(j, 0, NULL);
	if (ret)
		return ret;
	type = be32(j->buf + 4);
	if (be32(j->buf) != JBD2_MAGIC || (type != JB_SUPER_V1 && type != JB_SUPER_V2))
		return jfail(j, -EUCLEAN, "bad journal superblock", NULL);
	blocks = (uint32_t)(EXT2_I_SIZE(&j->inode) / j->bs);
	j->maxlen = be32(j->buf + 16);
	j->first = be32(j->buf + 20);
	*seq = be32(j->buf + 24);
	*start = be32(j->buf + 28);
	j->incompat = type == JB_SUPER_V2 ? be32(j->buf + 40) : 0;
	if (be32(j->buf + 12) != j->bs || j->maxlen > blocks || j->first < 1 ||
	    j->first >= j->maxlen)
		return jfail(j, -EUCLEAN, "corrupt journal superblock", NULL);
	if (*start && (*start < j->first || *start >= j->maxlen))
		return jfail(j, -EUCLEAN, "corrupt journal superblock (log start)", NULL);
	if (*start && (j->incompat & ~JF_KNOWN))
		return jfail(j, -ENOTSUP, "it needs recovery and uses features we cannot replay "
			     "(fast commits?): start and stop the container once to recover it",
			     NULL);
	if (j->incompat & JF_CSUM_V3) {
		j->tag_bytes = 16;
	} else {
		j->tag_bytes = 8 + (j->incompat & JF_CSUM_V2 ? 2 : 0) +
			       (j->incompat & JF_64BIT ? 4 : 0);
	}
	j->tail = j->incompat & (JF_CSUM_V2 | JF_CSUM_V3) ? 4 : 0;
	return 0;
}

int rfs_journal_load(struct rootfs_image *img, struct error *e)
{
	ext2_filsys fs = img->fs;
	struct journal j = { .img = img, .e = e, .bs = fs->blocksize };
	uint32_t start = 0, seq = 0;
	errcode_t err;
	int ret;

	if (!ext2fs_has_feature_journal(fs->super) ||
	    !ext2fs_has_feature_journal_needs_recovery(fs->super))
		return 0;
	j.ino = fs->super->s_journal_inum;
	if (!j.ino)
		return jfail(&j, -ENOTSUP, "the filesystem needs recovery from an external "
			     "journal, which cannot be read here", NULL);
	if (j.ino > fs->super->s_inodes_count)
		return jfail(&j, -EUCLEAN, "bad journal inode", NULL);
	err = ext2fs_read_inode_full(fs, j.ino, (struct ext2_inode *)&j.inode, sizeof(j.inode));
	if (err)
		return jfail(&j, rfs_ext2_errno(err), "cannot read the journal inode",
			     rfs_ext2_msg(err));
	if (!LINUX_S_ISREG(j.inode.i_mode) || EXT2_I_SIZE(&j.inode) / j.bs < 1024 ||
	    EXT2_I_SIZE(&j.inode) / j.bs > MAX_LOG_BLOCKS)
		return jfail(&j, -EUCLEAN, "bad journal inode", NULL);
	j.buf = malloc(j.bs);
	if (!j.buf)
		return jfail(&j, -ENOMEM, "out of memory", NULL);
	ret = journal_super(&j, &start, &seq);
	if (!ret && start)
		ret = scan(&j, start, seq);
	if (ret)
		rfs_jmap_free(&img->io.jmap);
	free(j.buf);
	free(j.tags);
	free(j.revoked);
	return ret;
}
