/*
 * The image's namespace while layers are applied: names hashed by (parent, name), so
 * lookups and inserts are O(1) however big a directory grows, and whiteouts, opaque
 * directories and replacements are plain list operations. No recursion: a hostile layer
 * can nest directories as deep as it likes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "images/rootfs/rootfs-internal.h"
#include "images/rootfs/path.h"
#include "vmm/base/path.h"
#include "vmm/base/util.h"

#define MAX_SYMLINKS	40	/* like Linux's MAXSYMLINKS */

static uint32_t name_hash(const struct rfs_node *dir, const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ ((uintptr_t)dir * 0x9e3779b97f4a7c15ULL);

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static struct rfs_node *node_new(const char *name, size_t len, mode_t mode, ext2_ino_t ino)
{
	struct rfs_node *n = calloc(1, sizeof(*n) + len + 1);

	if (!n)
		return NULL;
	memcpy(n->name, name, len);
	n->namelen = (uint16_t)len;
	n->mode = mode;
	n->ino = ino;
	return n;
}

int rfs_tree_init(struct rfs *r)
{
	struct rfs_tree *t = &r->tree;
	uint64_t inodes = r->fs->super->s_inodes_count;

	t->nbuckets = 1024;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	/* names beyond inodes can only be hard links; bound them too */
	t->max = inodes * 4 + 65536;
	r->pathbuf_len = (MAX_SYMLINKS + 2) * (size_t)ROOTFS_PATH_MAX;
	r->pathbuf = malloc(r->pathbuf_len);
	t->root = node_new("", 0, S_IFDIR | 0755, EXT2_ROOT_INO);
	if (!t->buckets || !t->root || !r->pathbuf)
		return -ENOMEM;
	return 0;
}

void rfs_tree_free(struct rfs *r)
{
	struct rfs_tree *t = &r->tree;

	for (size_t i = 0; i < t->nbuckets && t->buckets; i++) {
		struct rfs_node *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->hnext;
			free(n->target);
			free(n);
		}
	}
	if (t->root) {
		free(t->root->target);
		free(t->root);
	}
	free(t->buckets);
	free(r->pathbuf);
	memset(t, 0, sizeof(*t));
	r->pathbuf = NULL;
}

struct rfs_node *rfs_tree_lookup(struct rfs *r, struct rfs_node *dir, const char *name,
				 size_t len)
{
	struct rfs_tree *t = &r->tree;
	uint32_t h = name_hash(dir, name, len);

	for (struct rfs_node *n = t->buckets[h & (t->nbuckets - 1)]; n; n = n->hnext)
		if (n->hash == h && n->parent == dir && n->namelen == len &&
		    !memcmp(n->name, name, len))
			return n;
	return NULL;
}

