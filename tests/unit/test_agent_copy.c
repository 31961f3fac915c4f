/*
 * The guest agent's `vmm cp` code, built for the host: tar headers (long
 * names, checksums, numbers), and CP_IN / CP_OUT against a real "container":
 * a child process chrooted into a scratch directory, reached through
 * /proc/PID/root exactly as in the guest. Hostile archives must not write
 * outside that root. GNU tar is the oracle for archives we produce.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest-agent/agent.h"
#include "guest-agent/tar.h"
#include "vmm/base/path.h"

#include "tests/unit/tap.h"

static struct agent ag;
static char root[] = "/tmp/vmm-test-root-XXXXXX";
static uint16_t next_stream = 1;

/* Is a copy still open? (the tests run one at a time) */
static bool copy_open(void)
{
	for (int i = 0; i < MAX_STREAMS; i++)
		if (ag.copies[i])
			return true;
	return false;
}

static int sh(const char *cmd)
{
	int ret = system(cmd);

	return WIFEXITED(ret) ? WEXITSTATUS(ret) : -1;
}

/* The RESULT the agent queued for stream (code), consuming its output; -1: none. */
static int take_result(uint16_t stream, FILE *tar_out)
{
	struct proto_frame f;
	struct proto_rx rx;
	int code = -1;

	proto_rx_init(&rx);
	proto_rx_feed(&rx, proto_buf_head(&ag.out), proto_buf_pending(&ag.out));
	proto_buf_consume(&ag.out, proto_buf_pending(&ag.out));
	while (proto_rx_next(&rx, &f) == 1) {
		if (f.stream != stream)
			continue;
		if (f.type == PROTO_RESULT) {
			struct proto_result r;
			char msg[256];

			if (!proto_result_decode(f.payload, f.len, &r, msg, sizeof(msg))) {
				code = r.code;
				if (r.message)
					printf("# result: %s\n", r.message);
			}
		} else if (f.type == PROTO_TAR_DATA && tar_out) {
			fwrite(f.payload, 1, f.len, tar_out);
		} else if (f.type == PROTO_TAR_END) {
			code = 0;
		}
	}
	proto_rx_free(&rx);
	return code;
}

static struct proto_frame path_frame(struct proto_buf *b, uint16_t type, const char *path)
{
	struct proto_frame f;

	proto_buf_consume(b, proto_buf_pending(b));
	proto_path_encode(b, type, next_stream, path);
	proto_frame_parse(proto_buf_head(b), proto_buf_pending(b), &f);
	return f;
}

/* CP_IN of a tar file (sent in odd-sized pieces); the RESULT code. */
static int copy_in(const char *tar, const char *dest)
{
	static uint8_t data[1 << 20];
	struct proto_buf b;
	struct proto_frame f;
	FILE *fp = fopen(tar, "rb");
	size_t n, off = 0, piece = 777;
	uint16_t stream = next_stream;
	int code;

	proto_buf_init(&b);
	f = path_frame(&b, PROTO_CP_IN, dest);
	copy_start(&ag, &f);
	n = fp ? fread(data, 1, sizeof(data), fp) : 0;
	if (fp)
		fclose(fp);
	while (off < n && copy_open()) {
		struct proto_frame d = { .type = PROTO_TAR_DATA, .stream = stream, .payload = data + off };

		d.len = n - off < piece ? n - off : piece;
		copy_frame(&ag, &d);
		off += d.len;
		piece = piece * 3 % 5000 + 1;
	}
	{
		struct proto_frame end = { .type = PROTO_TAR_END, .stream = stream };

		copy_frame(&ag, &end);
	}
	proto_buf_free(&b);
	code = take_result(stream, NULL);
	next_stream++;
	return code;
}

