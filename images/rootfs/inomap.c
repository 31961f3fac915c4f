/* Sets of inode numbers, each optionally with a string: open addressing, grown by doubling. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "images/rootfs/image-internal.h"

static size_t slot_of(const struct rfs_inomap *m, uint32_t ino)
{
	size_t s = (size_t)(ino * 2654435761u) & (m->cap - 1);

	while (m->keys[s] && m->keys[s] != ino)
		s = (s + 1) & (m->cap - 1);
	return s;
}

const char *rfs_inomap_get(const struct rfs_inomap *m, uint32_t ino, bool *found)
{
	size_t s;

	*found = false;
	if (!m->n)
		return NULL;
	s = slot_of(m, ino);
	*found = m->keys[s] == ino;
	return *found && m->vals ? m->vals[s] : NULL;
}

int rfs_inomap_add(struct rfs_inomap *m, uint32_t ino, const char *val, bool with_vals)
{
	size_t s;

	if ((m->n + 1) * 2 > m->cap) {
		struct rfs_inomap g = { .cap = m->cap ? m->cap * 2 : 256 };

		g.keys = calloc(g.cap, sizeof(*g.keys));
		g.vals = with_vals ? calloc(g.cap, sizeof(*g.vals)) : NULL;
		if (!g.keys || (with_vals && !g.vals)) {
			free(g.keys);
			free(g.vals);
			return -ENOMEM;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->keys[i])
				continue;
			s = slot_of(&g, m->keys[i]);
			g.keys[s] = m->keys[i];
			if (with_vals)
				g.vals[s] = m->vals[i];
		}
		g.n = m->n;
		free(m->keys);
		free(m->vals);
		*m = g;
	}
	s = slot_of(m, ino);
	if (m->keys[s])
		return -EEXIST;
	if (with_vals && !(m->vals[s] = strdup(val)))
		return -ENOMEM;
	m->keys[s] = ino;
	m->n++;
	return 0;
}

void rfs_inomap_free(struct rfs_inomap *m)
{
	for (size_t i = 0; m->vals && i < m->cap; i++)
		free(m->vals[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
