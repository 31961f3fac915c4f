/*
 * rootfs_build end to end: layers written with libarchive, the image read back with
 * libext2fs (names, types, modes, owners, contents, link counts) and checked by e2fsck.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <ext2fs/ext2fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/rootfs/rootfs.h"
#include "tests/unit/tap.h"
#include "vmm/base/log.h"

/* One tar member: type 'f' file, 'd' dir, 'l' symlink, 'h' hardlink, 'c' chr, 'p' fifo */
struct m {
	char type;
	const char *path;
	const char *arg;	/* file data, link target */
	unsigned mode;
	unsigned uid, gid;
};

static char dir[256];

static const char *layer(const char *name, const struct m *ms, size_t n, const char *filter)
{
	static char paths[16][300];
	static int next;
	char *p = paths[next++ % 16];
	struct archive *a = archive_write_new();

	snprintf(p, 300, "%s/%s", dir, name);
	archive_write_set_format_pax_restricted(a);
	if (filter && !strcmp(filter, "gzip"))
		archive_write_add_filter_gzip(a);
	if (filter && !strcmp(filter, "zstd"))
		archive_write_add_filter_zstd(a);
	archive_write_open_filename(a, p);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		const struct m *x = &ms[i];

		archive_entry_set_pathname(e, x->path);
		archive_entry_set_uid(e, x->uid);
		archive_entry_set_gid(e, x->gid);
		archive_entry_set_mtime(e, 1000000000 + (time_t)i, 0);
		switch (x->type) {
		case 'x':
			archive_entry_xattr_add_entry(e, "user.k", "v", 1);
			archive_entry_xattr_add_entry(e, "security.capability", "\1\0\0\2", 4);
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
		archive_entry_set_perm(e, x->mode ? x->mode : (x->type == 'd' ? 0755 : 0644));
		archive_write_header(a, e);
		if ((x->type == 'f' || x->type == 'x') && x->arg)
			archive_write_data(a, x->arg, strlen(x->arg));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return p;
}

static char img[300];

static int build(const char **paths, size_t n, uint64_t size)
{
	struct rootfs_layer l[8];
	struct rootfs_opts o = { .size = size ? size : 64ULL << 20 };

	for (size_t i = 0; i < n; i++)
		l[i] = (struct rootfs_layer){ .path = paths[i] };
	unlink(img);
	return rootfs_build(l, n, img, &o, NULL, NULL);
}

static ext2_filsys fs;

static void open_img(void)
{
	if (fs)
		ext2fs_close_free(&fs);
	if (ext2fs_open(img, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs))
		fs = NULL;
}

/* inode of path in the image, 0 when missing (symlinks not followed) */
static ext2_ino_t lookup(const char *path)
{
	ext2_ino_t ino;

	if (!fs || ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino))
		return 0;
	return ino;
}

static struct ext2_inode_large inode(const char *path)
{
	struct ext2_inode_large in;
	ext2_ino_t ino = lookup(path);

	memset(&in, 0, sizeof(in));
	if (ino)
		ext2fs_read_inode_full(fs, ino, (struct ext2_inode *)&in, sizeof(in));
	return in;
}

static bool content_is(const char *path, const char *want)
{
	ext2_ino_t ino = lookup(path);
	ext2_file_t f;
	char buf[256] = { 0 };
	unsigned got = 0;

	if (!ino || ext2fs_file_open(fs, ino, 0, &f))
		return false;
	ext2fs_file_read(f, buf, sizeof(buf) - 1, &got);
	ext2fs_file_close(f);
	return got == strlen(want) && !memcmp(buf, want, got);
}

static size_t xattr_count(const char *path)
{
	struct ext2_xattr_handle *h;
	size_t n = 0;
	ext2_ino_t ino = lookup(path);

	if (!ino || ext2fs_xattrs_open(fs, ino, &h))
		return (size_t)-1;
	if (ext2fs_xattrs_read(h) || ext2fs_xattrs_count(h, &n))
		n = (size_t)-1;
	ext2fs_xattrs_close(&h);
	return n;
}

