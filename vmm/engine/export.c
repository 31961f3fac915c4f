/*
 * vmm diff / vmm export: the container's disk opened read-only with its backing chain
 * (trusted only inside $VMM_ROOT/disks), under the shared run lock so that it cannot start
 * meanwhile, and handed to rootfs_diff: against the base disk below the overlay for diff,
 * alone for export.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "images/disk/disk.h"
#include "vmm/base/error.h"
#include "vmm/engine/container.h"
#include "vmm/engine/export.h"

struct opened {
	struct container *ct;
	int lock;
	struct disk *disk;
	struct rootfs_image *child, *parent;
};

static void release(struct opened *o)
{
	rootfs_image_close(o->parent);
	rootfs_image_close(o->child);
	disk_close(o->disk);
	if (o->lock >= 0)
		close(o->lock);
	container_free(o->ct);
}

static int open_container(const struct paths *p, const char *ref, bool with_parent,
			  struct opened *o, struct error *e)
{
	char dir[4096], path[4096];
	const char *trusted[] = { dir, NULL };
	struct disk_open_opts opts = { .format = DISK_FMT_QCOW2, .read_only = true,
				       .trusted_dirs = trusted };
	struct disk *base;
	int ret;

	*o = (struct opened){ .lock = -1 };
	ret = container_open(p->root, ref, &o->ct, e);
	if (ret)
		return ret;
	ret = container_lock_shared(o->ct, &o->lock);
	if (ret == -EBUSY)
		return err_set(e, ret, "container %s is running: stop it first ('vmm stop %s'); "
			       "its disk is read only while no guest writes it", ref, ref);
	if (ret)
		return err_sys(e, ret, "container %s: its run lock", ref);
	snprintf(dir, sizeof(dir), "%s/disks", p->root);
	ret = container_path(o->ct, "disk.qcow2", path, sizeof(path));
	if (!ret)
		ret = disk_open(path, &opts, &o->disk, e);
	else
		err_sys(e, ret, "%s", path);
	if (!ret)
		ret = rootfs_image_open_disk(o->disk, path, &o->child, e);
	if (!ret && with_parent) {
		base = disk_backing(o->disk);
		if (!base)
			ret = err_set(e, -EINVAL, "%s: no base disk below the overlay", path);
		else
			ret = rootfs_image_open_disk(base, base->path, &o->parent, e);
	}
	if (ret)
		err_wrap(e, ret, "container %s", ref);
	return ret;
}

int engine_diff(const struct paths *p, const char *ref, rootfs_change_fn fn, void *arg,
		struct error *e)
{
	struct opened o;
	int ret = open_container(p, ref, true, &o, e);

	if (!ret && (ret = rootfs_diff_flags(o.parent, o.child, -1, fn, arg, NULL,
					     ROOTFS_DIFF_NO_MOUNT_STUBS, e)))
		err_wrap(e, ret, "container %s", ref);
	release(&o);
	return ret;
}

int engine_export(const struct paths *p, const char *ref, int fd, struct error *e)
{
	struct opened o;
	int ret = open_container(p, ref, false, &o, e);

	if (!ret && (ret = rootfs_diff(NULL, o.child, fd, NULL, NULL, NULL, e)))
		err_wrap(e, ret, "container %s", ref);
	release(&o);
	return ret;
}

int engine_diff_tar(const struct paths *p, const char *ref, unsigned flags, int fd,
		    struct error *e)
{
	struct opened o;
	int ret = open_container(p, ref, true, &o, e);

	if (!ret && (ret = rootfs_diff_flags(o.parent, o.child, fd, NULL, NULL, NULL, flags, e)))
		err_wrap(e, ret, "container %s", ref);
	release(&o);
	return ret;
}
