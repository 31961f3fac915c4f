/* Member path cleaning inside the image root, splitting, and member classification. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "images/rootfs/path.h"
#include "tests/unit/tap.h"
#include "vmm/base/path.h"

static void clean(const char *in, const char *want)
{
	char out[ROOTFS_PATH_MAX];
	int err = path_clean(in, PATH_DOTDOT_CLAMP, out, sizeof(out));

	ok(err == 0 && !strcmp(out, want), "clean '%s' -> '%s' (got %d '%s')", in, want, err,
	   err ? "" : out);
}

static void test_clean(void)
{
	clean("a/b/c", "a/b/c");
	clean("./a/./b//c/", "a/b/c");
	clean("a/./b//c", "a/b/c");
	clean("/etc/passwd", "etc/passwd");
	clean("//etc///passwd//", "etc/passwd");
	clean("../../x", "x");
	clean("a/../../../x", "x");
	clean("a/b/../c", "a/c");
	clean("a/b/..", "a");
	clean("..", "");
	clean("/", "");
	clean("./", "");
	clean(".", "");
	clean("", "");
	clean("a/..b/c", "a/..b/c");
	clean("a/.../c", "a/.../c");
	clean("usr/.wh..wh..opq", "usr/.wh..wh..opq");
	clean("../etc/../../etc/shadow", "etc/shadow");
}

static void test_clean_lengths(void)
{
	char out[ROOTFS_PATH_MAX], small[8], longname[300];

	ok(path_clean("abcdefgh", PATH_DOTDOT_CLAMP, small, sizeof(small)) == -ENAMETOOLONG,
	   "clean: output too long is refused");
	ok(path_clean("abcdefg", PATH_DOTDOT_CLAMP, small, sizeof(small)) == 0 && !strcmp(small, "abcdefg"),
	   "clean: exactly fitting output");
	memset(longname, 'n', 256);
	longname[256] = '\0';
	ok(path_clean(longname, PATH_DOTDOT_CLAMP, out, sizeof(out)) == -ENAMETOOLONG,
	   "clean: a 256-byte component is refused");
	longname[255] = '\0';
	ok(path_clean(longname, PATH_DOTDOT_CLAMP, out, sizeof(out)) == 0, "clean: 255-byte component ok");
}

static void test_split(void)
{
	char buf[64], *dir, *base;

	strcpy(buf, "a/b/c");
	path_split(buf, &dir, &base);
	ok(!strcmp(dir, "a/b") && !strcmp(base, "c"), "split a/b/c");
	strcpy(buf, "top");
	path_split(buf, &dir, &base);
	ok(!strcmp(dir, "") && !strcmp(base, "top"), "split top-level name");
}

static void test_member_kind(void)
{
	const char *name = NULL;

	ok(rootfs_member_kind("a/b", S_IFREG, false, NULL) == RF_REG, "kind: file");
	ok(rootfs_member_kind("a/b", 0, false, NULL) == RF_REG, "kind: old-style file");
	ok(rootfs_member_kind("a", S_IFDIR, false, NULL) == RF_DIR, "kind: directory");
	ok(rootfs_member_kind("a", S_IFLNK, false, NULL) == RF_SYMLINK, "kind: symlink");
	ok(rootfs_member_kind("a", S_IFREG, true, NULL) == RF_HARDLINK, "kind: hardlink");
	ok(rootfs_member_kind("dev/null", S_IFCHR, false, NULL) == RF_CHR, "kind: char device");
	ok(rootfs_member_kind("dev/sda", S_IFBLK, false, NULL) == RF_BLK, "kind: block device");
	ok(rootfs_member_kind("run/p", S_IFIFO, false, NULL) == RF_FIFO, "kind: fifo");
	ok(rootfs_member_kind("run/s", S_IFSOCK, false, NULL) == RF_SOCK, "kind: socket");
	ok(rootfs_member_kind("x", 0170000 & ~S_IFMT, false, NULL) == RF_REG, "kind: zero type");
	ok(rootfs_member_kind("a/.wh.foo", S_IFREG, false, &name) == RF_WHITEOUT &&
	   name && !strcmp(name, "foo"), "kind: whiteout names foo");
	ok(rootfs_member_kind(".wh.top", S_IFREG, false, &name) == RF_WHITEOUT &&
	   !strcmp(name, "top"), "kind: top-level whiteout");
	ok(rootfs_member_kind("a/.wh..hidden", S_IFREG, false, &name) == RF_WHITEOUT &&
	   !strcmp(name, ".hidden"), "kind: whiteout of a dot file");
	ok(rootfs_member_kind("a/.wh.foo", S_IFREG, true, &name) == RF_WHITEOUT,
	   "kind: whiteout wins over hardlink");
	ok(rootfs_member_kind("a/.wh..wh..opq", S_IFREG, false, NULL) == RF_OPAQUE,
	   "kind: opaque marker");
	ok(rootfs_member_kind(".wh..wh..opq", S_IFREG, false, NULL) == RF_OPAQUE,
	   "kind: opaque root");
	ok(rootfs_member_kind(".wh..wh.plnk/123", S_IFREG, false, NULL) == RF_META,
	   "kind: file inside the top-level aufs dir is skipped");
	ok(rootfs_member_kind("a/.wh..wh.plnk/123", S_IFREG, false, NULL) == RF_REG,
	   "kind: a nested .wh..wh. dir is no aufs metadata");
	ok(rootfs_member_kind(".wh..wh.plnk", S_IFDIR, false, NULL) == RF_META,
	   "kind: aufs metadata");
	ok(rootfs_member_kind("a/.wh.", S_IFREG, false, NULL) == RF_BAD, "kind: bare .wh.");
	ok(rootfs_member_kind("a/.wh..", S_IFREG, false, NULL) == RF_BAD, "kind: .wh..");
	ok(rootfs_member_kind("a/.wh...", S_IFREG, false, NULL) == RF_BAD, "kind: .wh...");
	ok(rootfs_member_kind("a/x.wh.foo", S_IFREG, false, NULL) == RF_REG,
	   "kind: .wh. inside a name is not a whiteout");
	ok(!strcmp(rootfs_kind_name(RF_OPAQUE), "opaque whiteout"), "kind names");
}

int main(void)
{
	test_clean();
	test_clean_lengths();
	test_split();
	test_member_kind();
	return tap_done();
}
