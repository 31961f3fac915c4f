/*
 * COPY --from=STAGE|IMAGE: files of an earlier stage or of an image. Its root
 * disk is read back as a tar (rootfs_diff of the whole tree, into a scratch
 * file) and the members under the sources are copied, renamed below the
 * destination, with their owners (or --chown), modes (or --chmod) and times.
 * A hard link whose first name is not copied carries the content itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/image.h"
#include "vmm/base/error.h"
#include "vmm/base/path.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/build-copy.h"
#include "vmm/engine/create.h"

struct pick {
	char **srcs;		/* clean relative paths or patterns */
	const char *dest;
	bool into;
	char **dirs;		/* matched folders: their members follow, renamed */
	char **dir_dests;
	char **want, **want_as;	/* first names of hard links not copied, and the name they get */
};

/* The tree's member name under the selection: its new absolute path, or NULL. */
static char *target_of(struct pick *pk, const char *name, bool is_dir)
{
	char *out = NULL;

	for (size_t i = 0; pk->dirs && pk->dirs[i]; i++) {
		size_t n = strlen(pk->dirs[i]);

		if (!strncmp(name, pk->dirs[i], n) && name[n] == '/') {
			if (asprintf(&out, "%s%s%s", pk->dir_dests[i], strcmp(pk->dir_dests[i], "/") ? "/" : "",
				     name + n + 1) < 0)
				out = NULL;
			return out;
		}
	}
	for (size_t i = 0; pk->srcs[i]; i++) {
		const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;

		if (strcmp(pk->srcs[i], name) && fnmatch(pk->srcs[i], name, FNM_PATHNAME))
			continue;
		if (is_dir) {	/* its contents go to dest */
			if (strv_push(&pk->dirs, name) || strv_push(&pk->dir_dests, pk->dest))
				return NULL;
			return strdup("");
		}
		if (asprintf(&out, "%s%s%s", pk->dest, pk->into && strcmp(pk->dest, "/") ? "/" : "",
			     pk->into ? base : "") < 0)
			out = NULL;
		return out;
	}
	return NULL;
}

static int each_member(struct copy *c, int fd, const char *label,
		       int (*fn)(struct copy *c, struct pick *pk, struct archive *a, struct archive_entry *ent),
		       struct pick *pk)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	int ret = 0, r;

	if (!a)
		return err_set(c->b->e, -ENOMEM, "out of memory");
	lseek(fd, 0, SEEK_SET);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
		ret = copy_err(c, -EIO, "--from=%s: %s", label, archive_error_string(a));
	while (!ret && (r = archive_read_next_header(a, &ent)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			ret = copy_err(c, -EIO, "--from=%s: %s", label, archive_error_string(a));
		else
			ret = fn(c, pk, a, ent);
	}
	archive_read_free(a);
	return ret;
}

/* A member's name as the sources spell it: no trailing slash. */
static const char *member_name(struct archive_entry *ent, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%s", archive_entry_pathname(ent) ?: "");
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	return buf;
}

/* First pass: which folders are copied, and which hard links point outside the copy. */
static int plan(struct copy *c, struct pick *pk, struct archive *a, struct archive_entry *ent)
{
	char nbuf[PATH_MAX];
	const char *name = member_name(ent, nbuf, sizeof(nbuf)), *hl = archive_entry_hardlink(ent);
	char *to = target_of(pk, name, archive_entry_filetype(ent) == AE_IFDIR), *from = NULL;
	int ret = 0;

	(void)a;
	if (to && hl && !(from = target_of(pk, hl, false)) && !strv_contains(pk->want, hl)) {
		if (strv_push(&pk->want, hl) || strv_push(&pk->want_as, to))
			ret = err_set(c->b->e, -ENOMEM, "out of memory");
	}
	free(to);
	free(from);
	return ret;
}

