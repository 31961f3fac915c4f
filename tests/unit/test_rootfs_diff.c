/*
 * rootfs_diff without root or mounts: images built with rootfs_build from layers A and
 * A+B share the inodes A made, so the diff between them is B's effect; applied over A it
 * must export exactly as A+B does. Also: a whole-tree export rebuilds itself, an image
 * against itself is empty, the change callback can stop the walk, and corrupt images
 * (a cycle made with libext2fs, a bad superblock, a truncated disk) are one error.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/rootfs/diff.h"
#include "images/rootfs/rootfs.h"
#include "tests/unit/tap.h"
#include "vmm/base/error.h"
#include "vmm/base/util.h"

/* One tar member: 'f' file, 'd' dir, 'l' symlink, 'h' hardlink, 'c' chr, 'p' fifo, 'x' file with xattrs */
struct m {
	char type;
	const char *path;
	const char *arg;	/* file data, link target */
};

static char dir[256];

static char *path_in(const char *name)
{
	static char paths[16][300];
	static int next;
	char *p = paths[next++ % 16];

	snprintf(p, 300, "%s/%s", dir, name);
	return p;
}

static const char *layer(const char *name, const struct m *ms, size_t n)
{
	const char *p = path_in(name);
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	archive_write_open_filename(a, p);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		const struct m *x = &ms[i];

		archive_entry_set_pathname(e, x->path);
		archive_entry_set_mtime(e, 1000000000 + (time_t)i, 0);
		archive_entry_set_perm(e, x->type == 'd' ? 0755 : 0644);
		switch (x->type) {
		case 'x':
			archive_entry_xattr_add_entry(e, "user.k", "v", 1);
			/* fall through */
		case 'f':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, x->arg ? (la_int64_t)strlen(x->arg) : 0);
			break;
		case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, x->arg);
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, x->arg);
			break;
		case 'c':
			archive_entry_set_filetype(e, AE_IFCHR);
			archive_entry_set_rdevmajor(e, 300);
			archive_entry_set_rdevminor(e, 70000);
			break;
		case 'p': archive_entry_set_filetype(e, AE_IFIFO); break;
		}
		archive_write_header(a, e);
		if ((x->type == 'f' || x->type == 'x') && x->arg)
			archive_write_data(a, x->arg, strlen(x->arg));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return p;
}

static int build(const char *out, const char **layers, size_t n)
{
	struct rootfs_layer l[4];
	struct rootfs_opts o = { .size = 32ULL << 20 };

	for (size_t i = 0; i < n; i++)
		l[i] = (struct rootfs_layer){ .path = layers[i] };
	return rootfs_build(l, n, out, &o, NULL, NULL);
}

static const struct m A[] = {
	{ 'd', "etc/", NULL }, { 'f', "etc/passwd", "root\n" }, { 'f', "etc/keep", "keep\n" },
	{ 'd', "etc/sub/", NULL }, { 'f', "etc/sub/x", "x" }, { 'f', "gone", "gone" },
	{ 'd', "d/", NULL }, { 'f', "d/old", "old" }, { 'd', "bin/", NULL },
	{ 'f', "bin/busybox", "bb" }, { 'h', "bin/ls", "bin/busybox" }, { 'l', "bin/sh", "busybox" },
	{ 'd', "dev/", NULL }, { 'c', "dev/c", NULL }, { 'd', "run/", NULL }, { 'p', "run/p", NULL },
	{ 'x', "xa", "xattrs" }, { 'd', "dir2file/", NULL }, { 'f', "dir2file/in", "in" },
	{ 'f', "file2dir", "f" },
};
static const struct m B[] = {
	{ 'f', "etc/passwd", "root\ndaemon\n" }, { 'f', ".wh.gone", NULL },
	{ 'f', "d/.wh..wh..opq", NULL }, { 'f', "d/new", "new" }, { 'h', "bin/grep", "bin/busybox" },
	{ 'f', "new", "new" }, { 'f', "dir2file", "file" }, { 'd', "file2dir/", NULL },
	{ 'f', "file2dir/in", "in" }, { 'f', "etc/sub/.wh.x", NULL },
};

struct changes {
	char text[4096];
	int stop_after;		/* > 0: fail the walk at that change */
	int n;
};

static int on_change(void *arg, enum rootfs_change kind, const char *path)
{
	struct changes *c = arg;
	size_t len = strlen(c->text);

	snprintf(c->text + len, sizeof(c->text) - len, "%c %s\n", (char)kind, path);
	if (++c->n == c->stop_after)
		return -ECANCELED;
	return 0;
}

