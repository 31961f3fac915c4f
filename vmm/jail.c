/*
 * The VMM process's own view of the host (docs/sandbox.md): a private mount
 * namespace whose root is an empty, read-only tmpfs holding only the folders
 * and files it names, at their own paths, and no capabilities. Everything
 * else it uses (the VM, disks, sockets, virtiofsd) is a descriptor opened
 * before. A non-root user gets the mount namespace through a user namespace
 * of its own (its uid mapped to itself).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/confine.h"

#define JAIL_BASE	"/tmp"	/* where the new root is built, in our namespace only (as bubblewrap does) */
#define JAIL_MAX	16

struct tree {
	char path[PATH_MAX];	/* absolute, as the process names it */
	int fd;			/* the detached copy (open_tree) */
	bool dir, read_only;
};

static int write_to(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		ret = -errno;
	close(fd);
	return ret;
}

/* The host does not allow it: 1 with e saying what (the caller goes on without the jail); else -errno. */
static int unavailable(struct error *e, const char *what)
{
	int err = errno;

	err_set(e, -err, "%s: %s", what, strerror(err));
	return err == EPERM || err == EINVAL || err == ENOSPC || err == ENOSYS || err == EACCES ? 1 : -err;
}

/* root: a mount namespace of our own; anyone else: with a user namespace mapping us to ourselves. */
static int own_namespace(struct error *e)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	int ret;

	if (uid == 0 && unshare(CLONE_NEWNS) < 0)
		return unavailable(e, "a mount namespace of its own (a container without CAP_SYS_ADMIN?)");
	if (uid == 0)
		return 0;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return unavailable(e, "a user namespace of its own (kernel.unprivileged_userns_clone=0?)");
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if ((ret = write_to("/proc/self/uid_map", map)))
		return err_sys(e, ret, "/proc/self/uid_map");
	if ((ret = write_to("/proc/self/setgroups", "deny")))
		return err_sys(e, ret, "/proc/self/setgroups");
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if ((ret = write_to("/proc/self/gid_map", map)))
		return err_sys(e, ret, "/proc/self/gid_map");
	return 0;
}

/* A copy of path's mount, detached, taken while path is still in view. */
static int take(struct tree *t, const char *path, bool read_only, bool optional, struct error *e)
{
	struct stat st;

	if (!realpath(path, t->path)) {
		if (optional && errno == ENOENT)
			return 1;
		return err_sys(e, -errno, "%s", path);
	}
	if (path[0] == '/')	/* its own name, not its target's: the process opens it by that name */
		snprintf(t->path, sizeof(t->path), "%s", path);
	t->fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (t->fd < 0 || fstat(t->fd, &st) < 0)
		return err_sys(e, -errno, "%s: cannot keep it in view", path);
	t->dir = S_ISDIR(st.st_mode);
	t->read_only = read_only;
	return 0;
}

/* The mount point for t under JAIL_BASE: its parents, then an empty folder or file. */
static int mount_point(const struct tree *t, char *at, size_t len)
{
	char *slash;
	int fd;

	if ((size_t)snprintf(at, len, JAIL_BASE "%s", t->path) >= len)
		return -ENAMETOOLONG;
	for (slash = strchr(at + strlen(JAIL_BASE) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(at, 0755) < 0 && errno != EEXIST)
			return -errno;
		*slash = '/';
	}
	if (t->dir)
		return mkdir(at, 0755) < 0 && errno != EEXIST ? -errno : 0;
	fd = open(at, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	close(fd);
	return 0;
}

static int place(const struct tree *t, struct error *e)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC };
	char at[PATH_MAX + sizeof(JAIL_BASE)];
	int ret = mount_point(t, at, sizeof(at));

	if (ret)
		return err_sys(e, ret, "%s: no place for it", t->path);
	if (t->dir)
		attr.attr_set |= MOUNT_ATTR_NODEV;	/* device nodes are kept one by one, as files */
	if (t->read_only)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (move_mount(t->fd, "", AT_FDCWD, at, MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
	    mount_setattr(AT_FDCWD, at, 0, &attr, sizeof(attr)) < 0)
		return err_sys(e, -errno, "%s: cannot keep it in view", t->path);
	return 0;
}

/* Parents before their children: a folder kept inside another is mounted over it after it. */
static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct tree *)a)->path, ((const struct tree *)b)->path);
}

static int enter(const char *cwd, struct error *e)
{
	if (chdir(JAIL_BASE) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0)
		return err_sys(e, -errno, "pivot_root into its own root");
	/* the skeleton of folders is fixed now; what is kept keeps its own flags */
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return err_sys(e, -errno, "its root: read-only");
	if (!cwd || chdir(cwd) < 0)	/* relative names (vmm --root DIR) still resolve */
		return chdir("/") < 0 ? err_sys(e, -errno, "chdir /") : 0;
	return 0;
}

int confine_jail(const struct confine_jail *j, struct error *e)
{
	struct tree trees[JAIL_MAX];
	char cwd[PATH_MAX];
	size_t n = 0;
	int ret;

	for (const char *const *p = j->dirs; p && *p; p++)
		if (realpath(*p, cwd) && !strcmp(cwd, "/"))	/* a view of everything is no jail */
			return err_set(e, -EINVAL, "%s is the host's root", *p), 1;
	if ((ret = own_namespace(e)))
		return ret;	/* 1: the host allows none */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return err_sys(e, -errno, "a private mount namespace");
	ret = take(&trees[n], "/proc/self", false, false, e);	/* our own /proc entry only */
	n += !ret;
	for (const char *const *p = j->dirs; !ret && p && *p && n < JAIL_MAX; p++)
		if (!(ret = take(&trees[n], *p, false, false, e)))
			n++;
	for (const char *const *p = j->files; !ret && p && *p && n < JAIL_MAX; p++) {
		int kept = take(&trees[n], *p, !str_has_prefix(*p, "/dev/"), true, e);

		if (kept < 0)
			ret = kept;
		n += kept == 0;
	}
	if (ret)
		goto out;
	if (mount("tmpfs", JAIL_BASE, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") < 0) {
		ret = err_sys(e, -errno, "a tmpfs for its root");
		goto out;
	}
	qsort(trees, n, sizeof(trees[0]), by_path);
	for (size_t i = 0; !ret && i < n; i++)
		ret = place(&trees[i], e);
	if (!ret)
		ret = enter(getcwd(cwd, sizeof(cwd)), e);
out:
	for (size_t i = 0; i < n; i++)
		close(trees[i].fd);
	return ret;
}

int confine_drop_caps(struct error *e)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = { 0 };

	/* the bounding set first: dropping from it needs CAP_SETPCAP, still ours */
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM)
			return err_sys(e, -errno, "capability %d: cannot drop it", cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return err_sys(e, -errno, "ambient capabilities");
	if (syscall(SYS_capset, &hdr, none) < 0)
		return err_sys(e, -errno, "capabilities: cannot drop them");
	return 0;
}