static void grow(struct rfs_tree *t)
{
	size_t nb = t->nbuckets * 2;
	struct rfs_node **b = calloc(nb, sizeof(*b));

	if (!b)
		return;		/* keep the old table: slower, still correct */
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct rfs_node *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->hnext;
			n->hnext = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

int rfs_tree_add(struct rfs *r, struct rfs_node *dir, const char *name, size_t len,
		 mode_t mode, ext2_ino_t ino, struct rfs_node **out)
{
	struct rfs_tree *t = &r->tree;
	struct rfs_node *n;
	size_t b;

	if (t->count >= t->max)
		return rfs_fail(r, -ENOSPC, "too many names (%zu) for an image of %u inodes",
				t->count, r->fs->super->s_inodes_count);
	n = node_new(name, len, mode, ino);
	if (!n)
		return -ENOMEM;
	n->parent = dir;
	n->stamp = r->layer;
	n->next = dir->child;
	if (dir->child)
		dir->child->prev = n;
	dir->child = n;
	n->hash = name_hash(dir, name, len);
	if (t->count >= t->nbuckets)
		grow(t);
	b = n->hash & (t->nbuckets - 1);
	n->hnext = t->buckets[b];
	t->buckets[b] = n;
	t->count++;
	*out = n;
	return 0;
}

int rfs_tree_mkdir(struct rfs *r, struct rfs_node *dir, const char *name, size_t len,
		   const struct rfs_meta *meta, struct rfs_node **out)
{
	struct rfs_meta m = *meta;
	struct ext2_inode_large in;
	ext2_ino_t ino;
	int err;

	err = rfs_inode_alloc(r, true, &ino);
	if (err)
		return err;
	rfs_inode_fill(r, &in, &m);
	in.i_flags |= EXT4_EXTENTS_FL;
	in.i_links_count = 2;
	err = rfs_inode_write(r, ino, &in);
	if (!err)
		err = rfs_tree_add(r, dir, name, len, m.mode, ino, out);
	return err;
}

static void detach(struct rfs *r, struct rfs_node *n)
{
	struct rfs_tree *t = &r->tree;
	struct rfs_node **pp = &t->buckets[n->hash & (t->nbuckets - 1)];

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	if (n->prev)
		n->prev->next = n->next;
	else
		n->parent->child = n->next;
	if (n->next)
		n->next->prev = n->prev;
	t->count--;
}

int rfs_tree_remove(struct rfs *r, struct rfs_node *top)
{
	struct rfs_node *cur = top;

	for (;;) {
		struct rfs_node *p;
		bool done;
		int err;

		while (S_ISDIR(cur->mode) && cur->child)
			cur = cur->child;
		p = cur->parent;
		done = cur == top;
		err = rfs_inode_unlink(r, cur->ino, S_ISDIR(cur->mode));
		if (err)
			return rfs_fail(r, err, "cannot remove %s: %s", cur->name, strerror(-err));
		detach(r, cur);
		free(cur->target);
		free(cur);
		if (done)
			return 0;
		cur = p;
	}
}

int rfs_tree_prune(struct rfs *r, struct rfs_node *dir, int layer)
{
	struct rfs_node *p = dir, *c = dir->child;

	for (;;) {
		if (!c) {
			if (p == dir)
				return 0;
			c = p->next;
			p = p->parent;
			continue;
		}
		if (c->stamp < layer) {
			struct rfs_node *next = c->next;
			int err = rfs_tree_remove(r, c);

			if (err)
				return err;
			c = next;
			continue;
		}
		if (S_ISDIR(c->mode)) {
			p = c;
			c = c->child;
			continue;
		}
		c = c->next;
	}
}

void rfs_tree_stamp(struct rfs_node *n, int layer)
{
	for (; n && n->stamp != layer; n = n->parent)
		n->stamp = layer;
}

int rfs_tree_resolve_dir(struct rfs *r, const char *path, bool create,
			 const struct rfs_meta *meta, struct rfs_node **out)
{
	char *end = r->pathbuf + r->pathbuf_len, *rem;
	struct rfs_node *cur = r->tree.root;
	size_t plen = strlen(path);
	int hops = 0;

	if (plen >= ROOTFS_PATH_MAX)
		return -ENAMETOOLONG;
	/* the remaining path sits at the end of the buffer so symlinks prepend cheaply */
	rem = end - plen;
	memcpy(rem, path, plen);
	while (rem < end) {
		char *c = rem;
		size_t n;
		struct rfs_node *child;

		while (c < end && *c == '/')
			c++;
		n = 0;
		while (c + n < end && c[n] != '/')
			n++;
		rem = c + n;
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (cur->parent)
				cur = cur->parent;
			continue;
		}
		if (n > PATH_NAME_MAX)
			return -ENAMETOOLONG;
		child = rfs_tree_lookup(r, cur, c, n);
		if (!child) {
			struct rfs_meta m = *meta;
			int err;

			if (!create)
				return -ENOENT;
			m.mode = S_IFDIR | 0755;
			m.uid = m.gid = 0;
			err = rfs_tree_mkdir(r, cur, c, n, &m, &child);
			if (err)
				return err;
		}
		if (S_ISLNK(child->mode)) {
			size_t tlen = strlen(child->target);

			if (++hops > MAX_SYMLINKS)
				return -ELOOP;
			if ((size_t)(rem - r->pathbuf) < tlen + 1)
				return -ENAMETOOLONG;
			*--rem = '/';
			rem -= tlen;
			memcpy(rem, child->target, tlen);
			if (child->target[0] == '/')
				cur = r->tree.root;
			continue;
		}
		if (!S_ISDIR(child->mode))
			return -ENOTDIR;
		cur = child;
	}
	*out = cur;
	return 0;
}
