/*
 * `vmm cp` in the guest: CP_OUT streams a tar of a path in the running
 * container; CP_IN extracts a tar into a directory of it. Paths resolve
 * inside the container's root with openat2(RESOLVE_IN_ROOT): ".." and
 * absolute symlinks cannot leave it; archive entries with ".." components
 * are refused, and files are created with *at() calls and O_NOFOLLOW below
 * a directory resolved that way, so a symlink in the archive or the
 * container never redirects a write outside.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "guest-agent/agent.h"
#include "guest-agent/tar.h"
#include "vmm/base/path.h"

#define MAX_DEPTH	64
#define RESOLVE_NO_MAGICLINKS	0x02
#define RESOLVE_IN_ROOT		0x10

struct open_how_ {
	uint64_t flags, mode, resolve;
};

enum in_state { IN_HDR, IN_DATA, IN_PAD, IN_DONE };
enum data_kind { DATA_FILE, DATA_LONG, DATA_SKIP };

struct copy {
	uint16_t stream;
	bool out;
	int root;			/* the container's root, O_PATH */
	/* CP_OUT: a depth-first walk producing tar bytes */
	uint32_t window;
	struct { DIR *d; size_t plen; } stack[MAX_DEPTH];
	int depth;
	char path[TAR_PATH_MAX];	/* archive name of the directory on top */
	int top_dir;			/* parent of the requested path */
	char top_name[TAR_PATH_MAX];
	bool started, trailer;
	int file_fd;
	uint64_t file_left;
	uint32_t file_pad;
	uint8_t pend[TAR_HEADER_MAX + 2 * TAR_BLOCK];
	size_t pend_len, pend_off;
	/* CP_IN: a tar reader fed by TAR_DATA frames */
	char dest[TAR_PATH_MAX];
	uint8_t blk[TAR_BLOCK];
	size_t blen;
	enum in_state st;
	enum data_kind kind;
	uint64_t left;
	uint32_t pad;
	int fd;
	struct tar_entry cur;
	char *longbuf;
	size_t longlen;
	char next_name[TAR_PATH_MAX], next_link[TAR_PATH_MAX];
	int zeros;
	uint32_t consumed;
	struct error err;	/* why an upload stopped */
};

