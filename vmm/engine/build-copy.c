/*
 * COPY and ADD from the build context: sources (globs, folders, .dockerignore)
 * resolved inside the context, never outside it; the destination resolved
 * against the stage's filesystem as docker does (an existing folder takes the
 * file in); entries written as a layer with the context's modes and times,
 * owned by root or --chown, --chmod applied. ADD also unpacks local tars and
 * downloads URLs.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/oci/layer-writer.h"
#include "images/rootfs/lookup.h"
#include "vmm/base/error.h"
#include "vmm/base/path.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/build-fetch.h"
#include "vmm/engine/build-copy.h"

#define CONTEXT_DEPTH_MAX	256
#define CONTEXT_FILES_MAX	(1u << 20)
#define PASSWD_MAX		(4u << 20)


static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

int copy_err(struct copy *c, int code, const char *fmt, ...)
{
	char what[PATH_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(c->b->e, code, "line %u: %s failed: %s", c->in->line, df_kind_name(c->in->kind),
		       what);
}

static bool excluded(struct copy *c, const char *rel)
{
	return c->b->ignore && *rel && dockerignore_excludes(c->b->ignore, rel);
}

/* Does dest exist in the stage, and is it a folder? */
static int dest_stat(struct copy *c, const char *dest, struct rootfs_stat *st)
{
	int ret;

	if (!c->fs) {
		if ((ret = build_stage_disk(c->b, c->sg)))
			return ret;
		if ((ret = rootfs_image_open(c->sg->disk, NULL, &c->fs, c->b->e)))
			return ret;
	}
	return rootfs_image_stat(c->fs, dest, st);
}

static const char *link_seen(struct copy *c, const struct stat *st, const char *path)
{
	struct link *grown;

	if (st->st_nlink < 2)
		return NULL;
	for (size_t i = 0; i < c->nlinks; i++)
		if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
			return c->links[i].path;
	grown = realloc(c->links, (c->nlinks + 1) * sizeof(*grown));
	if (grown) {
		c->links = grown;
		c->links[c->nlinks].dev = st->st_dev;
		c->links[c->nlinks].ino = st->st_ino;
		if ((c->links[c->nlinks].path = strdup(path)))
			c->nlinks++;
	}
	return NULL;
}

/* One entry at dest (absolute, cleaned) with st's metadata; fd: the content. */
static int put(struct copy *c, const char *dest, const struct stat *st, int dirfd, const char *name,
	       int fd)
{
	struct archive_entry *ent = archive_entry_new();
	char target[PATH_MAX];
	const char *first;
	int ret;

	if (!ent)
		return err_set(c->b->e, -ENOMEM, "out of memory");
	if (++c->files > CONTEXT_FILES_MAX) {
		archive_entry_free(ent);
		return copy_err(c, -E2BIG, "more than %u files", CONTEXT_FILES_MAX);
	}
	archive_entry_set_pathname(ent, dest + 1);
	archive_entry_set_mode(ent, st->st_mode);
	if (c->chmod && !S_ISLNK(st->st_mode))
		archive_entry_set_perm(ent, c->mode);
	archive_entry_set_uid(ent, c->chown ? c->uid : 0);
	archive_entry_set_gid(ent, c->chown ? c->gid : 0);
	archive_entry_set_mtime(ent, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	if (S_ISREG(st->st_mode) && (first = link_seen(c, st, dest + 1))) {
		archive_entry_set_size(ent, 0);
		archive_entry_copy_hardlink(ent, first);
		fd = -1;
	} else if (S_ISREG(st->st_mode)) {
		archive_entry_set_size(ent, st->st_size);
	} else if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);

		if (n < 0) {
			archive_entry_free(ent);
			return err_sys(c->b->e, -errno, "line %u: reading the link %s", c->in->line, name);
		}
		target[n] = '\0';
		archive_entry_copy_symlink(ent, target);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		archive_entry_set_rdev(ent, st->st_rdev);
	}
	ret = layer_writer_add(c->lw, ent, fd, c->b->e);
	archive_entry_free(ent);
	return ret;
}

