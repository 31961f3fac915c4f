/*
 * vmm cp from a hostile container: the tar it sends never plants setuid
 * files, device nodes or FIFOs on the host, and links stay inside the copy.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/tap.h"
#include "vmm/base/error.h"
#include "vmm/engine/copy.h"

struct ent {
	const char *path;
	mode_t type;
	mode_t perm;
	const char *link;	/* symlink target or hardlink source */
	bool hard;
	uid_t uid;
};

/* A tar of ents in a file; its fd, rewound. */
static int make_tar(const struct ent *ents, size_t n)
{
	char path[] = "/tmp/vmm-tar-XXXXXX";
	int fd = mkstemp(path);
	struct archive *a = archive_write_new();

	unlink(path);
	archive_write_set_format_pax_restricted(a);
	archive_write_open_fd(a, fd);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, ents[i].path);
		archive_entry_set_filetype(e, ents[i].type);
		archive_entry_set_perm(e, ents[i].perm);
		archive_entry_set_uid(e, ents[i].uid);
		archive_entry_set_gid(e, ents[i].uid);
		if (ents[i].link && ents[i].hard)
			archive_entry_set_hardlink(e, ents[i].link);
		else if (ents[i].link)
			archive_entry_set_symlink(e, ents[i].link);
		if (ents[i].type == AE_IFREG && !ents[i].hard)
			archive_entry_set_size(e, 5);
		archive_write_header(a, e);
		if (ents[i].type == AE_IFREG && !ents[i].hard)
			archive_write_data(a, "data\n", 5);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static char dir[64];

static int extract(const struct ent *ents, size_t n, bool owners, struct error *e)
{
	int fd = make_tar(ents, n), ret = engine_copy_extract(fd, dir, "data", "out", owners, e);

	close(fd);
	return ret;
}

static void test_modes_and_types(void)
{
	static const struct ent ents[] = {
		{ .path = "data", .type = AE_IFDIR, .perm = 0755 },
		{ .path = "data/suid", .type = AE_IFREG, .perm = 04755, .uid = 1234 },
		{ .path = "data/sgid-dir", .type = AE_IFDIR, .perm = 02775 },
		{ .path = "data/plain", .type = AE_IFREG, .perm = 0640 },
		{ .path = "data/null", .type = AE_IFCHR, .perm = 0666 },
		{ .path = "data/disk", .type = AE_IFBLK, .perm = 0660 },
		{ .path = "data/fifo", .type = AE_IFIFO, .perm = 0644 },
		{ .path = "data/sock", .type = AE_IFSOCK, .perm = 0644 },
		{ .path = "data/link", .type = AE_IFLNK, .perm = 0777, .link = "plain" },
		{ .path = "data/hard", .type = AE_IFREG, .perm = 0640, .link = "data/plain", .hard = true },
	};
	struct error e = { 0 };
	char p[256];
	struct stat st;

	ok(extract(ents, sizeof(ents) / sizeof(ents[0]), false, &e) == 0, "a tar with every kind of entry (%s)",
	   e.code ? e.msg : "ok");
	snprintf(p, sizeof(p), "%s/out/suid", dir);
	ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0755, "setuid dropped: mode %o", st.st_mode & 07777);
	ok(st.st_uid == getuid(), "the file belongs to us, not uid 1234 (%u)", st.st_uid);
	snprintf(p, sizeof(p), "%s/out/sgid-dir", dir);
	ok(stat(p, &st) == 0 && S_ISDIR(st.st_mode) && !(st.st_mode & S_ISGID), "setgid dropped from a folder");
	for (const char *const *n = (const char *const[]){ "null", "disk", "fifo", "sock", NULL }; *n; n++) {
		snprintf(p, sizeof(p), "%s/out/%s", dir, *n);
		ok(lstat(p, &st) < 0 && errno == ENOENT, "no %s created on the host", *n);
	}
	snprintf(p, sizeof(p), "%s/out/link", dir);
	ok(lstat(p, &st) == 0 && S_ISLNK(st.st_mode), "a symlink inside the copy is kept");
	snprintf(p, sizeof(p), "%s/out/hard", dir);
	ok(stat(p, &st) == 0 && st.st_nlink == 2, "a hardlink inside the copy is kept");
}

static void test_owners_with_archive(void)
{
	static const struct ent ents[] = {
		{ .path = "data", .type = AE_IFDIR, .perm = 0755, .uid = 4321 },
		{ .path = "data/f", .type = AE_IFREG, .perm = 0644, .uid = 4321 },
	};
	struct error e = { 0 };
	char p[256];
	struct stat st;

	if (geteuid() != 0) {
		skip("needs root to chown", "cp -a keeps owners");
		return;
	}
	ok(extract(ents, 2, true, &e) == 0, "cp -a extraction");
	snprintf(p, sizeof(p), "%s/out/f", dir);
	ok(stat(p, &st) == 0 && st.st_uid == 4321, "cp -a keeps the container's owner (%u)", st.st_uid);
}

static void test_refused(void)
{
	static const struct ent out_link[] = {
		{ .path = "data", .type = AE_IFDIR, .perm = 0755 },
		{ .path = "data/h", .type = AE_IFREG, .perm = 0644, .link = "datafoo/secret", .hard = true },
	};
	static const struct ent other_top[] = { { .path = "etc/passwd", .type = AE_IFREG, .perm = 0644 } };
	static const struct ent climbing[] = { { .path = "data/../../x", .type = AE_IFREG, .perm = 0644 } };
	static const struct ent through_link[] = {
		{ .path = "data", .type = AE_IFDIR, .perm = 0755 },
		{ .path = "data/l", .type = AE_IFLNK, .perm = 0777, .link = "/etc" },
		{ .path = "data/l/evil", .type = AE_IFREG, .perm = 0644 },
	};
	struct error e = { 0 };
	struct stat st;
	char p[256];

	ok(extract(out_link, 2, false, &e) == -EINVAL && strstr(e.msg, "hardlink out of the copy: 'datafoo/secret'"),
	   "a hardlink to datafoo/ (a prefix of data, not under it) is refused: %s", e.msg);
	ok(extract(other_top, 1, false, &e) == -EINVAL && strstr(e.msg, "unexpected entry 'etc/passwd'"),
	   "an entry outside the asked name is refused");
	ok(extract(climbing, 1, false, &e) < 0, "'..' is refused (%s)", e.msg);
	snprintf(p, sizeof(p), "%s/../x", dir);
	ok(stat(p, &st) < 0, "nothing written above the destination");
	extract(through_link, 3, false, &e);
	snprintf(p, sizeof(p), "%s/out/l/evil", dir);
	ok(stat("/etc/evil", &st) < 0 && lstat(p, &st) == 0,
	   "a symlink the tar made is not followed: the file lands inside the copy");
}

int main(void)
{
	/* dir/.. is ours too: what escapes the destination lands where we look, not in /tmp */
	snprintf(dir, sizeof(dir), "/tmp/vmm-cp-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	strcat(dir, "/base");
	if (mkdir(dir, 0700) < 0)
		return 1;
	test_modes_and_types();
	test_owners_with_archive();
	test_refused();
	{
		char cmd[300];

		dir[strlen(dir) - strlen("/base")] = 0;	/* the mkdtemp folder: nothing left in /tmp */
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return tap_done();
}
