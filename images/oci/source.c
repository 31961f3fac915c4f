/* Archive members and layout files, hashed as they stream in; never extracted by name. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "images/oci/layer.h"
#include "images/oci/source.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/path.h"
#include "vmm/base/util.h"

#define SMALL_MAX	(1u << 20)	/* members up to this size stay in memory */
#define MEMORY_MAX	(256u << 20)	/* ... as long as they add up to no more */
#define CHUNK		(256 * 1024)

/* An archive path, cleaned ("./a//b" -> "a/b"); NULL for ".." or the root. malloc'd. */
static char *source_path_normalize(const char *dir, const char *name)
{
	size_t n = (dir ? strlen(dir) : 0) + strlen(name) + 2;
	char *in = malloc(n), *out = malloc(n);

	if (!in || !out)
		goto fail;
	/* an absolute name is relative to the archive's root */
	if (dir && name[0] != '/')
		snprintf(in, n, "%s/%s", dir, name);
	else
		snprintf(in, n, "%s", name);
	/* ".." never leaves the archive: such names match nothing */
	if (path_clean(in, PATH_DOTDOT_REJECT, out, n) || !*out)
		goto fail;
	free(in);
	return out;
fail:
	free(in);
	free(out);
	return NULL;
}

static void member_free(struct member *m)
{
	free(m->name);
	free(m->link);
	free(m->data);
	store_blob_abort(m->w);
	memset(m, 0, sizeof(*m));
}

void source_close(struct source *src)
{
	for (size_t i = 0; i < src->n_members; i++) {
		member_free(src->members[i]);
		free(src->members[i]);
	}
	free(src->members);
	if (src->dirfd >= 0)
		close(src->dirfd);
	memset(src, 0, sizeof(*src));
	src->dirfd = -1;
}

/* A new member slot, replacing an earlier member of the same name (tar semantics). */
static struct member *member_add(struct source *src, char *name, struct error *e)
{
	struct member **v, *m;

	for (size_t i = 0; i < src->n_members; i++) {
		if (!strcmp(src->members[i]->name, name)) {
			member_free(src->members[i]);
			src->members[i]->name = name;
			return src->members[i];
		}
	}
	if (src->n_members >= SOURCE_MEMBERS_MAX) {
		err_set(e, -E2BIG, "%s: more than %d files in the archive", src->label, SOURCE_MEMBERS_MAX);
		free(name);
		return NULL;
	}
	v = realloc(src->members, (src->n_members + 1) * sizeof(*v));
	m = calloc(1, sizeof(*m));
	if (v)
		src->members = v;
	if (!v || !m) {
		err_set(e, -ENOMEM, "out of memory");
		free(m);
		free(name);
		return NULL;
	}
	v[src->n_members++] = m;
	m->name = name;
	return m;
}

typedef ssize_t (*read_fn)(void *ctx, void *buf, size_t len);

struct ingest {
	struct source *src;
	struct member *m;
	struct error *e;		/* the store's failures */
	size_t cap;			/* of m->data */
	unsigned char head[4];
	size_t n_head;
	struct diff_hasher *dh;
	bool dh_failed;
};

static int to_writer(struct ingest *in)
{
	int ret = store_blob_begin(in->src->store, 0, &in->m->w, in->e);

	if (ret)
		return ret;
	if (in->m->data) {
		ret = store_blob_write(in->m->w, in->m->data, in->m->size);
		in->src->mem_bytes -= in->cap;
		free(in->m->data);
		in->m->data = NULL;
	}
	return ret;
}

static int keep(struct ingest *in, const void *buf, size_t len)
{
	struct member *m = in->m;

	if (!m->w && m->size + len > SMALL_MAX) {
		int ret = to_writer(in);

		if (ret)
			return ret;
	}
	if (m->w)
		return store_blob_write(m->w, buf, len);
	if (m->size + len + 1 > in->cap) {
		size_t cap = MAX(in->cap * 2, m->size + len + 1);
		char *d;

		cap = MIN(cap, (size_t)SMALL_MAX + 1);
		if (in->src->mem_bytes + cap - in->cap > MEMORY_MAX)
			return to_writer(in) ?: store_blob_write(m->w, buf, len);
		d = realloc(m->data, cap);
		if (!d)
			return -ENOMEM;
		in->src->mem_bytes += cap - in->cap;
		m->data = d;
		in->cap = cap;
	}
	memcpy(m->data + m->size, buf, len);
	m->data[m->size + len] = '\0';
	return 0;
}