/*
 * A folder the layer needs and the stage lacks, and the missing ones above
 * it: 0755, owned by root or --chown (as docker and buildah make them), dated
 * like the step before (the same step makes the same layer: the cache).
 */
int copy_put_dir(struct copy *c, const char *dest)
{
	struct stat st = { .st_mode = S_IFDIR | 0755 };
	char path[PATH_MAX];
	int ret = 0;

	st.st_mtim.tv_sec = image_draft_time(&c->sg->st.d);
	snprintf(path, sizeof(path), "%s", dest);
	for (char *p = strchr(path + 1, '/'); !ret && path[1]; p = strchr(p + 1, '/')) {
		struct rootfs_stat rs;

		if (p)
			*p = '\0';
		if (strv_contains(c->made, path)) {
			ret = 0;
		} else if ((ret = dest_stat(c, path, &rs)) == -ENOENT) {
			bool chmod = c->chmod;

			c->chmod = false;	/* --chmod is for what is copied */
			ret = put(c, path, &st, AT_FDCWD, NULL, -1);
			c->chmod = chmod;
			if (!ret && strv_push(&c->made, path))
				ret = err_set(c->b->e, -ENOMEM, "out of memory");
		}
		if (!p)
			break;
		*p = '/';
	}
	return ret;
}

/* The folders above path that the stage lacks. */
int copy_put_parents(struct copy *c, const char *path)
{
	char parent[PATH_MAX];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return 0;
	*slash = '\0';
	return copy_put_dir(c, parent);
}

static int join(char *out, const char *dir, const char *name)
{
	return snprintf(out, PATH_MAX, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name) >= PATH_MAX ?
	       -ENAMETOOLONG : 0;
}

