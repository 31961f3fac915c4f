/* Sized volumes: an ext4 image on a loop device, mounted on _data (see volume-disk.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/rootfs/rootfs.h"
#include "vmm/base/error.h"
#include "vmm/engine/volume-disk.h"

#define LOOP_TRIES	16	/* another process may take the free device first */

static int path_in(const char *dir, const char *leaf, char *buf, size_t len, struct error *e)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, leaf) >= len)
		return err_set(e, -ENAMETOOLONG, "volume folder %s: too long", dir);
	return 0;
}

int volume_disk_create(const char *dir, uint64_t size, struct error *e)
{
	struct rootfs_opts o = { .size = size, .label = "vmm-volume" };
	char path[4096];
	int ret = path_in(dir, VOLUME_DISK, path, sizeof(path), e);

	if (!ret)
		ret = rootfs_build(NULL, 0, path, &o, NULL, e);
	return ret;
}

bool volume_disk_present(const char *dir)
{
	char path[4096];

	return !path_in(dir, VOLUME_DISK, path, sizeof(path), NULL) && access(path, F_OK) == 0;
}

/* Is something mounted on DIR/_data? Its device differs from DIR's. */
static int mounted(const char *dir, const char *data, bool *yes, struct error *e)
{
	struct stat d, v;

	if (stat(data, &d) < 0 || stat(dir, &v) < 0)
		return err_sys(e, -errno, "volume folder %s", dir);
	*yes = d.st_dev != v.st_dev;
	return 0;
}

/*
 * A free loop device backed by fd: its path in dev, an open descriptor of it
 * in *lfd (AUTOCLEAR frees the device at the last close once nothing
 * mounts it: hold it until the mount does).
 */
static int loop_attach(int fd, char *dev, size_t len, int *lfd, struct error *e)
{
	struct loop_config lc = { .fd = (unsigned)fd, .info = { .lo_flags = LO_FLAGS_AUTOCLEAR } };
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC), ret = -EBUSY;

	if (ctl < 0)
		return err_sys(e, -errno, "/dev/loop-control (sized volumes need root and the loop module)");
	for (int i = 0; i < LOOP_TRIES && ret == -EBUSY; i++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0) {
			ret = -errno;
			break;
		}
		snprintf(dev, len, "/dev/loop%d", n);
		*lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (*lfd < 0) {
			ret = -errno;
			break;
		}
		ret = ioctl(*lfd, LOOP_CONFIGURE, &lc) < 0 ? -errno : 0;
		if (ret) {
			close(*lfd);
			*lfd = -1;
		}
	}
	close(ctl);
	return ret ? err_sys(e, ret, "a loop device for the volume's disk") : 0;
}

int volume_disk_mount(const char *dir, struct error *e)
{
	char img[4096], data[4096], dev[32];
	bool yes = false;
	int lock, fd, lfd = -1, ret;

	if ((ret = path_in(dir, VOLUME_DISK, img, sizeof(img), e)) || (ret = path_in(dir, "_data", data, sizeof(data), e)))
		return ret;
	/* two containers starting at once: one mounts, the other sees it mounted */
	lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		ret = err_sys(e, -errno, "volume folder %s", dir);
		goto out;
	}
	if ((ret = mounted(dir, data, &yes, e)) || yes)
		goto out;
	fd = open(img, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ret = err_sys(e, -errno, "%s", img);
		goto out;
	}
	ret = loop_attach(fd, dev, sizeof(dev), &lfd, e);
	close(fd);
	if (!ret && mount(dev, data, "ext4", MS_NOSUID | MS_NODEV, NULL) < 0)
		ret = err_sys(e, -errno, "mount %s on %s", img, data);
	if (lfd >= 0)
		close(lfd);	/* the mount holds the device now; unmounted, AUTOCLEAR lets it go */
	if (!ret && !path_in(data, "lost+found", img, sizeof(img), NULL))
		rmdir(img);	/* a new volume is empty (docker's copy-up looks), as a folder's is */
out:
	if (lock >= 0)
		close(lock);
	return ret;
}

int volume_disk_unmount(const char *dir, struct error *e)
{
	char data[4096];
	bool yes = false;
	int ret = path_in(dir, "_data", data, sizeof(data), e);

	if (ret || (ret = mounted(dir, data, &yes, e)) || !yes)
		return ret;
	if (umount2(data, UMOUNT_NOFOLLOW) < 0)
		return err_sys(e, -errno, "unmount %s", data);
	return 0;
}