/* Feed the diff_id hasher, created once the first bytes tell the compression. */
static void diff_feed(struct ingest *in, const unsigned char *buf, size_t len, bool eof)
{
	if (!in->dh && !in->dh_failed) {
		size_t take = MIN(len, sizeof(in->head) - in->n_head);

		if (take) {	/* buf is NULL at the end of a member */
			memcpy(in->head + in->n_head, buf, take);
			in->n_head += take;
			buf += take;
			len -= take;
		}
		if (in->n_head < sizeof(in->head) && !eof)
			return;
		in->m->compression = layer_sniff(in->head, in->n_head);
		if (in->m->compression == COMPRESSION_NONE) {
			in->dh_failed = true;	/* plain: the diff_id is the digest */
			return;
		}
		if (diff_hasher_new(in->m->compression, &in->dh) ||
		    diff_hasher_update(in->dh, in->head, in->n_head))
			in->dh_failed = true;
	}
	if (in->dh && len && diff_hasher_update(in->dh, buf, len))
		in->dh_failed = true;
}

static int ingest(struct source *src, struct member *m, read_fn rd, void *ctx, struct error *e)
{
	struct ingest in = { .src = src, .m = m, .e = e };
	unsigned char *buf = malloc(CHUNK);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = rd(ctx, buf, CHUNK);

		if (n < 0) {
			ret = (int)n;
			break;
		}
		if (n == 0)
			break;
		if ((ret = keep(&in, buf, n)))
			break;
		m->size += n;
		diff_feed(&in, buf, n, false);
	}
	free(buf);
	if (!ret) {
		diff_feed(&in, NULL, 0, true);
		if (m->w)
			ret = store_blob_digest(m->w, m->digest);
		else
			digest_buf(m->data ? m->data : "", m->size, m->digest);
	}
	if (!ret) {
		if (m->compression == COMPRESSION_NONE)
			memcpy(m->diff_id, m->digest, DIGEST_BUF);
		else if (!in.dh || in.dh_failed || diff_hasher_final(in.dh, m->diff_id, NULL))
			m->diff_id[0] = '\0';
	}
	diff_hasher_free(in.dh);
	return ret;
}

static ssize_t archive_rd(void *ctx, void *buf, size_t len)
{
	la_ssize_t n = archive_read_data(ctx, buf, len);

	return n < 0 ? -EIO : n;
}

int source_open_tar(struct source *src, struct store *s, int fd, const char *label, struct error *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	int ret = 0;

	memset(src, 0, sizeof(*src));
	src->dirfd = -1;
	src->label = label;
	src->store = s;
	if (!a)
		return err_set(e, -ENOMEM, "out of memory");
	/*
	 * The compressions docker save | gzip and friends produce, built in; not
	 * filter_all, which would run external decompressors on untrusted input.
	 */
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_filter_xz(a) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(a) != ARCHIVE_OK) {
		archive_read_free(a);
		return err_set(e, -ENOTSUP, "%s: this libarchive lacks built-in gzip, xz or zstd", label);
	}
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK) {
		ret = err_set(e, -EINVAL, "%s: not a readable archive: %s", label, archive_error_string(a));
		archive_read_free(a);
		return ret;
	}
	for (;;) {
		const char *hl, *sl;
		struct member *m;
		char *name, *dir;
		int r = archive_read_next_header(a, &ent);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = err_set(e, -EINVAL, "%s: %s archive: %s", label, src->n_members ? "truncated or corrupt" :
				      "not a tar", archive_error_string(a));
			break;
		}
		name = source_path_normalize(NULL, archive_entry_pathname(ent) ?: "");
		if (!name) {
			pr_debug("%s: ignoring member '%s'", label, archive_entry_pathname(ent) ?: "");
			continue;
		}
		hl = archive_entry_hardlink(ent);
		sl = archive_entry_filetype(ent) == AE_IFLNK ? archive_entry_symlink(ent) : NULL;
		if (!hl && !sl && archive_entry_filetype(ent) != AE_IFREG) {
			free(name);
			continue;
		}
		if (!(m = member_add(src, name, e))) {
			ret = e ? e->code : -ENOMEM;
			break;
		}
		if (hl || sl) {
			dir = strdup(m->name);
			if (dir && strrchr(dir, '/'))
				*strrchr(dir, '/') = '\0';
			else if (dir)
				dir[0] = '\0';
			m->link = dir ? source_path_normalize(hl ? NULL : (dir[0] ? dir : NULL),
							       hl ? hl : sl) : NULL;
			free(dir);
			if (!m->link)
				m->link = strdup("");	/* points outside: matches nothing */
			if (!hl || archive_entry_size(ent) == 0)
				continue;
			/* a hard link with data of its own (pax): keep the data */
			free(m->link);
			m->link = NULL;
		}
		err_clear(e);
		ret = ingest(src, m, archive_rd, a, e);
		if (ret && err_is_set(e)) {
			err_wrap(e, ret, "%s: %s", label, m->name);
			break;
		}
		if (ret) {
			err_set(e, ret, "%s: truncated or corrupt archive: %s: %s", label, m->name,
				ret == -EIO ? archive_error_string(a) : strerror(-ret));
			break;
		}
	}
	archive_read_free(a);
	return ret;
}