/* Second pass: the members, renamed. */
static int emit(struct copy *c, struct pick *pk, struct archive *a, struct archive_entry *ent)
{
	char nbuf[PATH_MAX];
	const char *name = member_name(ent, nbuf, sizeof(nbuf)), *hl = archive_entry_hardlink(ent);
	bool dir = archive_entry_filetype(ent) == AE_IFDIR;
	char *to = target_of(pk, name, dir), *link = NULL;
	const void *buf;
	size_t size;
	la_int64_t off;
	int ret = 0, r;

	for (size_t i = 0; !to && pk->want && pk->want[i]; i++)
		if (!strcmp(pk->want[i], name))	/* content the copy needs under another name */
			to = strdup(pk->want_as[i]);
	if (to && hl) {
		for (size_t i = 0; pk->want && pk->want[i]; i++)
			if (!strcmp(pk->want[i], hl))
				link = strdup(pk->want_as[i]);
		if (!link)
			link = target_of(pk, hl, false);
		if (link && !strcmp(link, to)) {	/* it carried the content already */
			free(link);
			free(to);
			return 0;
		}
	}
	if (!to || !*to) {	/* a copied folder: its contents land in dest */
		ret = to ? copy_put_dir(c, pk->dest) : 0;
		free(to);
		free(link);
		return ret;
	}
	ret = copy_put_parents(c, to);
	archive_entry_copy_pathname(ent, to + 1);
	if (link)
		archive_entry_copy_hardlink(ent, link + 1);
	if (c->chown) {
		archive_entry_set_uid(ent, c->uid);
		archive_entry_set_gid(ent, c->gid);
	}
	if (c->chmod && archive_entry_filetype(ent) != AE_IFLNK)
		archive_entry_set_perm(ent, c->mode);
	if (!ret && (ret = layer_writer_add(c->lw, ent, -1, c->b->e)) == 0 && !link) {
		while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK && !ret)
			ret = layer_writer_data(c->lw, buf, size, c->b->e);
		if (!ret && r != ARCHIVE_EOF)
			ret = copy_err(c, -EIO, "%s: %s", name, archive_error_string(a));
	}
	if (!ret && dir && strv_push(&c->made, to))
		ret = err_set(c->b->e, -ENOMEM, "out of memory");
	free(to);
	free(link);
	return ret;
}

/* The root disk of --from: an earlier stage (by name or index) or an image. */
static int from_disk(struct copy *c, const char *from, char *path, size_t len)
{
	struct builder *b = c->b;
	struct image *img = NULL;
	uint64_t n;
	int ret;

	for (unsigned i = 0; i < b->ndone; i++)
		if ((b->done[i].name && !strcasecmp(b->done[i].name, from)) ||
		    (!parse_uint(from, 0, UINT32_MAX, &n) && n == i)) {
			if ((ret = build_stage_disk(b, &b->done[i])))
				return ret;
			snprintf(path, len, "%s", b->done[i].disk);
			return 0;
		}
	if ((ret = build_base_image(b, from, &img)))
		return copy_err(c, ret, "--from=%s: no such stage or image (%s)", from, b->e->msg);
	ret = engine_image_disk(img, 0, path, len, b->e);
	image_close(img);
	return ret;
}

/* One source: hard links are kept within what it copies, as docker and buildah keep them. */
static int copy_one(struct copy *c, int fd, const char *from, const char *src, const char *dest,
		    bool into)
{
	struct pick pk = { .dest = dest, .into = into };
	char clean[PATH_MAX];
	unsigned long before = layer_writer_count(c->lw);
	int ret = path_clean(src, PATH_DOTDOT_CLAMP, clean, sizeof(clean));

	if (ret || strv_push(&pk.srcs, clean))
		return copy_err(c, ret ? ret : -ENOMEM, "%s: name too long", src);
	ret = each_member(c, fd, from, plan, &pk);
	strv_free(pk.dirs);
	strv_free(pk.dir_dests);
	pk.dirs = pk.dir_dests = NULL;
	if (!ret)
		ret = each_member(c, fd, from, emit, &pk);
	if (!ret && layer_writer_count(c->lw) == before && !pk.dirs)
		ret = copy_err(c, -ENOENT, "--from=%s: no such file: %s", from, src);
	strv_free(pk.srcs);
	strv_free(pk.dirs);
	strv_free(pk.dir_dests);
	strv_free(pk.want);
	strv_free(pk.want_as);
	return ret;
}

int copy_from(struct copy *c, const char *from, char *const *srcs, const char *dest, bool into)
{
	struct rootfs_image *img = NULL;
	char disk[PATH_MAX];
	int fd = -1, ret = from_disk(c, from, disk, sizeof(disk));

	if (!ret)
		ret = rootfs_image_open(disk, NULL, &img, c->b->e);
	if (!ret && (fd = open(c->b->tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0)
		ret = err_sys(c->b->e, -errno, "a scratch file in %s", c->b->tmp);
	if (!ret)
		ret = rootfs_diff(NULL, img, fd, NULL, NULL, NULL, c->b->e);
	rootfs_image_close(img);
	for (size_t i = 0; !ret && srcs[i]; i++)
		ret = copy_one(c, fd, from, srcs[i], dest, into);
	if (fd >= 0)
		close(fd);
	return ret;
}
