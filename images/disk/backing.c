/*
 * Backing-file policy. A backing name inside an image was chosen by whoever
 * made the image, so it is a hostile host path: we follow it only when it
 * resolves (after symlinks) inside a trusted directory (vmm's store), or
 * inside the image's own directory when it looks like a disk image (a qcow2,
 * or a disk's file name, reached through no hidden file or folder), unless
 * the user passed --allow-unsafe-backing. Loops and chains deeper than DISK_MAX_CHAIN are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/disk/disk-internal.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"

char *disk_backing_path(const char *image_path, const char *name)
{
	const char *slash;
	char *out;

	if (name[0] == '/')
		return strdup(name);
	slash = strrchr(image_path, '/');
	if (!slash)
		return strdup(name);
	if (asprintf(&out, "%.*s/%s", (int)(slash - image_path), image_path, name) < 0)
		return NULL;
	return out;
}

/* Real path of an open fd, from /proc, else from realpath() of the name. */
static char *fd_real_path(int fd, const char *fallback)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n > 0 && buf[0] == '/') {
		buf[n] = '\0';
		return strdup(buf);
	}
	return realpath(fallback, NULL);
}

/* Is real (a resolved path) dir itself or inside dir (resolved here)? */
static bool path_inside(const char *real, const char *dir)
{
	char *rdir = realpath(dir, NULL);
	size_t n;
	bool in;

	if (!rdir)
		return false;
	n = strlen(rdir);
	while (n > 1 && rdir[n - 1] == '/')
		n--;
	in = strncmp(real, rdir, n) == 0 && (real[n] == '/' || (n == 1 && rdir[0] == '/'));
	free(rdir);
	return in;
}

static char *image_dir(const char *image_path)
{
	const char *slash = strrchr(image_path, '/');

	if (!slash)
		return strdup(".");
	if (slash == image_path)
		return strdup("/");
	return strndup(image_path, slash - image_path);
}

/*
 * Beside the image, only what looks like a disk image: no hidden file or
 * folder on the way (.ssh/id_rsa), and a qcow2 or a name a disk has. A
 * home folder holds more than disks; an image someone sent must not make
 * vmm read your keys as its backing store.
 */
static bool looks_like_disk(const char *dir, const char *real)
{
	static const char *const ext[] = { ".raw", ".img", ".qcow2", ".qcow", ".disk", ".iso", ".bin" };
	char rdir[PATH_MAX], magic[4] = { 0 };
	const char *rel, *base = strrchr(real, '/');
	bool named = false;
	int fd;

	if (!realpath(dir, rdir))
		return false;
	for (rel = real + strlen(rdir); *rel; rel++)
		if (rel[0] == '/' && rel[1] == '.')
			return false;
	for (size_t i = 0; base && i < ARRAY_SIZE(ext); i++)
		named |= str_has_suffix(base, ext[i]);
	if (named)
		return true;
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd >= 0) {
		if (read(fd, magic, sizeof(magic)) != sizeof(magic))
			magic[0] = 0;
		close(fd);
	}
	return !memcmp(magic, "QFI\xfb", 4);
}

static bool backing_allowed(const char *image_path, const char *real,
			    const struct disk_open_opts *opts)
{
	char *dir;
	bool ok;

	if (opts->allow_unsafe_backing)
		return true;
	for (const char *const *t = opts->trusted_dirs; t && *t; t++)
		if (path_inside(real, *t))
			return true;	/* the store made it */
	dir = image_dir(image_path);
	ok = dir && path_inside(real, dir) && looks_like_disk(dir, real);
	free(dir);
	return ok;
}

int disk_backing_check(const char *image_path, const char *name, const struct disk_open_opts *opts)
{
	char *path = disk_backing_path(image_path, name);
	char *real = path ? realpath(path, NULL) : NULL;
	int ret;

	if (!path)
		return -ENOMEM;
	if (!real)
		ret = -errno;
	else
		ret = backing_allowed(image_path, real, opts) ? 0 : -EPERM;
	free(real);
	free(path);
	return ret;
}

int disk_backing_open(const char *image_path, const char *name, enum disk_format fmt,
		      const struct disk_open_opts *opts, struct disk_chain *chain,
		      struct disk **out, struct error *e)
{
	struct disk_open_opts bopts = *opts;
	char *path = NULL, *real = NULL, link[64];
	struct stat st;
	int pfd = -1, fd = -1, ret;

	if (!name[0])
		return err_set(e, -EINVAL, "%s: empty backing file name", image_path);
	if (chain->depth > DISK_MAX_CHAIN)
		return err_set(e, -ELOOP, "%s: backing chain deeper than %d images", image_path, DISK_MAX_CHAIN);
	path = disk_backing_path(image_path, name);
	if (!path)
		return err_set(e, -ENOMEM, "%s: out of memory", image_path);
	/* O_PATH: no open side effects (devices, fifos) before the policy says yes. */
	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0) {
		ret = err_set(e, -errno, "%s: cannot open backing file %s: %s", image_path, path, strerror(errno));
		goto out;
	}
	real = fd_real_path(pfd, path);
	if (!real) {
		ret = errno ? -errno : -ENOMEM;
		err_set(e, ret, "%s: cannot resolve backing file %s: %s", image_path, path, strerror(-ret));
		goto out;
	}
	if (!backing_allowed(image_path, real, opts)) {
		bool same = !strcmp(name, real);

		ret = err_set(e, -EPERM, "%s: backing file %s%s%s%s is not a disk image beside it nor in the "
			      "trusted directories (use --allow-unsafe-backing to follow it)", image_path, name,
			      same ? "" : " (resolves to ", same ? "" : real, same ? "" : ")");
		goto out;
	}
	if (fstat(pfd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		ret = err_set(e, -EINVAL, "%s: backing file %s is not a regular file or block device", image_path, real);
		goto out;
	}
	for (unsigned i = 0; i < chain->depth; i++) {
		if (chain->dev[i] == st.st_dev && chain->ino[i] == st.st_ino) {
			ret = err_set(e, -ELOOP, "%s: backing file loop: %s is already in the chain", image_path, real);
			goto out;
		}
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", pfd);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ret = err_set(e, -errno, "%s: cannot open backing file %s: %s", image_path, real, strerror(errno));
		goto out;
	}
	{
		struct stat st2;

		if (fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
			close(fd);
			ret = err_set(e, -EAGAIN, "%s: backing file %s changed while opening it", image_path, real);
			goto out;
		}
	}
	chain->dev[chain->depth] = st.st_dev;
	chain->ino[chain->depth] = st.st_ino;
	chain->depth++;
	bopts.read_only = true;
	bopts.format = fmt;
	ret = disk_open_fd(fd, path, fmt, &bopts, chain, out, e);
	chain->depth--;
out:
	if (pfd >= 0)
		close(pfd);
	free(real);
	free(path);
	return ret;
}