static bool xattr_is(const char *path, const char *key, const char *want, size_t wlen)
{
	struct ext2_xattr_handle *h;
	void *v = NULL;
	size_t len = 0;
	bool same = false;
	ext2_ino_t ino = lookup(path);

	if (!ino || ext2fs_xattrs_open(fs, ino, &h))
		return false;
	if (!ext2fs_xattrs_read(h) && !ext2fs_xattr_get(h, key, &v, &len))
		same = len == wlen && !memcmp(v, want, len);
	free(v);
	ext2fs_xattrs_close(&h);
	return same;
}

static bool fsck_clean(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "e2fsck -fn '%s' >/dev/null 2>&1", img);
	return system(cmd) == 0;
}

static int dir_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		if (strstr(de->d_name, ".tmp."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static const char *l[8];	/* the layers of a build; a test may stack on the one before */
static uint32_t free_before;

/* basic types, owners, modes */
static void test_types_owners_modes(void)
{
	struct ext2_inode_large in;
	const struct m a[] = {
		{ 'd', "etc", NULL, 0755, 0, 0 },
		{ 'f', "etc/passwd", "root:x:0:0\n", 0644, 0, 0 },
		{ 'f', "bin/su", "su", 04755, 0, 0 },
		{ 'd', "tmp", NULL, 01777, 0, 0 },
		{ 'f', "big-ids", "x", 02640, 100000, 4000000000u },
		{ 'l', "sh", "busybox", 0, 0, 0 },
		{ 'l', "long", "/a/very/long/symlink/target/that/does/not/fit/in/the/inode/x", 0, 0, 0 },
		{ 'c', "dev/weird", NULL, 0600, 0, 0 },
		{ 'p', "run/fifo", NULL, 0600, 0, 0 },
		{ 'h', "etc/passwd-link", "etc/passwd", 0, 0, 0 },
	};
	l[0] = layer("base.tar", a, sizeof(a) / sizeof(a[0]), NULL);
	ok(build(l, 1, 0) == 0, "build a base layer");
	open_img();
	ok(fs != NULL, "image opens with libext2fs");
	ok(content_is("etc/passwd", "root:x:0:0\n"), "file content");
	in = inode("bin/su");
	ok(in.i_mode == (LINUX_S_IFREG | 04755), "setuid mode kept (0%o)", in.i_mode);
	ok(lookup("bin") && LINUX_S_ISDIR(inode("bin").i_mode) && (inode("bin").i_mode & 0777) == 0755,
	   "missing parent created 0755");
	ok(inode("tmp").i_mode == (LINUX_S_IFDIR | 01777), "sticky dir");
	in = inode("big-ids");
	ok(inode_uid(in) == 100000 && inode_gid(in) == 4000000000u && (in.i_mode & 07777) == 02640,
	   "large uid/gid and setgid (%u:%u)", inode_uid(in), inode_gid(in));
	in = inode("sh");
	ok(LINUX_S_ISLNK(in.i_mode) && in.i_size == 7 && !memcmp(in.i_block, "busybox", 7),
	   "fast symlink");
	ok(LINUX_S_ISLNK(inode("long").i_mode) && inode("long").i_size == 60 && (inode("long").i_flags & EXT4_EXTENTS_FL), "long symlink (60 bytes, in a block)");
	in = inode("dev/weird");
	ok(LINUX_S_ISCHR(in.i_mode) && in.i_block[0] == 0 &&
	   in.i_block[1] == ((70000 & 0xff) | (300 << 8) | ((70000 & ~0xffu) << 12)),
	   "device with a large major/minor");
	ok(LINUX_S_ISFIFO(inode("run/fifo").i_mode), "fifo");
	ok(lookup("etc/passwd-link") == lookup("etc/passwd") &&
	   inode("etc/passwd").i_links_count == 2, "hardlink shares the inode, 2 links");
	ok(inode("etc/passwd").i_mtime == 1000000001, "mtime kept");
	ok(fsck_clean(), "e2fsck clean");
	free_before = fs->super->s_free_inodes_count;
}

/* whiteouts: files, trees, hardlinks; order inside a layer does not matter */
static void test_whiteouts(void)
{
	const struct m b[] = {
		{ 'f', "etc/.wh.passwd", "", 0, 0, 0 },
		{ 'f', ".wh.tmp", "", 0, 0, 0 },
		{ 'f', "bin/.wh.su", "", 0, 0, 0 },
		{ 'f', "bin/su", "new su", 0755, 0, 0 },	/* same layer: stays */
		{ 'd', "etc", NULL, 0700, 0, 0 },		/* dir on dir: metadata only */
	};
	l[1] = layer("wh.tar", b, sizeof(b) / sizeof(b[0]), NULL);
	ok(build(l, 2, 0) == 0, "build with whiteouts");
	open_img();
	ok(!lookup("etc/passwd") && lookup("etc/passwd-link"), "whiteout removes one name");
	ok(inode("etc/passwd-link").i_links_count == 1, "link count drops to 1");
	ok(content_is("etc/passwd-link", "root:x:0:0\n"), "other name keeps the data");
	ok(!lookup("tmp"), "directory whited out");
	ok(content_is("bin/su", "new su") && inode("bin/su").i_mode == (LINUX_S_IFREG | 0755),
	   "file recreated in the whiteout's layer survives");
	ok(inode("etc").i_mode == (LINUX_S_IFDIR | 0700), "directory metadata replaced");
	ok(fsck_clean(), "e2fsck clean after whiteouts");
}

/* opaque directories, marker first or last */
static void test_opaque(void)
{
	for (int order = 0; order < 2; order++) {
		const struct m base[] = {
			{ 'd', "o", NULL, 0, 0, 0 },
			{ 'f', "o/old", "old", 0, 0, 0 },
			{ 'd', "o/sub", NULL, 0, 0, 0 },
			{ 'f', "o/sub/deep", "deep", 0, 0, 0 },
			{ 'f', "keep", "keep", 0, 0, 0 },
		};
		const struct m first[] = {
			{ 'f', "o/.wh..wh..opq", "", 0, 0, 0 },
			{ 'd', "o/sub", NULL, 0, 0, 0 },
			{ 'f', "o/sub/new", "new", 0, 0, 0 },
			{ 'f', "o/top", "top", 0, 0, 0 },
		};
		const struct m last[] = {
			{ 'd', "o/sub", NULL, 0, 0, 0 },
			{ 'f', "o/sub/new", "new", 0, 0, 0 },
			{ 'f', "o/top", "top", 0, 0, 0 },
			{ 'f', "o/.wh..wh..opq", "", 0, 0, 0 },
		};
		l[0] = layer("obase.tar", base, 5, NULL);
		l[1] = order ? layer("olast.tar", last, 4, NULL) : layer("ofirst.tar", first, 4, NULL);
		ok(build(l, 2, 0) == 0, "build opaque (marker %s)", order ? "last" : "first");
		open_img();
		ok(!lookup("o/old") && !lookup("o/sub/deep"), "opaque hides lower contents (%d)", order);
		ok(content_is("o/sub/new", "new") && content_is("o/top", "top"),
		   "opaque keeps the same layer's entries (%d)", order);
		ok(content_is("keep", "keep"), "outside the opaque dir untouched (%d)", order);
		ok(fsck_clean(), "e2fsck clean after opaque (%d)", order);
	}
}

/* file <-> directory replacement across layers, hardlink to a lower layer */
static void test_replacements(void)
{
	const struct m base[] = {
		{ 'd', "x", NULL, 0, 0, 0 },
		{ 'f', "x/a", "a", 0, 0, 0 },
		{ 'f', "y", "y", 0, 0, 0 },
		{ 'f', "target", "target", 0, 0, 0 },
	};
	const struct m up[] = {
		{ 'f', "x", "now a file", 0, 0, 0 },
		{ 'd', "y", NULL, 0, 0, 0 },
		{ 'f', "y/inside", "inside", 0, 0, 0 },
		{ 'h', "t2", "/target", 0, 0, 0 },
	};
	l[0] = layer("rbase.tar", base, 4, "gzip");
	l[1] = layer("rup.tar", up, 4, "zstd");
	ok(build(l, 2, 0) == 0, "build replacements (gzip + zstd layers)");
	open_img();
	ok(content_is("x", "now a file"), "file replaces a directory tree");
	ok(content_is("y/inside", "inside"), "directory replaces a file");
	ok(lookup("t2") == lookup("target") && inode("target").i_links_count == 2,
	   "hardlink to a file of a lower layer");
	ok(fsck_clean(), "e2fsck clean after replacements");
}

/* deleting everything frees every inode again */
static void test_delete_everything(void)
{
	const struct m del[] = {
		{ 'f', ".wh.etc", "", 0, 0, 0 }, { 'f', ".wh.bin", "", 0, 0, 0 },
		{ 'f', ".wh.tmp", "", 0, 0, 0 }, { 'f', ".wh.big-ids", "", 0, 0, 0 },
		{ 'f', ".wh.sh", "", 0, 0, 0 }, { 'f', ".wh.long", "", 0, 0, 0 },
		{ 'f', ".wh.dev", "", 0, 0, 0 }, { 'f', ".wh.run", "", 0, 0, 0 },
	};
	const struct m none[] = { { 'd', "./", NULL, 0755, 0, 0 } };
	{
		const char *ls[2];
		const struct m a[] = {
			{ 'd', "etc", NULL, 0755, 0, 0 },
			{ 'f', "etc/passwd", "root:x:0:0\n", 0644, 0, 0 },
			{ 'f', "bin/su", "su", 04755, 0, 0 },
			{ 'd', "tmp", NULL, 01777, 0, 0 },
			{ 'f', "big-ids", "x", 02640, 100000, 4000000000u },
			{ 'l', "sh", "busybox", 0, 0, 0 },
			{ 'l', "long", "/a/very/long/symlink/target/that/does/not/fit/in/the/inode/x", 0, 0, 0 },
			{ 'c', "dev/weird", NULL, 0600, 0, 0 },
			{ 'p', "run/fifo", NULL, 0600, 0, 0 },
			{ 'h', "etc/passwd-link", "etc/passwd", 0, 0, 0 },
		};
		uint64_t blocks_empty;

		ls[0] = layer("empty.tar", none, 1, NULL);
		ok(build(ls, 1, 0) == 0, "build an empty image");
		open_img();
		free_before = fs->super->s_free_inodes_count;
		blocks_empty = ext2fs_free_blocks_count(fs->super);
		ls[0] = layer("base2.tar", a, sizeof(a) / sizeof(a[0]), NULL);
		ls[1] = layer("del.tar", del, sizeof(del) / sizeof(del[0]), NULL);
		ok(build(ls, 2, 0) == 0, "build base + delete everything");
		open_img();
		ok(fs->super->s_free_inodes_count == free_before,
		   "all inodes freed (%u free, %u expected)", fs->super->s_free_inodes_count,
		   free_before);
		ok(ext2fs_free_blocks_count(fs->super) == blocks_empty,
		   "all blocks freed (%llu free, %llu expected)",
		   (unsigned long long)ext2fs_free_blocks_count(fs->super),
		   (unsigned long long)blocks_empty);
		ok(fsck_clean(), "e2fsck clean after deleting everything");
	}
}

/* xattrs, and an inode reused after a whiteout does not inherit them */
static void test_xattrs(void)
{
	const struct m a[] = { { 'x', "withx", "x", 0, 0, 0 } };
	const struct m b[] = { { 'f', ".wh.withx", "", 0, 0, 0 }, { 'f', "plain", "p", 0, 0, 0 } };

	l[0] = layer("xa.tar", a, 1, NULL);
	l[1] = layer("xb.tar", b, 2, NULL);
	ok(build(l, 1, 0) == 0, "build a file with xattrs");
	open_img();
	ok(xattr_is("withx", "user.k", "v", 1) &&
	   xattr_is("withx", "security.capability", "\1\0\0\2", 4), "user.* and security.capability");
	ok(build(l, 2, 0) == 0, "build whiteout + new file");
	open_img();
	ok(lookup("plain") && xattr_count("plain") == 0, "reused inode has no stale xattrs (%zu)",
	   xattr_count("plain"));
	ok(fsck_clean(), "e2fsck clean after xattrs");
}

/* hostile names stay inside the image */
static void test_hostile_names(void)
{
	char host[300], member[400];
	struct stat st;

	snprintf(host, sizeof(host), "%s/host-escape", dir);
	snprintf(member, sizeof(member), "%s/file", host);
	{
		const struct m h[] = {
			{ 'f', "../../escaped", "e", 0, 0, 0 },
			{ 'f', "/abs/file", "abs", 0, 0, 0 },
			{ 'l', "out", host, 0, 0, 0 },
			{ 'f', "out/file", "through the symlink", 0, 0, 0 },
			{ 'l', "up", "../../..", 0, 0, 0 },
			{ 'f', "up/up/rooted", "r", 0, 0, 0 },
		};
		l[0] = layer("hostile.tar", h, 6, NULL);
		ok(build(l, 1, 0) == 0, "hostile names build");
		open_img();
		ok(content_is("escaped", "e"), "../../escaped lands at /escaped");
		ok(content_is("abs/file", "abs"), "/abs/file lands at /abs/file");
		ok(content_is(member + 1, "through the symlink"),
		   "writing through an absolute symlink stays in the image (%s)", member);
		ok(stat(host, &st) == -1 && errno == ENOENT, "the host path was not created");
		ok(content_is("rooted", "r"), ".. chains through symlinks stop at the root");
		ok(fsck_clean(), "e2fsck clean after hostile names");
	}
}

/* failures leave nothing behind */
static void test_failures(void)
{
	const struct m bad[] = { { 'h', "x", "/etc/shadow", 0, 0, 0 } };
	const struct m loop[] = {
		{ 'l', "loop", "loop", 0, 0, 0 }, { 'f', "loop/x", "x", 0, 0, 0 },
	};
	const struct m notdir[] = {
		{ 'f', "file", "x", 0, 0, 0 }, { 'f', "file/x", "x", 0, 0, 0 },
	};
	const struct m badwh[] = { { 'f', "a/.wh.", "", 0, 0, 0 } };
	struct rootfs_layer rl = { .path = NULL, .media_type = "application/vnd.oci.image.layer.v1.tar+bzip2" };
	FILE *f;
	char junk[300];

	l[0] = layer("bad.tar", bad, 1, NULL);
	ok(build(l, 1, 0) == -ENOENT, "hardlink to a missing target fails");
	ok(access(img, F_OK) == -1 && dir_entries() == 0, "nothing left after a failure");
	l[0] = layer("loop.tar", loop, 2, NULL);
	ok(build(l, 1, 0) == -ELOOP, "symlink loop in a parent fails");
	l[0] = layer("notdir.tar", notdir, 2, NULL);
	ok(build(l, 1, 0) == -ENOTDIR, "a file as a parent fails");
	l[0] = layer("badwh.tar", badwh, 1, NULL);
	ok(build(l, 1, 0) == -EINVAL, "a bare .wh. fails");
	snprintf(junk, sizeof(junk), "%s/junk", dir);
	f = fopen(junk, "w");
	for (int i = 0; f && i < 5000; i++)
		fputc((i * 7919) & 0xff, f);
	if (f)
		fclose(f);
	l[0] = junk;
	ok(build(l, 1, 0) == -EINVAL, "a non-tar layer fails");
	rl.path = l[0];
	ok(rootfs_build(&rl, 1, img, NULL, NULL, NULL) == -ENOTSUP, "bzip2 media type refused");
	{
		static char data[48 << 20];
		struct archive *a = archive_write_new();
		struct archive_entry *e = archive_entry_new();
		char p[300];

		memset(data, 'z', sizeof(data));
		snprintf(p, sizeof(p), "%s/big.tar", dir);
		archive_write_set_format_pax_restricted(a);
		archive_write_open_filename(a, p);
		archive_entry_set_pathname(e, "big");
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, sizeof(data));
		archive_write_header(a, e);
		archive_write_data(a, data, sizeof(data));
		archive_entry_free(e);
		archive_write_close(a);
		archive_write_free(a);
		l[0] = p;
		ok(build(l, 1, 32ULL << 20) == -ENOSPC, "a file larger than the image: ENOSPC");
		ok(access(img, F_OK) == -1 && dir_entries() == 0, "nothing left after ENOSPC");
		unlink(p);
	}
	ok(build(l, 0, 1ULL << 20) == -EINVAL, "a 1 MiB image is refused");
}

int main(void)
{
	log_set_level(LOG_ERROR + (getenv("V") ? 3 : 0));
	snprintf(dir, sizeof(dir), "%s/vmm-rootfs-test.XXXXXX", getenv("TMPDIR") ?: "/tmp");
	if (!mkdtemp(dir))
		return 1;
	snprintf(img, sizeof(img), "%s/out.img", dir);

	test_types_owners_modes();
	test_whiteouts();
	test_opaque();
	test_replacements();
	test_delete_everything();
	test_xattrs();
	test_hostile_names();
	test_failures();

	if (fs)
		ext2fs_close_free(&fs);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			return 1;
	}
	return tap_done();
}