/* A folder's contents, recursively, below dest; rel: its path in the context. */
static int put_tree(struct copy *c, int fd0, const char *rel, const char *dest, int depth)
{
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (depth > CONTEXT_DEPTH_MAX)
		return copy_err(c, -ELOOP, "%s: too deep", rel);
	if (!(d = fdopendir(fd0))) {
		close(fd0);
		return err_sys(c->b->e, -errno, "line %u: %s", c->in->line, rel);
	}
	while (!ret && (de = readdir(d))) {
		char crel[PATH_MAX], cdest[PATH_MAX];
		struct stat st;
		int fd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(crel, sizeof(crel), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >= (int)sizeof(crel) ||
		    join(cdest, dest, de->d_name)) {
			ret = copy_err(c, -ENAMETOOLONG, "%s: name too long", rel);
			break;
		}
		if (excluded(c, crel))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = err_sys(c->b->e, -errno, "line %u: %s", c->in->line, crel);
			break;
		}
		if (S_ISSOCK(st.st_mode))
			continue;
		if (S_ISDIR(st.st_mode)) {
			ret = put(c, cdest, &st, -1, NULL, -1);
			if (!ret && (fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
				ret = err_sys(c->b->e, -errno, "line %u: %s", c->in->line, crel);
			if (!ret)
				ret = put_tree(c, fd, crel, cdest, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				ret = err_sys(c->b->e, -errno, "line %u: %s", c->in->line, crel);
			else
				ret = put(c, cdest, &st, dirfd(d), de->d_name, fd);
			if (fd >= 0)
				close(fd);
		} else {
			ret = put(c, cdest, &st, dirfd(d), de->d_name, -1);
		}
	}
	closedir(d);
	return ret;
}

/* Whether a context file is an archive ADD unpacks (tar, maybe compressed). */
static bool is_archive(int fd)
{
	struct archive *a = tar_reader_new();
	struct archive_entry *ent;
	bool yes;

	if (!a)
		return false;
	yes = archive_read_open_fd(a, fd, 16384) == ARCHIVE_OK &&
	      archive_read_next_header(a, &ent) == ARCHIVE_OK;
	archive_read_free(a);
	lseek(fd, 0, SEEK_SET);
	return yes;
}

/* One matched source (rel in the context) to dest; into: dest is a folder. */
static int put_source(struct copy *c, const char *rel, const char *dest, bool into)
{
	char target[PATH_MAX], clean[PATH_MAX];
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	struct stat st;
	int fd, ret;

	/* a source named directly is followed when it is a link, inside the context only */
	fd = open_in_root(c->b->ctxfd, *rel ? rel : ".", O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return copy_err(c, ret, "file not found in build context or excluded by .dockerignore: %s",
				*rel ? rel : ".");
	}
	if (S_ISDIR(st.st_mode)) {
		ret = copy_put_dir(c, dest);
		return ret ? ret : put_tree(c, fd, rel, dest, 0);
	}
	if (c->in->kind == DF_ADD && S_ISREG(st.st_mode) && is_archive(fd)) {
		ret = copy_put_dir(c, dest);
		if (!ret)
			ret = layer_writer_add_archive(c->lw, fd, dest + 1, rel, c->b->e);
		close(fd);
		return ret ? err_wrap(c->b->e, ret, "line %u: ADD", c->in->line) : 0;
	}
	if (into && (ret = join(target, dest, base))) {
		close(fd);
		return copy_err(c, ret, "%s: name too long", rel);
	}
	ret = path_clean(into ? target : dest, PATH_DOTDOT_CLAMP, clean + 1, sizeof(clean) - 1);
	clean[0] = '/';
	if (!ret)
		ret = copy_put_parents(c, clean);
	if (!ret)
		ret = put(c, clean, &st, -1, NULL, fd);
	close(fd);
	return ret;
}

/* Every context path matching pattern (Go's filepath.Match: * stops at '/'), sorted. */
static int glob_context(struct copy *c, int fd0, const char *rel, const char *pattern, char ***out,
			int depth)
{
	int levels = 1;

	for (const char *p = pattern; *p; p++)
		levels += *p == '/';
	DIR *d = fdopendir(fd0);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		close(fd0);
		return 0;
	}
	while (!ret && (de = readdir(d)) && depth < CONTEXT_DEPTH_MAX) {
		char crel[PATH_MAX];
		struct stat st;
		int fd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(crel, sizeof(crel), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >= (int)sizeof(crel))
			continue;
		if (excluded(c, crel))
			continue;
		if (depth + 1 == levels && !fnmatch(pattern, crel, FNM_PATHNAME)) {
			if (strv_push(out, crel))
				ret = err_set(c->b->e, -ENOMEM, "out of memory");
			continue;
		}
		if (depth + 1 < levels && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode) &&
		    (fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
			ret = glob_context(c, fd, crel, pattern, out, depth + 1);
	}
	closedir(d);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The context paths a source names: itself, or what its glob matches. */
static int sources(struct copy *c, const char *src, char ***out)
{
	char clean[PATH_MAX];
	int ret, fd;

	ret = path_clean(src, PATH_DOTDOT_REJECT, clean, sizeof(clean));
	if (ret == -EINVAL)
		return copy_err(c, ret, "forbidden path outside the build context: %s", src);
	if (ret)
		return copy_err(c, ret, "%s: name too long", src);
	if (excluded(c, clean))
		return copy_err(c, -ENOENT, "file not found in build context or excluded by .dockerignore: %s", src);
	if (!has_glob(clean))
		return strv_push(out, clean) ? err_set(c->b->e, -ENOMEM, "out of memory") : 0;
	if ((fd = dup(c->b->ctxfd)) < 0)
		return err_sys(c->b->e, -errno, "build context");
	lseek(fd, 0, SEEK_SET);
	if ((ret = glob_context(c, fd, "", clean, out, 0)))
		return ret;
	if (*out)
		qsort(*out, strv_len(*out), sizeof(**out), cmp_str);
	return 0;
}

/* --chown=USER[:GROUP]: numbers, or names from the stage's /etc/passwd and /etc/group. */
static int id_lookup(struct copy *c, const char *file, const char *name, uint32_t *id, uint32_t *gid)
{
	char *data = NULL, *line, *save = NULL;
	size_t len;
	uint64_t n;
	int ret;

	if (!parse_uint(name, 0, UINT32_MAX - 1, &n)) {
		*id = (uint32_t)n;
		if (gid)
			*gid = (uint32_t)n;
		return 0;
	}
	if ((ret = dest_stat(c, "/", &(struct rootfs_stat){ 0 })))
		return ret;
	ret = rootfs_image_read(c->fs, file, PASSWD_MAX, &data, &len);
	for (line = ret ? NULL : strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = { 0 };
		char *p = line;

		for (int i = 0; i < 4 && p; i++) {
			f[i] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = '\0';
		}
		if (f[0] && f[2] && !strcmp(f[0], name) && !parse_uint(f[2], 0, UINT32_MAX - 1, &n)) {
			*id = (uint32_t)n;
			if (gid && f[3] && !parse_uint(f[3], 0, UINT32_MAX - 1, &n))
				*gid = (uint32_t)n;
			free(data);
			return 0;
		}
	}
	free(data);
	return copy_err(c, -ENOENT, "--chown: no such user or group in the image: %s", name);
}

static int chown_chmod(struct copy *c)
{
	const char *own = df_flag(c->in, "chown"), *mod = df_flag(c->in, "chmod");
	char *user, *group;
	int ret = 0;

	if (mod) {
		char *end;
		unsigned long m = strtoul(mod, &end, 8);

		if (!*mod || *end || m > 07777)
			return copy_err(c, -EINVAL, "--chmod=%s: want an octal mode such as 755", mod);
		c->chmod = true;
		c->mode = (mode_t)m;
	}
	if (!own)
		return 0;
	if (!*own || !(user = strdup(own)))
		return copy_err(c, -EINVAL, "--chown: want USER[:GROUP]");
	group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	ret = id_lookup(c, "/etc/passwd", user, &c->uid, &c->gid);
	if (!ret && group)
		ret = id_lookup(c, "/etc/group", group, &c->gid, NULL);
	c->chown = !ret;
	free(user);
	return ret;
}

static int dest_path(struct copy *c, const char *word, char *out, bool *dir)
{
	json_object *w;
	char *d = NULL, *joined = NULL;
	int ret = build_expand(&c->sg->st, c->in, word, &d, c->b->e);

	if (ret)
		return ret;
	*dir = str_has_suffix(d, "/") || !strcmp(d, ".") || str_has_suffix(d, "/.");
	if (d[0] != '/' && json_object_object_get_ex(image_draft_config(&c->sg->st.d), "WorkingDir", &w) &&
	    json_object_get_string(w) && *json_object_get_string(w)) {
		if (asprintf(&joined, "%s/%s", json_object_get_string(w), d) < 0)
			joined = NULL;
	} else if (asprintf(&joined, "/%s", d) < 0) {
		joined = NULL;
	}
	free(d);
	if (!joined)
		return err_set(c->b->e, -ENOMEM, "out of memory");
	ret = path_clean(joined, PATH_DOTDOT_CLAMP, out + 1, PATH_MAX - 1);
	out[0] = '/';
	free(joined);
	return ret ? copy_err(c, ret, "destination too long: %s", word) : 0;
}

/* COPY <<NAME DEST: the here-document NAME as a file (0644, or --chmod), in DEST when it is a folder. */
static int put_heredoc(struct copy *c, const char *word, const char *dest, bool into)
{
	const char *name = word + 2 + (word[2] == '-');
	struct archive_entry *ent;
	char path[PATH_MAX], *body = NULL;
	int ret;

	name += *name == '"' || *name == '\'';
	for (unsigned i = 0; i < c->in->nheredocs; i++) {
		const struct df_heredoc *h = &c->in->heredocs[i];

		if (strncmp(name, h->name, strlen(h->name)))
			continue;
		/* an unquoted delimiter: variables are substituted, quotes stay */
		if (h->expand ? (ret = df_expand(h->body, c->sg->st.escape, false, build_lookup, &c->sg->st,
						 &body, c->b->e)) :
		    (ret = (body = strdup(h->body)) ? 0 : -ENOMEM))
			return ret == -ENOMEM ? err_set(c->b->e, ret, "out of memory") : ret;
		if ((into ? join(path, dest, h->name) : snprintf(path, sizeof(path), "%s", dest) >= PATH_MAX) ||
		    !(ent = archive_entry_new())) {
			free(body);
			return copy_err(c, -ENAMETOOLONG, "%s: destination too long", dest);
		}
		ret = copy_put_parents(c, path);
		archive_entry_set_pathname(ent, path + 1);
		archive_entry_set_filetype(ent, AE_IFREG);
		archive_entry_set_perm(ent, c->chmod ? c->mode : 0644);
		archive_entry_set_uid(ent, c->chown ? c->uid : 0);
		archive_entry_set_gid(ent, c->chown ? c->gid : 0);
		archive_entry_set_mtime(ent, image_draft_time(&c->sg->st.d), 0);
		archive_entry_set_size(ent, (int64_t)strlen(body));
		if (!ret && !(ret = layer_writer_add(c->lw, ent, -1, c->b->e)))
			ret = layer_writer_data(c->lw, body, strlen(body), c->b->e);
		archive_entry_free(ent);
		free(body);
		return ret;
	}
	return copy_err(c, -EINVAL, "%s: no such here-document", word);
}

/* COPY --from: the sources expanded, then the other filesystem's files. */
static int copy_from_stage(struct copy *c, const char *dest, bool dir)
{
	const struct df_instr *in = c->in;
	unsigned nsrc = in->nargs - 1;
	char **srcs = NULL, *from = NULL;
	struct rootfs_stat rs;
	int ret = build_expand(&c->sg->st, in, df_flag(in, "from"), &from, c->b->e);

	for (unsigned i = 0; !ret && i < nsrc; i++) {
		char *src = NULL;

		if (!(ret = build_expand(&c->sg->st, in, in->args[i], &src, c->b->e)) && strv_push(&srcs, src))
			ret = err_set(c->b->e, -ENOMEM, "out of memory");
		free(src);
	}
	if (!ret && (nsrc > 1 || has_glob(srcs[0])) && !dir)
		ret = copy_err(c, -EINVAL, "when using COPY with more than one source file, the destination "
			       "must be a directory and end with a /");
	/* one file to a path that is a folder in the image: into it */
	if (!ret && !dir && dest_stat(c, dest, &rs) == 0 && S_ISDIR(rs.mode))
		dir = true;
	if (!ret)
		ret = copy_from(c, from, srcs, dest, dir);
	free(from);
	strv_free(srcs);
	return ret;
}

static int copy_all(struct copy *c)
{
	const struct df_instr *in = c->in;
	char dest[PATH_MAX], **srcs = NULL;
	unsigned nsrc = in->nargs - 1;
	bool dir, is_url;
	struct rootfs_stat rs;
	int ret;

	if ((ret = chown_chmod(c)) || (ret = dest_path(c, in->args[nsrc], dest, &dir)))
		return ret;
	if (df_flag(in, "from"))
		return copy_from_stage(c, dest, dir);
	for (unsigned i = 0; !ret && i < nsrc; i++) {
		char *src = NULL;

		if (!strncmp(in->args[i], "<<", 2)) {	/* COPY <<EOF: a file made of the document */
			ret = put_heredoc(c, in->args[i], dest, dir);
			continue;
		}
		if ((ret = build_expand(&c->sg->st, in, in->args[i], &src, c->b->e)))
			break;
		is_url = !strncmp(src, "http://", 7) || !strncmp(src, "https://", 8);
		if (is_url && in->kind == DF_ADD) {
			ret = build_fetch_url(c->b, src, dest, dir, c->chown ? c->uid : 0, c->chown ? c->gid : 0,
					      c->chmod ? (int)c->mode : -1, df_flag(in, "checksum"), c->lw);
		} else if (is_url) {
			ret = copy_err(c, -EINVAL, "COPY takes no URLs (%s): use ADD or RUN curl", src);
		} else if (c->b->ctxfd < 0) {
			ret = copy_err(c, -ENOENT, "%s: there is no build context (the Dockerfile came from stdin)",
				       src);
		} else {
			ret = sources(c, src, &srcs);
		}
		free(src);
	}
	if (ret) {
		strv_free(srcs);
		return ret;
	}
	if (!srcs && !layer_writer_count(c->lw))
		return copy_err(c, -ENOENT, "no source files were specified");
	if ((nsrc > 1 || strv_len(srcs) > 1) && !dir) {
		strv_free(srcs);
		return copy_err(c, -EINVAL, "when using %s with more than one source file, the destination "
				"must be a directory and end with a /", df_kind_name(in->kind));
	}
	/* one file to a path that is a folder in the image: into it */
	if (!dir && srcs) {
		ret = dest_stat(c, dest, &rs);
		if (ret && ret != -ENOENT && ret != -ENOTDIR) {
			strv_free(srcs);
			return ret;
		}
		dir = !ret && S_ISDIR(rs.mode);
		ret = 0;
	}
	for (size_t i = 0; !ret && srcs && srcs[i]; i++) {
		/* hard links are kept within one source, as docker and buildah keep them */
		for (size_t j = 0; j < c->nlinks; j++)
			free(c->links[j].path);
		c->nlinks = 0;
		ret = put_source(c, srcs[i], dest, dir);
	}
	strv_free(srcs);
	return ret;
}

int build_copy(struct builder *b, struct stage *sg, const struct df_instr *in,
	       struct draft_layer *layer)
{
	struct copy c = { .b = b, .sg = sg, .in = in };
	int ret;

	if (df_flag(in, "from") && in->kind == DF_ADD)
		return err_set(b->e, -EINVAL, "line %u: ADD takes no --from (use COPY --from)", in->line);
	ret = layer_writer_new(b->s, &c.lw, b->e);
	if (!ret)
		ret = copy_all(&c);
	if (!ret) {
		ret = layer_writer_commit(c.lw, layer, b->e);
		c.lw = NULL;
	}
	layer_writer_abort(c.lw);
	rootfs_image_close(c.fs);
	for (size_t i = 0; i < c.nlinks; i++)
		free(c.links[i].path);
	free(c.links);
	strv_free(c.made);
	return ret;
}

/*
 * WORKDIR's folder and any missing folder above it, owned by the stage's
 * USER (as buildah makes them; 0:0 without one).
 */
int build_workdir_layer(struct builder *b, struct stage *sg, struct draft_layer *layer, bool *made)
{
	struct copy c = { .b = b, .sg = sg };
	struct df_instr in = { .kind = DF_WORKDIR };
	char path[PATH_MAX], *user = NULL, *group;
	struct rootfs_stat rs;
	json_object *w, *u;
	int ret;

	c.in = &in;
	*made = false;
	if (!json_object_object_get_ex(image_draft_config(&sg->st.d), "WorkingDir", &w) ||
	    !json_object_get_string(w))
		return 0;
	snprintf(path, sizeof(path), "%s", json_object_get_string(w));
	ret = dest_stat(&c, path, &rs);
	if (ret != -ENOENT) {
		rootfs_image_close(c.fs);
		return ret == -ENOTDIR ? err_set(b->e, ret, "WORKDIR %s: a file is in the way", path) : ret;
	}
	if (json_object_object_get_ex(image_draft_config(&sg->st.d), "User", &u) &&
	    json_object_get_string(u) && *json_object_get_string(u) &&
	    (user = strdup(json_object_get_string(u)))) {
		if ((group = strchr(user, ':')))
			*group++ = '\0';
		ret = id_lookup(&c, "/etc/passwd", user, &c.uid, &c.gid);
		if (!ret && group)
			ret = id_lookup(&c, "/etc/group", group, &c.gid, NULL);
		c.chown = true;
		free(user);
		if (ret) {
			rootfs_image_close(c.fs);
			return err_wrap(b->e, ret, "WORKDIR %s: its owner", path);
		}
	}
	ret = layer_writer_new(b->s, &c.lw, b->e);
	if (!ret)
		ret = copy_put_dir(&c, path);
	if (!ret) {
		ret = layer_writer_commit(c.lw, layer, b->e);
		c.lw = NULL;
		*made = !ret;
	}
	layer_writer_abort(c.lw);
	rootfs_image_close(c.fs);
	strv_free(c.made);
	return ret;
}
