/*
 * Write-back cache of cluster-sized qcow2 tables (L2 tables, refcount blocks):
 * a hash of host offsets plus an LRU list. Entries are allocated lazily, so a
 * large cache costs memory only for tables actually touched. Evicting a dirty
 * entry calls the cache's evict_dirty hook, which knows the write ordering.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "images/disk/qcow2-internal.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"

static uint32_t hash_off(const struct qcow2_cache *c, uint64_t off)
{
	uint64_t h = (off >> 9) * 0x9e3779b97f4a7c15ULL;

	return (uint32_t)(h >> 32) & c->hmask;
}

int qcow2_cache_init(struct qcow2_cache *c, const char *name, uint32_t nb,
		     int (*evict_dirty)(struct qcow2 *, struct qcow2_cache *))
{
	uint32_t hsize = 16;

	memset(c, 0, sizeof(*c));
	while (hsize < 2 * nb)
		hsize <<= 1;
	c->name = name;
	c->nb = nb;
	c->hmask = hsize - 1;
	c->head = c->tail = -1;
	c->evict_dirty = evict_dirty;
	c->e = calloc(nb, sizeof(*c->e));
	c->hash = malloc(hsize * sizeof(*c->hash));
	if (!c->e || !c->hash) {
		qcow2_cache_destroy(c);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < hsize; i++)
		c->hash[i] = -1;
	return 0;
}

void qcow2_cache_destroy(struct qcow2_cache *c)
{
	if (c->e)
		for (uint32_t i = 0; i < c->used; i++)
			free(c->e[i].data);
	free(c->e);
	free(c->hash);
	c->e = NULL;
	c->hash = NULL;
	c->used = 0;
}

static void lru_unlink(struct qcow2_cache *c, int32_t i)
{
	struct qcow2_cache_entry *e = &c->e[i];

	if (e->prev >= 0)
		c->e[e->prev].next = e->next;
	else
		c->head = e->next;
	if (e->next >= 0)
		c->e[e->next].prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = -1;
}

static void lru_push_front(struct qcow2_cache *c, int32_t i)
{
	struct qcow2_cache_entry *e = &c->e[i];

	e->prev = -1;
	e->next = c->head;
	if (c->head >= 0)
		c->e[c->head].prev = i;
	c->head = i;
	if (c->tail < 0)
		c->tail = i;
}

static void lru_push_back(struct qcow2_cache *c, int32_t i)
{
	struct qcow2_cache_entry *e = &c->e[i];

	e->next = -1;
	e->prev = c->tail;
	if (c->tail >= 0)
		c->e[c->tail].next = i;
	c->tail = i;
	if (c->head < 0)
		c->head = i;
}

static void hash_remove(struct qcow2_cache *c, int32_t i)
{
	int32_t *p = &c->hash[hash_off(c, c->e[i].offset)];

	while (*p >= 0) {
		if (*p == i) {
			*p = c->e[i].hnext;
			return;
		}
		p = &c->e[*p].hnext;
	}
}

static int32_t find(struct qcow2_cache *c, uint64_t off)
{
	for (int32_t i = c->hash[hash_off(c, off)]; i >= 0; i = c->e[i].hnext)
		if (c->e[i].offset == off)
			return i;
	return -1;
}

/* A slot to (re)use: a never-used one, else the least recently used. */
static int get_slot(struct qcow2 *s, struct qcow2_cache *c, int32_t *out)
{
	int32_t i;
	int ret;

	if (c->used < c->nb) {
		i = c->used;
		c->e[i].data = malloc(s->cluster_size);
		if (!c->e[i].data)
			return -ENOMEM;
		c->used++;
		c->e[i].prev = c->e[i].next = -1;
		*out = i;
		return 0;
	}
	i = c->tail;
	if (c->e[i].dirty) {
		ret = c->evict_dirty(s, c);
		if (ret)
			return ret;
		/* The hook may have reordered nothing; the tail is clean now. */
		i = c->tail;
		if (c->e[i].dirty)
			return -EIO;
	}
	lru_unlink(c, i);
	if (c->e[i].offset)
		hash_remove(c, i);
	c->e[i].offset = 0;
	*out = i;
	return 0;
}

int qcow2_cache_get(struct qcow2 *s, struct qcow2_cache *c, uint64_t off, bool fresh,
		    struct qcow2_cache_entry **out)
{
	int32_t i = find(c, off);
	uint32_t h;
	int ret;

	if (i >= 0) {
		if (c->head != i) {
			lru_unlink(c, i);
			lru_push_front(c, i);
		}
		if (fresh)
			memset(c->e[i].data, 0, s->cluster_size);
		*out = &c->e[i];
		return 0;
	}
	ret = get_slot(s, c, &i);
	if (ret)
		return ret;
	if (fresh) {
		memset(c->e[i].data, 0, s->cluster_size);
	} else {
		ret = pread_zero(s->fd, c->e[i].data, s->cluster_size, off);
		if (ret) {
			err_set(&s->disk.err, ret, "%s: reading %s table at %#llx: %s", s->disk.path, c->name,
				(unsigned long long)off, strerror(-ret));
			c->e[i].offset = 0;
			lru_push_back(c, i);	/* reused first */
			return ret;
		}
	}
	c->e[i].offset = off;
	c->e[i].dirty = false;
	h = hash_off(c, off);
	c->e[i].hnext = c->hash[h];
	c->hash[h] = i;
	lru_push_front(c, i);
	*out = &c->e[i];
	return 0;
}

void qcow2_cache_mark_dirty(struct qcow2_cache *c, struct qcow2_cache_entry *e)
{
	if (!e->dirty) {
		e->dirty = true;
		c->nb_dirty++;
	}
}

int qcow2_cache_write_dirty(struct qcow2 *s, struct qcow2_cache *c)
{
	int ret;

	if (!c->nb_dirty)
		return 0;
	for (uint32_t i = 0; i < c->used; i++) {
		struct qcow2_cache_entry *e = &c->e[i];

		if (!e->dirty || !e->offset)
			continue;
		ret = pwrite_full(s->fd, e->data, s->cluster_size, e->offset);
		if (ret)
			return err_set(&s->disk.err, ret, "%s: writing %s table at %#llx: %s", s->disk.path, c->name,
				       (unsigned long long)e->offset, strerror(-ret));
		if (e->offset + s->cluster_size > s->file_size)
			s->file_size = e->offset + s->cluster_size;
		e->dirty = false;
		c->nb_dirty--;
	}
	return 0;
}

void qcow2_cache_drop(struct qcow2_cache *c, uint64_t off)
{
	int32_t i = find(c, off);

	if (i < 0)
		return;
	hash_remove(c, i);
	if (c->e[i].dirty)
		c->nb_dirty--;
	c->e[i].dirty = false;
	c->e[i].offset = 0;
	lru_unlink(c, i);
	lru_push_back(c, i);	/* reused first */
}

void qcow2_cache_drop_all(struct qcow2_cache *c)
{
	for (uint32_t i = 0; i < c->used; i++)
		if (c->e[i].offset)
			qcow2_cache_drop(c, c->e[i].offset);
}