static int open_in(int root, const char *path, int flags)
{
	struct open_how_ how = {
		.flags = flags | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return syscall(SYS_openat2, root, *path ? path : ".", &how, sizeof(how));
}

static struct copy *find(struct agent *a, uint16_t stream)
{
	for (int i = 0; i < MAX_STREAMS; i++)
		if (a->copies[i] && a->copies[i]->stream == stream)
			return a->copies[i];
	return NULL;
}

static void copy_free(struct agent *a, struct copy *c)
{
	for (int i = 0; i < MAX_STREAMS; i++)
		if (a->copies[i] == c)
			a->copies[i] = NULL;
	while (c->depth > 0)
		closedir(c->stack[--c->depth].d);
	if (c->file_fd >= 0)
		close(c->file_fd);
	if (c->fd >= 0)
		close(c->fd);
	if (c->top_dir >= 0)
		close(c->top_dir);
	if (c->root >= 0)
		close(c->root);
	free(c->longbuf);
	free(c);
}

/* ---- CP_OUT ---- */

/* Queue the header of one entry; start its data or descend into it. */
static bool emit(struct copy *c, const char *name, const struct stat *st, int dirfd, const char *ent)
{
	char link[TAR_PATH_MAX];
	const char *lp = NULL;

	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dirfd, ent, link, sizeof(link) - 1);

		if (n < 0)
			return false;
		link[n] = 0;
		lp = link;
	}
	c->pend_len = tar_header(c->pend, sizeof(c->pend), name, st, lp);
	c->pend_off = 0;
	if (!c->pend_len)
		return false;	/* sockets and such */
	if (S_ISREG(st->st_mode)) {
		c->file_fd = openat(dirfd, ent, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		c->file_left = st->st_size;
		c->file_pad = tar_pad(st->st_size);
	} else if (S_ISDIR(st->st_mode) && c->depth < MAX_DEPTH) {
		int fd = openat(dirfd, ent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *d = fd < 0 ? NULL : fdopendir(fd);

		if (d) {
			size_t len = scat(c->path, sizeof(c->path), name, NULL);

			c->stack[c->depth].d = d;
			c->stack[c->depth++].plen = len;
		} else if (fd >= 0) {
			close(fd);
		}
	}
	return true;
}

static bool next_entry(struct copy *c)
{
	struct stat st;

	if (!c->started) {
		c->started = true;
		if (fstatat(c->top_dir, c->top_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    emit(c, c->top_name, &st, c->top_dir, c->top_name))
			return true;
	}
	while (c->depth > 0) {
		DIR *d = c->stack[c->depth - 1].d;
		struct dirent *de = readdir(d);
		char name[TAR_PATH_MAX];

		if (!de) {
			closedir(d);
			c->depth--;
			if (c->depth)
				c->path[c->stack[c->depth - 1].plen] = 0;
			continue;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (scat(name, sizeof(name), c->path, "/", de->d_name, NULL) >= sizeof(name) - 1)
			continue;	/* too long for us */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    emit(c, name, &st, dirfd(d), de->d_name))
			return true;
	}
	return false;
}

/* Up to cap bytes of the archive; 0 when it is complete. */
static size_t fill(struct copy *c, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	while (n < cap) {
		size_t k;

		if (c->pend_off < c->pend_len) {
			k = c->pend_len - c->pend_off < cap - n ? c->pend_len - c->pend_off : cap - n;
			memcpy(buf + n, c->pend + c->pend_off, k);
			c->pend_off += k;
			n += k;
		} else if (c->file_left) {
			ssize_t r = -1;

			k = c->file_left < cap - n ? c->file_left : cap - n;
			if (c->file_fd >= 0)
				r = read(c->file_fd, buf + n, k);
			if (r <= 0) {	/* shrank or unreadable: keep the archive whole with zeros */
				if (c->file_fd >= 0)
					close(c->file_fd);
				c->file_fd = -1;
				memset(buf + n, 0, k);
				r = k;
			}
			c->file_left -= r;
			n += r;
		} else if (c->file_pad) {
			if (c->file_fd >= 0)
				close(c->file_fd);
			c->file_fd = -1;
			k = c->file_pad < cap - n ? c->file_pad : cap - n;
			memset(buf + n, 0, k);
			c->file_pad -= k;
			n += k;
		} else {
			if (c->file_fd >= 0)
				close(c->file_fd);
			c->file_fd = -1;
			if (next_entry(c))
				continue;
			if (c->trailer)
				break;
			memset(c->pend, 0, 2 * TAR_BLOCK);
			c->pend_len = 2 * TAR_BLOCK;
			c->pend_off = 0;
			c->trailer = true;
		}
	}
	return n;
}

static void out_pump(struct agent *a, struct copy *c)
{
	uint8_t *buf = a->io_buf;

	while (c->window && a->vsock >= 0 && agent_backlog(a) < AGENT_BACKLOG_MAX) {
		size_t n = fill(c, buf, c->window < sizeof(a->io_buf) ? c->window : sizeof(a->io_buf));

		if (!n) {
			proto_put_frame(&a->out, PROTO_TAR_END, c->stream, NULL, 0);
			copy_free(a, c);
			return;
		}
		proto_put_frame(&a->out, PROTO_TAR_DATA, c->stream, buf, n);
		c->window -= n;
	}
}

static int start_out(struct copy *c, const char *rel)
{
	char dir[TAR_PATH_MAX];
	const char *slash = strrchr(rel, '/');

	if (!*rel) {
		scat(c->top_name, sizeof(c->top_name), ".", NULL);
		dir[0] = 0;
	} else if (slash) {
		scat(dir, sizeof(dir), rel, NULL);
		dir[slash - rel] = 0;
		scat(c->top_name, sizeof(c->top_name), slash + 1, NULL);
	} else {
		dir[0] = 0;
		scat(c->top_name, sizeof(c->top_name), rel, NULL);
	}
	c->top_dir = open_in(c->root, dir, O_PATH | O_DIRECTORY);
	if (c->top_dir < 0)
		return -errno;
	{
		struct stat st;

		if (fstatat(c->top_dir, c->top_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	c->window = PROTO_WINDOW_SIZE;
	return 0;
}

/* ---- CP_IN ---- */

static int fail_in(struct copy *c, int err, const char *what, const char *name)
{
	c->st = IN_DONE;
	return err_cat(&c->err, err ? -err : -EINVAL, what, name ? name : "", err ? ": " : "",
		       err ? strerror(err) : "", NULL);
}

/* The directory dest/dir in the container, created as needed; an O_PATH fd or -errno. */
static int open_parent(struct copy *c, const char *dir, bool create)
{
	char path[TAR_PATH_MAX * 2], *p;
	size_t base;
	int fd;

	base = scat(path, sizeof(path), c->dest, "/", NULL);
	fd = open_in(c->root, c->dest, O_PATH | O_DIRECTORY);
	for (const char *s = dir; fd >= 0 && *s;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		int next;

		if (base + n + 2 > sizeof(path)) {
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(path + base, s, n);
		path[base + n] = 0;
		next = open_in(c->root, path, O_PATH | O_DIRECTORY);
		if (next < 0 && errno == ENOENT && create) {
			p = path + base;
			if (mkdirat(fd, p, 0755) < 0 && errno != EEXIST) {
				close(fd);
				return -errno;
			}
			next = open_in(c->root, path, O_PATH | O_DIRECTORY);
		}
		close(fd);
		fd = next;
		path[base + n] = '/';
		base += n + 1;
		s += n;
		if (*s == '/')
			s++;
	}
	return fd < 0 ? -errno : fd;
}

static void set_meta(int dirfd, const char *name, const struct tar_entry *e, bool link)
{
	struct timespec ts[2] = { { e->mtime, 0 }, { e->mtime, 0 } };

	fchownat(dirfd, name, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);
	if (!link)
		fchmodat(dirfd, name, e->mode, 0);
	utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

/* Remove a non-directory in the way of a new entry. */
static int clear_way(int dirfd, const char *name, bool want_dir)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode))
		return want_dir ? 1 : -EISDIR;
	return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
}

static int create_entry(struct copy *c)
{
	struct tar_entry *e = &c->cur;
	char rel[TAR_PATH_MAX], *dir, *base;
	int pfd, ret = 0;

	if (path_clean(e->name, PATH_DOTDOT_REJECT, rel, sizeof(rel)))
		return fail_in(c, 0, "archive path leaves the destination: ", e->name);
	if (!*rel)
		return 0;	/* the destination itself */
	path_split(rel, &dir, &base);
	pfd = open_parent(c, dir, true);
	if (pfd < 0)
		return fail_in(c, -pfd, "create the directory of ", e->name);
	switch (e->type) {
	case '5':
		ret = clear_way(pfd, base, true);
		if (ret == 0 && mkdirat(pfd, base, 0700) < 0)
			ret = -errno;
		if (ret >= 0) {
			set_meta(pfd, base, e, false);
			ret = 0;
		}
		break;
	case '0':
		ret = clear_way(pfd, base, false);
		if (!ret) {
			c->fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (c->fd < 0)
				ret = -errno;
		}
		break;
	case '2':
		ret = clear_way(pfd, base, false);
		if (!ret && symlinkat(e->link, pfd, base) < 0)
			ret = -errno;
		if (!ret)
			set_meta(pfd, base, e, true);
		break;
	case '1': {
		char trel[TAR_PATH_MAX], *tdir, *tbase;
		int tfd;

		if (path_clean(e->link, PATH_DOTDOT_REJECT, trel, sizeof(trel)) || !*trel) {
			close(pfd);
			return fail_in(c, 0, "hard link target leaves the destination: ", e->link);
		}
		path_split(trel, &tdir, &tbase);
		tfd = open_parent(c, tdir, false);
		ret = tfd < 0 ? tfd : clear_way(pfd, base, false);
		if (!ret && linkat(tfd, tbase, pfd, base, 0) < 0)
			ret = -errno;
		if (tfd >= 0)
			close(tfd);
		break;
	}
	case '3':
	case '4':
	case '6':
		ret = clear_way(pfd, base, false);
		if (!ret && mknodat(pfd, base, (e->type == '6' ? S_IFIFO : e->type == '3' ? S_IFCHR : S_IFBLK) | 0600,
				    makedev(e->devmajor, e->devminor)) < 0)
			ret = -errno;
		if (!ret)
			set_meta(pfd, base, e, false);
		break;
	default:
		break;	/* unknown types are skipped */
	}
	close(pfd);
	if (ret < 0)
		return fail_in(c, -ret, "extract ", e->name);
	return 0;
}

static void close_file(struct copy *c)
{
	struct timespec ts[2] = { { c->cur.mtime, 0 }, { c->cur.mtime, 0 } };

	if (c->fd < 0)
		return;
	fchown(c->fd, c->cur.uid, c->cur.gid);
	fchmod(c->fd, c->cur.mode);	/* after chown, which clears set-id bits */
	futimens(c->fd, ts);
	close(c->fd);
	c->fd = -1;
}

static int header(struct copy *c)
{
	struct tar_entry *e = &c->cur;
	int ret = tar_parse(c->blk, e);

	if (ret < 0)
		return fail_in(c, 0, "not a tar archive (bad header)", NULL);
	if (ret == 0) {
		if (++c->zeros == 2)
			c->st = IN_DONE;
		return 0;
	}
	c->zeros = 0;
	c->left = e->size;
	c->pad = tar_pad(e->size);
	c->kind = DATA_SKIP;
	if (e->type == 'x' || e->type == 'L' || e->type == 'K') {
		if (e->size > TAR_LONG_MAX)
			return fail_in(c, 0, "oversized pax or long-name header", NULL);
		free(c->longbuf);
		c->longbuf = malloc(e->size + 1);
		if (!c->longbuf)
			return fail_in(c, ENOMEM, "archive", NULL);
		c->longlen = 0;
		c->kind = DATA_LONG;
	} else if (e->type != 'g') {
		/* Names from a preceding pax or GNU header win. */
		if (c->next_name[0])
			scat(e->name, sizeof(e->name), c->next_name, NULL);
		if (c->next_link[0])
			scat(e->link, sizeof(e->link), c->next_link, NULL);
		c->next_name[0] = c->next_link[0] = 0;
		ret = create_entry(c);
		if (ret)
			return ret;
		if (c->fd >= 0)
			c->kind = DATA_FILE;
	}
	c->st = c->left ? IN_DATA : (c->pad ? IN_PAD : IN_HDR);
	if (c->st == IN_HDR)
		close_file(c);
	return 0;
}

static int long_done(struct copy *c)
{
	struct tar_entry *e = &c->cur;

	c->longbuf[c->longlen] = 0;
	if (e->type == 'x')
		return tar_pax(c->longbuf, c->longlen, c->next_name, c->next_link) ?
		       fail_in(c, 0, "malformed pax header", NULL) : 0;
	if (strlen(c->longbuf) >= TAR_PATH_MAX)
		return fail_in(c, 0, "long name over 4095 bytes", NULL);
	scat(e->type == 'L' ? c->next_name : c->next_link, TAR_PATH_MAX, c->longbuf, NULL);
	return 0;
}

static int feed(struct copy *c, const uint8_t *p, size_t n)
{
	while (n && c->st != IN_DONE) {
		size_t k;

		switch (c->st) {
		case IN_HDR:
			k = TAR_BLOCK - c->blen < n ? TAR_BLOCK - c->blen : n;
			memcpy(c->blk + c->blen, p, k);
			c->blen += k;
			if (c->blen == TAR_BLOCK) {
				c->blen = 0;
				if (header(c))
					return -1;
			}
			break;
		case IN_DATA:
			k = c->left < n ? c->left : n;
			if (c->kind == DATA_FILE && write_full(c->fd, p, k))
				return fail_in(c, errno, "write ", c->cur.name);
			if (c->kind == DATA_LONG) {
				memcpy(c->longbuf + c->longlen, p, k);
				c->longlen += k;
			}
			c->left -= k;
			if (!c->left) {
				if (c->kind == DATA_LONG && long_done(c))
					return -1;
				close_file(c);
				c->st = c->pad ? IN_PAD : IN_HDR;
			}
			break;
		case IN_PAD:
			k = c->pad < n ? c->pad : n;
			c->pad -= k;
			if (!c->pad)
				c->st = IN_HDR;
			break;
		default:
			k = n;
		}
		p += k;
		n -= k;
	}
	return 0;
}

static int start_in(struct copy *c, const char *rel)
{
	int fd;

	scat(c->dest, sizeof(c->dest), rel, NULL);
	fd = open_in(c->root, rel, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* ---- streams ---- */

void copy_start(struct agent *a, const struct proto_frame *f)
{
	char path[TAR_PATH_MAX], rel[TAR_PATH_MAX], root[64], n[21];
	struct copy *c;
	int slot = -1, ret;

	for (int i = 0; i < MAX_STREAMS && slot < 0; i++)
		if (!a->copies[i])
			slot = i;
	if (slot < 0 || find(a, f->stream)) {
		agent_result(a, f->stream, EBUSY, "too many copies");
		return;
	}
	if (proto_path_decode(f->payload, f->len, path, sizeof(path)) ||
	    path_clean(path, PATH_DOTDOT_REJECT, rel, sizeof(rel))) {
		agent_result(a, f->stream, EINVAL, "bad path (absolute, without '..')");
		return;
	}
	if (!a->main_pid || a->main_done) {
		agent_result(a, f->stream, ESRCH, "the container is not running");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		agent_result(a, f->stream, ENOMEM, "out of memory");
		return;
	}
	c->stream = f->stream;
	c->out = f->type == PROTO_CP_OUT;
	c->file_fd = c->fd = c->top_dir = -1;
	scat(root, sizeof(root), "/proc/", utoa(a->main_pid, n), "/root", NULL);
	c->root = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ret = c->root < 0 ? -errno : c->out ? start_out(c, rel) : start_in(c, rel);
	a->copies[slot] = c;
	if (ret) {
		err_cat(&c->err, ret, path, ": ", strerror(-ret), NULL);
		agent_result(a, f->stream, -ret, c->err.msg);
		copy_free(a, c);
	}
}

void copy_frame(struct agent *a, const struct proto_frame *f)
{
	struct copy *c = find(a, f->stream);
	uint64_t v;

	if (!c)
		return;
	if (c->out) {
		if (f->type == PROTO_WINDOW && !proto_u64_decode(f->payload, f->len, TAG_INCREMENT, &v) &&
		    v <= PROTO_MAX_PAYLOAD * 64ULL && c->window + v <= PROTO_MAX_PAYLOAD * 64ULL)
			c->window += v;
		return;
	}
	if (f->type == PROTO_TAR_DATA) {
		if (feed(c, f->payload, f->len)) {
			close_file(c);
			agent_result(a, c->stream, EINVAL, c->err.msg);
			copy_free(a, c);
			return;
		}
		c->consumed += f->len;
		if (c->consumed >= PROTO_WINDOW_SIZE / 4) {
			proto_u64_encode(&a->out, PROTO_WINDOW, c->stream, TAG_INCREMENT, c->consumed);
			c->consumed = 0;
		}
	} else if (f->type == PROTO_TAR_END) {
		close_file(c);
		if (c->st == IN_DONE || (c->st == IN_HDR && !c->blen))
			agent_result(a, c->stream, 0, NULL);
		else
			agent_result(a, c->stream, EINVAL, "truncated archive");
		copy_free(a, c);
	}
}

void copy_pump(struct agent *a)
{
	for (int i = 0; i < MAX_STREAMS; i++)
		if (a->copies[i] && a->copies[i]->out)
			out_pump(a, a->copies[i]);
}

bool copy_busy(struct agent *a)
{
	if (a->vsock < 0 || agent_backlog(a) >= AGENT_BACKLOG_MAX)
		return false;
	for (int i = 0; i < MAX_STREAMS; i++)
		if (a->copies[i] && a->copies[i]->out && a->copies[i]->window)
			return true;
	return false;
}