/* CP_OUT into a file; 0 when the archive ended with TAR_END, else the RESULT code. */
static int copy_out(const char *path, const char *tar)
{
	struct proto_buf b;
	struct proto_frame f;
	FILE *fp = fopen(tar, "wb");
	uint16_t stream = next_stream;
	int code = -1;

	proto_buf_init(&b);
	f = path_frame(&b, PROTO_CP_OUT, path);
	copy_start(&ag, &f);
	for (int i = 0; i < 10000 && code < 0; i++) {
		struct proto_frame w = { .type = PROTO_WINDOW, .stream = stream };

		copy_pump(&ag);
		if (!copy_open()) {
			code = take_result(stream, fp);
			break;
		}
		take_result(stream, fp);
		/* Give the window back, as the host does once it wrote the data out. */
		proto_buf_consume(&b, proto_buf_pending(&b));
		proto_u64_encode(&b, PROTO_WINDOW, stream, TAG_INCREMENT, PROTO_WINDOW_SIZE);
		proto_frame_parse(proto_buf_head(&b), proto_buf_pending(&b), &w);
		copy_frame(&ag, &w);
	}
	fclose(fp);
	proto_buf_free(&b);
	next_stream++;
	return code;
}

static void test_headers(void)
{
	static uint8_t out[TAR_HEADER_MAX];
	struct tar_entry e;
	struct stat st = { .st_mode = S_IFREG | 0640, .st_uid = 1000, .st_gid = 100, .st_size = 12345,
			   .st_mtime = 1700000000 };
	char name[300], rel[64];
	size_t n;

	n = tar_header(out, sizeof(out), "dir/file.txt", &st, NULL);
	ok(n == TAR_BLOCK && tar_parse(out, &e) == 1, "short name: one ustar block");
	ok(!strcmp(e.name, "dir/file.txt") && e.mode == 0640 && e.uid == 1000 && e.gid == 100 &&
	   e.size == 12345 && e.mtime == 1700000000 && e.type == '0', "fields round trip");
	out[10] ^= 1;
	ok(tar_parse(out, &e) == -EINVAL, "a flipped bit fails the checksum");

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	n = tar_header(out, sizeof(out), name, &st, NULL);
	ok(n == 3 * TAR_BLOCK && tar_parse(out, &e) == 1 && e.type == 'x', "long name: a pax header first");
	{
		char pname[TAR_PATH_MAX] = "", plink[TAR_PATH_MAX] = "";

		ok(tar_pax((char *)out + TAR_BLOCK, e.size, pname, plink) == 0 && !strcmp(pname, name),
		   "pax path record carries the 299-byte name");
	}
	ok(tar_pax("6 a=b\n", 6, name, name) == 0, "a minimal pax record");
	ok(tar_pax("9 path=x\n", 8, name, name) == -EINVAL, "pax record past the data");
	ok(tar_pax("99999999999999999999 path=x\n", 29, name, name) == -EINVAL, "pax length overflow");
	ok(tar_pax("3 x\n", 4, name, name) == -EINVAL, "pax record without '='");

	st.st_size = 9ULL << 30;	/* over the 8 GiB octal limit: base-256 */
	n = tar_header(out, sizeof(out), "big", &st, NULL);
	ok(tar_parse(out, &e) == 1 && e.size == 9ULL << 30, "9 GiB size through base-256");
	memset(out, 0, TAR_BLOCK);
	ok(tar_parse(out, &e) == 0, "zero block is the end marker");

	ok(path_clean("./a//b/./c/", PATH_DOTDOT_REJECT, rel, sizeof(rel)) == 0 && !strcmp(rel, "a/b/c"), "path cleaned");
	ok(path_clean("/etc/passwd", PATH_DOTDOT_REJECT, rel, sizeof(rel)) == 0 && !strcmp(rel, "etc/passwd"),
	   "absolute names become relative");
	ok(path_clean("a/../../x", PATH_DOTDOT_REJECT, rel, sizeof(rel)) == -EINVAL, "'..' refused");
	ok(path_clean("..", PATH_DOTDOT_REJECT, rel, sizeof(rel)) == -EINVAL, "bare '..' refused");
	ok(path_clean("a/..b", PATH_DOTDOT_REJECT, rel, sizeof(rel)) == 0, "'..b' is a name");
	ok(path_clean(".", PATH_DOTDOT_REJECT, rel, sizeof(rel)) == 0 && !*rel, "'.' is the destination");
}

