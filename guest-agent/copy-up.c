/*
 * A new volume gets the image's content at its mount point, as docker copies
 * it into an empty volume (docs/volumes.md). The agent copies in the guest,
 * from the image's folder (an fd opened before the volume covered it) into
 * the mounted share, so the image's data reaches the host only through the
 * sandboxed virtiofsd. Folders, files and symlinks are copied with their
 * owners, modes and times; device nodes, FIFOs and sockets are left out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest-agent/agent.h"

#define COPY_UP_DEPTH	256	/* deeper trees are an image's trap, not data */

static int copy_tree(int src, int dst, unsigned depth);

/* Owner, then mode (chown clears setuid bits), then times. */
static int set_meta(int fd, const struct stat *st)
{
	struct timespec t[2] = { st->st_atim, st->st_mtim };

	if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0 ||
	    futimens(fd, t) < 0)
		return -errno;
	return 0;
}

static int copy_file(int src, int dst, const char *name, const struct stat *st)
{
	int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out, ret = 0;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return -errno;
	out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if ((ret = write_full(out, buf, n)))
			break;
	if (n < 0)
		ret = -errno;
	if (!ret)
		ret = set_meta(out, st);
	close(in);
	close(out);
	return ret;
}

static int copy_link(int src, int dst, const char *name, const struct stat *st)
{
	char target[4096];
	struct timespec t[2] = { st->st_atim, st->st_mtim };
	ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	target[n] = 0;
	if (symlinkat(target, dst, name) < 0 ||
	    fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    utimensat(dst, name, t, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int copy_dir(int src, int dst, const char *name, const struct stat *st, unsigned depth)
{
	int s, d, ret;

	if (mkdirat(dst, name, 0700) < 0)
		return -errno;
	s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ret = s < 0 || d < 0 ? -errno : copy_tree(s, d, depth + 1);
	if (!ret)
		ret = set_meta(d, st);	/* after its content: the times stay the image's */
	if (s >= 0)
		close(s);
	if (d >= 0)
		close(d);
	return ret;
}

/* Everything in src into dst. */
static int copy_tree(int src, int dst, unsigned depth)
{
	int fd = dup(src), ret = 0;
	DIR *dir;
	struct dirent *de;

	if (depth > COPY_UP_DEPTH)
		return -ELOOP;
	if (fd < 0 || !(dir = fdopendir(fd))) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return ret;
	}
	rewinddir(dir);		/* the dup shares the offset of an fd read before */
	while (!ret && (errno = 0, de = readdir(dir))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(src, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			ret = -errno;
		else if (S_ISDIR(st.st_mode))
			ret = copy_dir(src, dst, de->d_name, &st, depth);
		else if (S_ISREG(st.st_mode))
			ret = copy_file(src, dst, de->d_name, &st);
		else if (S_ISLNK(st.st_mode))
			ret = copy_link(src, dst, de->d_name, &st);
	}
	if (!ret && errno)
		ret = -errno;
	closedir(dir);
	return ret;
}

static bool is_empty(int dirfd)
{
	int fd = dup(dirfd);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	bool empty = true;

	if (!dir) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	rewinddir(dir);
	while (empty && (de = readdir(dir)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(dir);
	return empty;
}

int copy_up(int src, int dst)
{
	struct stat st;
	int ret;

	if (!is_empty(dst) || is_empty(src))
		return 0;	/* a volume in use keeps its data; nothing to give an empty one */
	if (fstat(src, &st) < 0)
		return -errno;
	ret = copy_tree(src, dst, 0);
	return ret ? ret : set_meta(dst, &st);	/* the volume takes the folder's owner and mode */
}