int source_open_dir(struct source *src, struct store *s, const char *path, struct error *e)
{
	memset(src, 0, sizeof(*src));
	src->label = path;
	src->store = s;
	src->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return src->dirfd < 0 ? err_sys(e, -errno, "%s", path) : 0;
}

static ssize_t fd_rd(void *ctx, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(*(int *)ctx, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -errno : n;
	}
}

/*
 * A file of the directory, never outside it. O_NONBLOCK: a FIFO planted as
 * index.json opens at once (and is then refused as not a file) instead of
 * waiting forever for a writer.
 */
static int open_beneath(int dirfd, const char *name)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	return (int)fd;
}

static struct member *dir_get(struct source *src, char *name, struct error *e)
{
	struct member *m;
	struct stat st;
	int fd, ret;

	fd = open_beneath(src->dirfd, name);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		free(name);
		return NULL;
	}
	m = member_add(src, name, e);
	if (!m) {
		close(fd);
		return NULL;
	}
	ret = ingest(src, m, fd_rd, &fd, e);
	close(fd);
	if (ret) {
		if (err_is_set(e))
			err_wrap(e, ret, "%s/%s", src->label, m->name);
		else
			err_sys(e, ret, "%s/%s", src->label, m->name);
		member_free(m);
		free(m);
		src->n_members--;
		return NULL;
	}
	return m;
}

static struct member *lookup(struct source *src, const char *name, struct error *e)
{
	char *norm = source_path_normalize(NULL, name);

	for (int hops = 0; norm && hops < 16; hops++) {
		struct member *m = NULL;

		for (size_t i = 0; i < src->n_members; i++)
			if (!strcmp(src->members[i]->name, norm))
				m = src->members[i];
		if (!m && src->dirfd >= 0)
			return dir_get(src, norm, e);
		free(norm);
		if (!m || !m->link)
			return m;
		norm = m->link[0] ? strdup(m->link) : NULL;
	}
	free(norm);
	return NULL;
}

bool source_has(struct source *src, const char *name)
{
	return lookup(src, name, NULL) != NULL;
}

struct member *source_get(struct source *src, const char *name, struct error *e)
{
	struct error why = { 0 };
	struct member *m = lookup(src, name, &why);

	if (!m && why.code)
		err_copy(e, &why, why.code);
	else if (!m)
		err_set(e, -ENOENT, "%s: '%.200s' is missing from the archive", src->label, name);
	return m;
}

int source_read(struct source *src, struct member *m, size_t max, char **buf, size_t *len,
		struct error *e)
{
	char *out;
	int ret;

	if (m->size > max)
		return err_set(e, -EFBIG, "%s: %s is larger than %zu bytes", src->label, m->name, max);
	out = malloc(m->size + 1);
	if (!out)
		return err_set(e, -ENOMEM, "out of memory");
	if (m->data) {
		memcpy(out, m->data, m->size);
	} else if (m->w && (ret = store_blob_pread(m->w, out, m->size, 0))) {
		free(out);
		return err_sys(e, ret, "%s: %s", src->label, m->name);
	} else if (!m->w && m->size) {
		free(out);
		return err_set(e, -EINVAL, "%s: %s: already in the store", src->label, m->name);
	}
	out[m->size] = '\0';
	*buf = out;
	*len = m->size;
	return 0;
}

int source_commit(struct source *src, struct member *m, const char *expected, struct error *e)
{
	int ret;

	if (strcmp(m->digest, expected))
		return -EBADMSG;
	if (m->committed)
		return 0;
	if (m->w) {
		ret = store_blob_commit(m->w, expected, NULL, e);
		m->w = NULL;
	} else {
		ret = store_blob_put(src->store, m->data ? m->data : "", m->size, expected, NULL, e);
	}
	if (!ret)
		m->committed = true;
	return ret;
}