/* Hostile archives written with our own header writer. */
static void write_entry(FILE *fp, const char *name, mode_t type, const char *link, const char *data)
{
	static uint8_t h[TAR_HEADER_MAX];
	struct stat st = { .st_mode = type | 0644, .st_size = data ? strlen(data) : 0 };
	size_t n = tar_header(h, sizeof(h), name, &st, link);
	static const uint8_t zero[TAR_BLOCK];

	fwrite(h, 1, n, fp);
	if (data) {
		fwrite(data, 1, strlen(data), fp);
		fwrite(zero, 1, tar_pad(strlen(data)), fp);
	}
}

static void test_copy(void)
{
	char cmd[1024], tar[256], tar2[256];
	FILE *fp;
	pid_t child;
	int sync_pipe[2];

	if (geteuid() != 0) {
		skip("needs root (chroot)", "cp tests against a chrooted container");
		return;
	}
	if (!mkdtemp(root))
		return;
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/etc %s/dest %s/data/sub && echo root:x:0:0::/:/bin/sh > %s/etc/passwd"
		 " && echo hello > %s/data/a.txt && head -c 100000 /dev/urandom > %s/data/sub/b.bin"
		 " && ln -s a.txt %s/data/link && mkfifo %s/data/fifo && ln -s /etc %s/etclink",
		 root, root, root, root, root, root, root, root, root);
	ok(sh(cmd) == 0, "scratch container root");
	/* The "container": a process whose root is the scratch directory. */
	if (pipe(sync_pipe) < 0)
		return;
	child = fork();
	if (child == 0) {
		char c = 0;

		if (chroot(root) < 0 || write(sync_pipe[1], &c, 1) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	{
		char c;

		ok(read(sync_pipe[0], &c, 1) == 1, "container process chrooted");
	}
	ag.main_pid = child;
	ag.vsock = 0;	/* "connected": copies produce data */

	/* CP_OUT, checked by GNU tar. */
	snprintf(tar, sizeof(tar), "%s.out.tar", root);
	ok(copy_out("/data", tar) == 0, "cp-out /data ends with TAR_END");
	snprintf(cmd, sizeof(cmd), "tar -tvf %s | grep -q 'data/link -> a.txt' && tar -tf %s | sort | tr '\\n' ' ' | "
		 "grep -qx 'data/ data/a.txt data/fifo data/link data/sub/ data/sub/b.bin '", tar, tar);
	ok(sh(cmd) == 0, "GNU tar reads the archive: every entry, the symlink");
	snprintf(cmd, sizeof(cmd), "mkdir -p %s.x && tar -xf %s -C %s.x && cmp %s.x/data/sub/b.bin %s/data/sub/b.bin",
		 root, tar, root, root, root);
	ok(sh(cmd) == 0, "file content survives cp-out");
	ok(copy_out("/nonexistent", tar) == ENOENT, "cp-out of a missing path: ENOENT");
	ok(copy_out("/../../../etc/passwd", tar) == EINVAL, "a path with '..': EINVAL");
	ok(copy_out("/etclink/passwd", tar) == 0, "a path through an absolute symlink of the container");
	snprintf(cmd, sizeof(cmd), "tar -xOf %s passwd | grep -qx 'root:x:0:0::/:/bin/sh'", tar);
	ok(sh(cmd) == 0, "... resolves inside the container root (its /etc/passwd)");

	/* CP_IN of a GNU tar archive, back into /dest. */
	snprintf(cmd, sizeof(cmd), "tar -cf %s.in.tar -C %s data", root, root);
	sh(cmd);
	snprintf(tar2, sizeof(tar2), "%s.in.tar", root);
	ok(copy_in(tar2, "/dest") == 0, "cp-in into /dest");
	snprintf(cmd, sizeof(cmd), "cmp %s/dest/data/sub/b.bin %s/data/sub/b.bin && [ \"$(readlink %s/dest/data/link)\" = a.txt ]"
		 " && [ -p %s/dest/data/fifo ]", root, root, root, root);
	ok(sh(cmd) == 0, "cp-in content, symlink and fifo");
	ok(copy_in(tar2, "/nonexistent") == ENOENT, "cp-in to a missing directory: ENOENT");

	/* Hostile: a symlink to / then a file through it lands inside the root. */
	snprintf(tar, sizeof(tar), "%s.evil.tar", root);
	fp = fopen(tar, "wb");
	write_entry(fp, "esc", S_IFLNK, "/", NULL);
	write_entry(fp, "esc/tmp/vmm-escape-test", S_IFREG, NULL, "pwned");
	write_entry(fp, "up", S_IFLNK, "../../../../..", NULL);
	write_entry(fp, "up/tmp/vmm-escape-test2", S_IFREG, NULL, "pwned");
	fwrite((uint8_t[1024]){ 0 }, 1, 1024, fp);
	fclose(fp);
	unlink("/tmp/vmm-escape-test");
	unlink("/tmp/vmm-escape-test2");
	ok(copy_in(tar, "/dest") == 0, "symlink-then-file archive extracts");
	ok(access("/tmp/vmm-escape-test", F_OK) < 0 && access("/tmp/vmm-escape-test2", F_OK) < 0,
	   "nothing written outside the container root");
	snprintf(cmd, sizeof(cmd), "grep -q pwned %s/tmp/vmm-escape-test && grep -q pwned %s/tmp/vmm-escape-test2",
		 root, root);
	ok(sh(cmd) == 0, "the writes stayed inside the root");

	fp = fopen(tar, "wb");
	write_entry(fp, "ok.txt", S_IFREG, NULL, "fine");
	write_entry(fp, "a/../../x", S_IFREG, NULL, "bad");
	fclose(fp);
	ok(copy_in(tar, "/dest") == EINVAL, "'..' entry: refused with EINVAL");

	fp = fopen(tar, "wb");
	write_entry(fp, "hl", S_IFREG, NULL, NULL);
	fclose(fp);
	{
		/* A hard link whose target leaves the destination. */
		static uint8_t h[TAR_HEADER_MAX];
		struct stat st = { .st_mode = S_IFREG | 0644 };
		size_t n = tar_header(h, sizeof(h), "hard", &st, "../../etc/passwd");

		h[156] = '1';
		tar_checksum(h);
		fp = fopen(tar, "wb");
		fwrite(h, 1, n, fp);
		fclose(fp);
	}
	ok(copy_in(tar, "/dest") == EINVAL, "hard link to '..': refused");

	fp = fopen(tar, "wb");
	write_entry(fp, "trunc.bin", S_IFREG, NULL, "0123456789");
	fclose(fp);
	if (truncate(tar, TAR_BLOCK + 5) == 0)
		ok(copy_in(tar, "/dest") == EINVAL, "truncated archive: EINVAL");
	fp = fopen(tar, "wb");
	fwrite("this is not a tar file at all", 1, 29, fp);
	fwrite((uint8_t[600]){ 1 }, 1, 600, fp);
	fclose(fp);
	ok(copy_in(tar, "/dest") == EINVAL, "garbage: EINVAL");

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ag.main_pid = 0;
	ok(copy_in(tar2, "/dest") == ESRCH, "no container: ESRCH");
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s.x %s.out.tar %s.in.tar %s.evil.tar", root, root, root, root, root);
	sh(cmd);
}

int main(void)
{
	proto_buf_init(&ag.out);
	test_headers();
	test_copy();
	proto_buf_free(&ag.out);
	return tap_done();
}
