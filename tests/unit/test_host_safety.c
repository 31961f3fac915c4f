/*
 * Host safety helpers: text from guests, images and registries reaches the
 * terminal without escape sequences; control sockets live only in folders
 * nobody else can write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/tap.h"
#include "vmm/base/util.h"
#include "vmm/engine/ctl.h"

static void expect(const char *in, bool one_line, const char *want)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", in);
	str_sanitize(buf, one_line);
	ok(!strcmp(buf, want), "sanitized to '%s' (got '%s')", want, buf);
}

static void test_private_dirs(void)
{
	char dir[] = "/tmp/vmm-priv-XXXXXX", path[256];
	int fd;

	if (!mkdtemp(dir))
		return;
	ok(dir_is_private(dir) == 0, "a 0700 folder of ours is private");
	chmod(dir, 0777);
	ok(dir_is_private(dir) == -EPERM, "a world-writable one is not");
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	ok(ctl_listen(path) == -EPERM, "no control socket in a folder others can write");
	snprintf(path, sizeof(path), "%s/ctr/ctl.sock", dir);
	fd = ctl_listen(path);
	ok(fd >= 0, "a folder it makes itself (0700) is fine");
	if (fd >= 0)
		close(fd);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ctr", dir);
	rmdir(path);
	symlink("/tmp", path);
	ok(dir_is_private(path) == -ENOTDIR, "a symlink is not a private folder");
	unlink(path);
	rmdir(dir);
}

static void test_sanitize(void)
{
	expect("plain text", false, "plain text");
	expect("\x1b[2J\x1b]0;owned\x07title", false, "?[2J?]0;owned?title");	/* ESC, BEL */
	expect("a\tb\nc", true, "a b c");
	expect("a\tb\nc", false, "a\tb\nc");
	expect("del\x7f", false, "del?");
	expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", false, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");	/* UTF-8 stays */
	expect("c1 \xc2\x9b" "31m", false, "c1 ??31m");		/* U+009B, the 8-bit CSI */
	expect("raw \x9b" "31m", false, "raw ?31m");		/* an 8-bit CSI byte, not UTF-8 */
	expect("over \xc0\xaf long", false, "over ?? long");	/* an overlong '/' */
	expect("cut \xe2\x82", false, "cut ??");			/* a sequence cut short */
	expect("\r\x1b", true, " ?");
}

int main(void)
{
	test_sanitize();
	test_private_dirs();
	return tap_done();
}
