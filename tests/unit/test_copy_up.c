/* copy_up (guest-agent/copy-up.c): an image's folder into a new, empty volume. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "guest-agent/agent.h"
#include "tap.h"

static char base[] = "/tmp/vmm-copy-up-XXXXXX";

static void put(const char *rel, const char *text, mode_t mode)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) < 0) {
		perror(p);
		exit(2);
	}
	fchmod(fd, mode);
	close(fd);
}

static int dir(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	return open(p, O_RDONLY | O_DIRECTORY);
}

static char *slurp(const char *rel, char *buf, size_t cap)
{
	char p[512];
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	fd = open(p, O_RDONLY | O_NOFOLLOW);
	n = fd < 0 ? -1 : read(fd, buf, cap - 1);
	buf[n < 0 ? 0 : n] = 0;
	if (fd >= 0)
		close(fd);
	return buf;
}

static mode_t mode_of(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	return lstat(p, &st) < 0 ? 0 : st.st_mode;
}

int main(void)
{
	char p[512], buf[256], big[200000];
	int src, dst;
	ssize_t n;

	if (!mkdtemp(base))
		return perror("mkdtemp"), 2;
	{
		static const struct { const char *rel; mode_t mode; } dirs[] = {
			{ "img", 0750 }, { "img/sub", 0700 }, { "img/sub/deeper", 0755 },
			{ "vol", 0755 }, { "used", 0755 }, { "empty", 0755 },
		};

		for (unsigned i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", base, dirs[i].rel);
			mkdir(p, dirs[i].mode);
		}
	}
	put("img/conf", "setting=1\n", 0640);
	put("img/tool", "#!/bin/sh\n", 04755);
	put("img/sub/deeper/leaf", "leaf\n", 0600);
	put("used/mine", "keep\n", 0644);
	memset(big, 'x', sizeof(big));
	snprintf(p, sizeof(p), "%s/img/big", base);
	n = open(p, O_WRONLY | O_CREAT, 0644);
	ok(n >= 0 && write(n, big, sizeof(big)) == sizeof(big), "setup: a 200 kB file");
	close(n);
	snprintf(p, sizeof(p), "%s/img/link", base);
	ok(symlink("sub/deeper/leaf", p) == 0, "setup: a symlink");
	snprintf(p, sizeof(p), "%s/img/abs", base);
	ok(symlink("/etc/shadow", p) == 0, "setup: a symlink out");
	snprintf(p, sizeof(p), "%s/img/fifo", base);
	ok(mkfifo(p, 0644) == 0, "setup: a FIFO");

	src = dir("img");
	dst = dir("vol");
	ok(copy_up(src, dst) == 0, "an empty volume takes the image's folder");
	ok(!strcmp(slurp("vol/conf", buf, sizeof(buf)), "setting=1\n"), "file content");
	ok((mode_of("vol/conf") & 07777) == 0640, "file mode 0640 (%o)", mode_of("vol/conf") & 07777);
	ok((mode_of("vol/tool") & 07777) == 04755, "setuid bit kept, as docker's copy keeps it (%o)",
	   mode_of("vol/tool") & 07777);
	ok(!strcmp(slurp("vol/sub/deeper/leaf", buf, sizeof(buf)), "leaf\n"), "nested file");
	ok((mode_of("vol/sub") & 07777) == 0700, "folder mode 0700 (%o)", mode_of("vol/sub") & 07777);
	ok((mode_of("vol") & 07777) == 0750, "the volume takes the folder's mode (%o)", mode_of("vol") & 07777);
	n = readlink(strcat(strcpy(p, base), "/vol/link"), buf, sizeof(buf) - 1);
	ok(n == 15 && !memcmp(buf, "sub/deeper/leaf", 15), "symlink copied as a link");
	n = readlink(strcat(strcpy(p, base), "/vol/abs"), buf, sizeof(buf) - 1);
	ok(n == 11 && !memcmp(buf, "/etc/shadow", 11), "a link out is copied, not followed");
	ok(mode_of("vol/fifo") == 0, "a FIFO is left out");
	{
		struct stat a, b;
		char q[512];

		snprintf(p, sizeof(p), "%s/img/big", base);
		snprintf(q, sizeof(q), "%s/vol/big", base);
		ok(stat(p, &a) == 0 && stat(q, &b) == 0 && b.st_size == a.st_size &&
		   b.st_mtim.tv_sec == a.st_mtim.tv_sec && b.st_mtim.tv_nsec == a.st_mtim.tv_nsec,
		   "size and mtime kept");
	}
	close(dst);

	dst = dir("used");
	ok(copy_up(src, dst) == 0, "a volume with data: nothing to do");
	ok(mode_of("used/conf") == 0, "its data is left alone, nothing added");
	ok(!strcmp(slurp("used/mine", buf, sizeof(buf)), "keep\n"), "its own file is kept");
	close(dst);
	close(src);

	src = dir("empty");
	dst = dir("vol");
	ok(copy_up(src, dst) == 0, "an empty image folder gives nothing");
	close(src);
	close(dst);

	snprintf(p, sizeof(p), "rm -rf '%s'", base);
	if (system(p) != 0)
		return 2;
	return tap_done();
}