/* diff parent (NULL: whole tree) and child into out (NULL: no tar); 0 or -errno */
static int diff_to(const char *parent, const char *child, const char *out, struct changes *c,
		   struct rootfs_diff_stats *st, struct error *e)
{
	struct rootfs_image *p = NULL, *ch = NULL;
	int fd = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
	int ret = rootfs_image_open(child, NULL, &ch, e);

	if (!ret && parent)
		ret = rootfs_image_open(parent, NULL, &p, e);
	if (!ret)
		ret = rootfs_diff(p, ch, fd, c ? on_change : NULL, c, st, e);
	if (fd >= 0)
		close(fd);
	rootfs_image_close(p);
	rootfs_image_close(ch);
	return ret;
}

static bool same_file(const char *a, const char *b)
{
	char *x = NULL, *y = NULL;
	size_t nx = 0, ny = 0;
	bool same = !read_file(AT_FDCWD, a, 64 << 20, &x, &nx) &&
		    !read_file(AT_FDCWD, b, 64 << 20, &y, &ny) && nx == ny && !memcmp(x, y, nx);

	free(x);
	free(y);
	return same;
}

/* the member names of a tar, one a line, and whether each is a hard link ("name>target") */
static void members(const char *tar, char *out, size_t len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	out[0] = '\0';
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, tar, 10240) != ARCHIVE_OK)
		goto done;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		size_t l = strlen(out);

		snprintf(out + l, len - l, "%s%s%s\n", archive_entry_pathname(e),
			 archive_entry_hardlink(e) ? ">" : "",
			 archive_entry_hardlink(e) ? archive_entry_hardlink(e) : "");
	}
done:
	archive_read_free(a);
}

/* a text as TAP comments, after a failed check */
static void show(bool passed, const char *text)
{
	for (const char *p = text; !passed && *p;) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);

		printf("#   %.*s\n", n, p);
		p += n + (nl ? 1 : 0);
	}
}

static void case_layer(void)
{
	const char *la = layer("a.tar", A, ARRAY_SIZE(A)), *lb = layer("b.tar", B, ARRAY_SIZE(B));
	const char *pa = path_in("a.img"), *pab = path_in("ab.img"), *pd = path_in("d.tar");
	const char *padiff = path_in("adiff.img");
	const char *both[] = { la, lb }, *one[] = { la }, *applied[] = { la, pd };
	struct changes c = { .text = "" };
	struct rootfs_diff_stats st;
	struct error e = { 0 };
	char list[4096];
	bool passed;

	ok(!build(pa, one, 1) && !build(pab, both, 2), "layer: images of A and A+B");
	ok(!diff_to(pa, pab, pd, &c, &st, &e), "layer: diff A -> A+B (%s)", e.msg);
	passed = !strcmp(c.text, "C /bin\nC /bin/busybox\nA /bin/grep\nC /bin/ls\nC /d\nA /d/new\n"
			 "D /d/old\nC /dir2file\nC /etc\nC /etc/passwd\nC /etc/sub\nD /etc/sub/x\n"
			 "C /file2dir\nA /file2dir/in\nD /gone\nA /new\n");
	ok(passed, "layer: docker diff's list, in order");
	show(passed, c.text);
	members(pd, list, sizeof(list));
	passed = !strcmp(list, "bin/\nbin/busybox\nbin/grep>bin/busybox\nbin/ls>bin/busybox\nd/\n"
			 "d/new\nd/.wh.old\ndir2file\netc/\netc/passwd\netc/sub/\netc/sub/.wh.x\n"
			 "file2dir/\nfile2dir/in\n.wh.gone\nnew\n");
	ok(passed, "layer: the tar's members, unchanged ones left out, links to earlier members");
	show(passed, list);
	ok(st.whiteouts == 3 && st.opaque == 0 && st.changes == 16 && st.entries == 16,
	   "layer: stats (%llu whiteouts, %llu changes, %llu entries)",
	   (unsigned long long)st.whiteouts, (unsigned long long)st.changes,
	   (unsigned long long)st.entries);
	ok(!build(padiff, applied, 2), "layer: A + the diff builds");
	ok(!diff_to(NULL, pab, path_in("ab-all.tar"), NULL, NULL, &e) &&
	   !diff_to(NULL, padiff, path_in("adiff-all.tar"), NULL, NULL, &e) &&
	   same_file(path_in("ab-all.tar"), path_in("adiff-all.tar")),
	   "layer: A + the diff exports byte for byte as A + B");
	c = (struct changes){ .text = "" };
	ok(!diff_to(pab, pab, pd, &c, &st, &e) && !c.text[0] && st.entries == 0,
	   "layer: an image against itself: no change, an empty tar");
	c = (struct changes){ .text = "", .stop_after = 3 };
	ok(diff_to(pa, pab, NULL, &c, NULL, &e) == -ECANCELED && c.n == 3,
	   "layer: the change callback stops the walk (%s)", e.msg);
}

