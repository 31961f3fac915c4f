/*
 * Backing-file policy: relative names inside the image's directory are
 * followed; "..", absolute paths and symlinks leading outside are refused
 * unless trusted or allowed; loops and absurd chains are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/disk/disk.h"
#include "images/disk/qcow2.h"
#include "images/disk/raw.h"
#include "tests/unit/tap.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

static char dir[] = "/tmp/vmm-test-backing.XXXXXX";

static char *p(const char *name)
{
	static char buf[8][512];
	static int n;
	char *b = buf[n++ % 8];

	snprintf(b, 512, "%s/%s", dir, name);
	return b;
}

static int mk(const char *img, const char *backing, const char *fmt)
{
	struct qcow2_create_opts o = { .size = 1 * MiB, .backing_file = backing, .backing_fmt = fmt };

	return qcow2_create(p(img), &o, NULL);
}

static int open_with(const char *img, bool allow, const char *trusted)
{
	const char *dirs[2] = { trusted, NULL };
	struct disk_open_opts o = { .read_only = true, .allow_unsafe_backing = allow,
				    .trusted_dirs = dirs };
	struct disk *d = NULL;
	int ret = disk_open(p(img), &o, &d, NULL);

	disk_close(ret ? NULL : d);
	return ret;
}

static void test_paths(void)
{
	mk("top.qcow2", "base.raw", "raw");
	ok(open_with("top.qcow2", false, NULL) == 0, "relative name in the same directory: followed");
	mk("sub.qcow2", "sub/base.raw", "raw");
	ok(open_with("sub.qcow2", false, NULL) == 0, "relative name in a subdirectory: followed");
	mk("sub/up.qcow2", "../base.raw", "raw");
	ok(open_with("sub/up.qcow2", false, NULL) == -EPERM, "'..' escape: refused");
	ok(open_with("sub/up.qcow2", true, NULL) == 0, "'..' escape: followed with allow_unsafe_backing");
	mk("sub/dotdot-in.qcow2", "x/../base.raw", "raw");
	mkdir(p("sub/x"), 0755);
	ok(open_with("sub/dotdot-in.qcow2", false, NULL) == 0, "'..' that stays inside: followed");
	mk("passwd.qcow2", "/etc/passwd", "raw");
	ok(open_with("passwd.qcow2", false, NULL) == -EPERM, "absolute /etc/passwd: refused");
	ok(open_with("passwd.qcow2", true, NULL) == 0, "absolute /etc/passwd: followed when allowed");
	mkdir(p(".ssh"), 0700);
	close(open(p(".ssh/id_rsa"), O_WRONLY | O_CREAT, 0600));
	mk("evil.qcow2", ".ssh/id_rsa", "raw");
	ok(open_with("evil.qcow2", false, NULL) == -EPERM, "beside the image but hidden (.ssh/id_rsa): refused");
	close(open(p("notes.txt"), O_WRONLY | O_CREAT, 0600));
	mk("txt.qcow2", "notes.txt", "raw");
	ok(open_with("txt.qcow2", false, NULL) == -EPERM, "beside the image but not a disk (notes.txt): refused");
	ok(open_with("txt.qcow2", true, NULL) == 0, "not a disk: followed when allowed");
	rename(p("top.qcow2"), p("topdisk"));
	mk("qcow.qcow2", "topdisk", "qcow2");
	ok(open_with("qcow.qcow2", false, NULL) == 0, "a qcow2 without a disk's name beside it: followed");
	rename(p("topdisk"), p("top.qcow2"));
	mk("img/store.qcow2", p("store/base.raw"), "raw");
	ok(open_with("img/store.qcow2", false, NULL) == -EPERM, "absolute path outside: refused");
	ok(open_with("img/store.qcow2", false, p("store")) == 0, "absolute path in a trusted dir: followed");
}

static void test_symlinks(void)
{
	symlink("/etc/passwd", p("link.raw"));
	mk("link.qcow2", "link.raw", "raw");
	ok(open_with("link.qcow2", false, NULL) == -EPERM, "symlink leading outside: refused");
	symlink("base.raw", p("inlink.raw"));
	mk("inlink.qcow2", "inlink.raw", "raw");
	ok(open_with("inlink.qcow2", false, NULL) == 0, "symlink staying inside: followed");
}

static void test_missing_and_format(void)
{
	mk("missing.qcow2", "nope.raw", "raw");
	ok(open_with("missing.qcow2", false, NULL) == -ENOENT, "missing backing file: -ENOENT");
	mk("badfmt.qcow2", "base.raw", "vmdk");
	ok(open_with("badfmt.qcow2", false, NULL) == -EINVAL, "unsupported backing format refused");
}

static void test_loops(void)
{
	mk("loop-a.qcow2", "loop-b.qcow2", "qcow2");
	mk("loop-b.qcow2", "loop-a.qcow2", "qcow2");
	ok(open_with("loop-a.qcow2", false, NULL) == -ELOOP, "backing loop a -> b -> a: -ELOOP");
	mk("self.qcow2", "self.qcow2", NULL);
	ok(open_with("self.qcow2", false, NULL) == -ELOOP, "image backed by itself: -ELOOP");
}

static void test_chain_depth(void)
{
	char name[64];
	int ret;

	mk("c0.qcow2", "base.raw", "raw");
	for (int i = 1; i <= 70; i++) {
		char b[64];

		snprintf(name, sizeof(name), "c%d.qcow2", i);
		snprintf(b, sizeof(b), "c%d.qcow2", i - 1);
		mk(name, b, "qcow2");
	}
	ok(open_with("c60.qcow2", false, NULL) == 0, "chain of 61 images: opened");
	ret = open_with("c70.qcow2", false, NULL);
	ok(ret == -ELOOP, "chain of 71 images: refused (%d)", ret);
}

int main(void)
{
	log_set_level(getenv("VERBOSE") ? LOG_DEBUG : LOG_ERROR);
	if (!mkdtemp(dir))
		return 1;
	mkdir(p("sub"), 0755);
	mkdir(p("store"), 0755);
	mkdir(p("img"), 0755);
	raw_create(p("base.raw"), 1 * MiB, NULL);
	raw_create(p("sub/base.raw"), 1 * MiB, NULL);
	raw_create(p("store/base.raw"), 1 * MiB, NULL);
	test_paths();
	test_symlinks();
	test_missing_and_format();
	test_loops();
	test_chain_depth();
	ok(system("rm -rf /tmp/vmm-test-backing.*") == 0, "cleanup");
	return tap_done();
}
