/*
 * A guest's root disk as rootfs_diff reads it: a small ext4 image (files, directories, an
 * indexed one, links, devices, xattrs, a sparse file) built once with rootfs_build,
 * then patched by the input: records of [u32 where][u8 len][len bytes], where picks a
 * non-zero 4 KiB block of the image (metadata, directories, extents, the journal) and an
 * offset in it. The patched image is diffed against the pristine one and exported whole
 * (to /dev/null), then restored. Errors are expected; crashes, leaks, hangs are not.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/disk/disk.h"
#include "images/rootfs/diff.h"
#include "images/rootfs/rootfs.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BLOCK	4096
#define MAXREC	64

struct setup {
	char dir[128], layer[160], base[160], child[160];
	int fd, null;
	uint32_t *blocks;	/* non-zero blocks of the image */
	size_t nblocks;
	struct rootfs_image *parent;
};

static void add(struct archive *a, const char *name, mode_t mode, const char *data, size_t len,
		const char *link, bool hard)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_mode(e, mode);
	archive_entry_set_mtime(e, 1600000000, 123);
	if (S_ISREG(mode) && !hard)
		archive_entry_set_size(e, (la_int64_t)len);
	if (link && hard)
		archive_entry_set_hardlink(e, link);
	else if (link)
		archive_entry_set_symlink(e, link);
	if (S_ISCHR(mode)) {
		archive_entry_set_rdevmajor(e, 300);
		archive_entry_set_rdevminor(e, 70000);
	}
	if (!strcmp(name, "etc/xattr"))
		archive_entry_xattr_add_entry(e, "user.fuzz", "value", 5);
	archive_write_header(a, e);
	if (len)
		archive_write_data(a, data, len);
	archive_entry_free(e);
}

static void make_layer(const char *path)
{
	struct archive *a = archive_write_new();
	static char big[3 * 1024 * 1024];
	char name[200], longlink[200];

	archive_write_set_format_pax(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		abort();
	add(a, "etc/", S_IFDIR | 0755, NULL, 0, NULL, false);
	add(a, "etc/passwd", S_IFREG | 0644, "root:x:0:0::/root:/bin/sh\n", 26, NULL, false);
	add(a, "etc/xattr", S_IFREG | 04755, "x", 1, NULL, false);
	add(a, "etc/link", S_IFREG | 0644, NULL, 0, "etc/passwd", true);
	add(a, "bin/", S_IFDIR | 0755, NULL, 0, NULL, false);
	add(a, "bin/sh", S_IFLNK | 0777, NULL, 0, "busybox", false);
	memset(longlink, 'l', sizeof(longlink) - 1);
	longlink[sizeof(longlink) - 1] = '\0';
	add(a, "bin/long", S_IFLNK | 0777, NULL, 0, longlink, false);
	add(a, "dev/", S_IFDIR | 0755, NULL, 0, NULL, false);
	add(a, "dev/big", S_IFCHR | 0600, NULL, 0, NULL, false);
	add(a, "dev/fifo", S_IFIFO | 0600, NULL, 0, NULL, false);
	memcpy(big + sizeof(big) - 4, "end\n", 4);
	add(a, "var/sparse", S_IFREG | 0644, big, sizeof(big), NULL, false);
	/*
	 * An htree directory of three leaf blocks: few entries with long names (152-byte
	 * records) and no data, as every execution walks and exports the whole tree twice.
	 */
	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "many/entry-with-a-long-name-%04d-%s", i,
			 "................................................................"
			 "..................................................");
		add(a, name, S_IFREG | 0644, NULL, 0, NULL, false);
	}
	archive_write_free(a);
}

static struct setup s;

static void cleanup(void)
{
	unlink(s.base);
	unlink(s.child);
	rmdir(s.dir);
}

static struct setup *setup(void)
{
	struct rootfs_layer l = { s.layer, NULL };
	struct rootfs_opts o = { .size = 16ULL << 20 };
	static char buf[BLOCK];
	struct stat st;
	int fd;

	if (s.fd)
		return &s;
	snprintf(s.dir, sizeof(s.dir), "%s/fuzz-rootfs-diff.XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	if (!mkdtemp(s.dir))
		abort();
	snprintf(s.layer, sizeof(s.layer), "%s/l.tar", s.dir);
	snprintf(s.base, sizeof(s.base), "%s/base.img", s.dir);
	snprintf(s.child, sizeof(s.child), "%s/child.img", s.dir);
	make_layer(s.layer);
	if (rootfs_build(&l, 1, s.base, &o, NULL, NULL) || rootfs_build(&l, 1, s.child, &o, NULL, NULL))
		abort();
	unlink(s.layer);
	atexit(cleanup);
	fd = open(s.child, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		abort();
	s.blocks = calloc(st.st_size / BLOCK, sizeof(*s.blocks));
	for (uint32_t b = 0; b < st.st_size / BLOCK; b++)
		if (pread_full(fd, buf, BLOCK, (off_t)b * BLOCK) == 0 && !disk_buf_is_zero(buf, BLOCK))
			s.blocks[s.nblocks++] = b;
	s.fd = fd;
	s.null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (rootfs_image_open(s.base, NULL, &s.parent, NULL))
		abort();
	return &s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct setup *s = setup();
	struct { off_t off; uint8_t len; uint8_t old[255]; } saved[MAXREC];
	struct rootfs_image *child;
	int n = 0;

	while (size >= 5 && n < MAXREC) {
		uint32_t where = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
				 (uint32_t)data[3] << 24;
		uint8_t len = data[4];

		data += 5;
		size -= 5;
		if (len > size)
			len = (uint8_t)size;
		saved[n].off = (off_t)s->blocks[(where >> 12) % s->nblocks] * BLOCK + (where % BLOCK);
		saved[n].len = (uint8_t)MIN((size_t)len, (size_t)(BLOCK - where % BLOCK));
		if (pread_full(s->fd, saved[n].old, saved[n].len, saved[n].off) ||
		    pwrite_full(s->fd, data, saved[n].len, saved[n].off))
			abort();
		data += len;
		size -= len;
		n++;
	}
	if (rootfs_image_open(s->child, NULL, &child, NULL) == 0) {
		rootfs_diff(s->parent, child, s->null, NULL, NULL, NULL, NULL);
		rootfs_diff(NULL, child, s->null, NULL, NULL, NULL, NULL);
		rootfs_image_close(child);
	}
	while (n--)	/* last patch first: overlapping ones come back right */
		if (pwrite_full(s->fd, saved[n].old, saved[n].len, saved[n].off))
			abort();
	return 0;
}