static void case_export(void)
{
	const char *pall = path_in("all.tar"), *pr = path_in("r.img");
	const char *one[] = { pall };
	struct error e = { 0 };
	char list[4096];
	bool passed;

	ok(!diff_to(NULL, path_in("a.img"), pall, NULL, NULL, &e), "export: the whole tree");
	members(pall, list, sizeof(list));
	passed = strstr(list, "bin/ls>bin/busybox\n") && strstr(list, "dev/c\n") &&
		 strstr(list, "xa\n") && !strstr(list, "lost+found") && !strstr(list, "./");
	ok(passed, "export: links, devices, no lost+found, no ./ entry");
	show(passed, list);
	ok(!build(pr, one, 1) && !diff_to(NULL, pr, path_in("all2.tar"), NULL, NULL, &e) &&
	   same_file(pall, path_in("all2.tar")), "export: an export rebuilds itself (%s)", e.msg);
}

/* a copy of a.img, changed through libext2fs when fn is given (it gets it read-write) */
static const char *corrupted(const char *name, int (*fn)(ext2_filsys fs))
{
	const char *p = path_in(name);
	char *data = NULL;
	size_t len = 0;
	ext2_filsys fs;

	if (read_file(AT_FDCWD, path_in("a.img"), 64 << 20, &data, &len) ||
	    write_file_atomic(AT_FDCWD, p, data, len, 0644)) {
		free(data);
		return p;
	}
	free(data);
	if (fn && !ext2fs_open(p, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs)) {
		if (fn(fs))
			printf("# %s: changing it failed\n", name);
		ext2fs_close_free(&fs);
	}
	return p;
}

static int link_root_into_etc(ext2_filsys fs)
{
	ext2_ino_t etc;

	if (ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, "etc", &etc))
		return -1;
	return (int)ext2fs_link(fs, etc, "up", EXT2_ROOT_INO, EXT2_FT_DIR);
}

static int link_journal_inode(ext2_filsys fs)
{
	return (int)ext2fs_link(fs, EXT2_ROOT_INO, "journal", EXT2_JOURNAL_INO, EXT2_FT_REG_FILE);
}

static void case_corrupt(void)
{
	struct error e = { 0 };
	const char *p;
	int fd, ret;

	p = corrupted("cycle.img", link_root_into_etc);
	ret = diff_to(path_in("a.img"), p, path_in("x.tar"), NULL, NULL, &e);
	ok(ret == -EUCLEAN && str_has_suffix(e.msg, "cycle.img: /etc/up: directory inode 2 "
					     "reached twice (a directory hard link or a cycle)"),
	   "corrupt: a cycle back to the root (%s)", e.msg);
	p = corrupted("resv.img", link_journal_inode);
	ret = diff_to(NULL, p, path_in("x.tar"), NULL, NULL, &e);
	ok(ret == -EUCLEAN && strstr(e.msg, "resv.img: /journal: the name points to inode 8, "
				      "which is reserved"), "corrupt: a name for the journal inode (%s)",
	   e.msg);
	p = corrupted("magic.img", NULL);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	ok(fd >= 0 && pwrite(fd, "\0\0", 2, 1024 + 56) == 2, "corrupt: superblock magic zeroed");
	if (fd >= 0)
		close(fd);
	ret = diff_to(NULL, p, NULL, NULL, NULL, &e);
	ok(ret == -EUCLEAN && strstr(e.msg, "magic.img: no ext4 filesystem"), "corrupt: no magic (%s)",
	   e.msg);
	p = corrupted("short.img", NULL);
	ok(!truncate(p, 4 << 20) && diff_to(NULL, p, NULL, NULL, NULL, &e) == -EUCLEAN &&
	   strstr(e.msg, "short.img: corrupt superblock: ") && strstr(e.msg, "do not fit the disk"),
	   "corrupt: a truncated disk (%s)", e.msg);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s/test-rootfs-diff.XXXXXX", getenv("TMPDIR") ?: "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	case_layer();
	case_export();
	case_corrupt();
	remove_tree(AT_FDCWD, dir);
	return tap_done();
}
