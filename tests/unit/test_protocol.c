/* The agent protocol codec: round trips, truncations, hostile lengths and counts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest-agent/protocol.h"
#include "tests/unit/tap.h"

static char *argv_in[] = { "sh", "-c", "echo hi", NULL };
static char *env_in[] = { "PATH=/bin", "FOO=bar baz", NULL };

static char *rlimits[] = { "7 100 200", "3 8388608 18446744073709551615", NULL };

static void fill_spec(struct proto_spec *s)
{
	static struct proto_mount mounts[] = {
		{ .source = "/dev/vdb", .target = "/data", .fstype = "ext4", .read_only = true },
		{ .source = "tmpfs", .target = "/scratch", .fstype = "tmpfs", .options = "size=1m", .copy_up = true },
	};
	static char *hosts[] = { "10.0.2.2 host.vmm.internal", NULL };
	static char *dns[] = { "10.0.2.3", NULL };
	static char *groups[] = { "wheel", "10", NULL };

	memset(s, 0, sizeof(*s));
	s->argv = argv_in;
	s->argc = 3;
	s->env = env_in;
	s->nenv = 2;
	s->cwd = "/tmp/work";
	s->user = "1000:100";
	s->groups = groups;
	s->ngroups = 2;
	s->tty = true;
	s->rows = 40;
	s->cols = 132;
	s->stdin = true;
	s->memory_max = 64 << 20;
	s->pids_max = 100;
	s->cpu_quota_us = 50000;
	s->cpu_period_us = 100000;
	s->hostname = "box";
	s->read_only = true;
	s->ephemeral = true;
	s->init = true;
	s->root = "dir:/rootfs";
	s->mounts = mounts;
	s->nmounts = 2;
	s->hosts = hosts;
	s->nhosts = 1;
	s->dns = dns;
	s->ndns = 1;
	s->caps_set = true;
	s->caps[0] = 0x21;
	s->caps[4] = 1ULL << 40;
	s->rlimits = rlimits;
	s->nrlimits = 2;
	s->no_new_privs = true;
}

/* Encode one frame and return its payload (static copy) via the rx path. */
static int one_frame(struct proto_buf *b, struct proto_frame *f, uint8_t *copy, size_t cap)
{
	struct proto_rx rx;
	int ret;

	proto_rx_init(&rx);
	proto_rx_feed(&rx, proto_buf_head(b), proto_buf_pending(b));
	ret = proto_rx_next(&rx, f);
	if (ret == 1 && f->len <= cap) {
		memcpy(copy, f->payload, f->len);
		f->payload = copy;
	}
	proto_buf_consume(b, proto_buf_pending(b));
	proto_rx_free(&rx);
	return ret;
}

static void test_spec_round_trip(void)
{
	static uint8_t payload[8192];
	struct proto_spec in, out;
	struct proto_frame f;
	struct proto_buf b;
	int ret;

	fill_spec(&in);
	proto_buf_init(&b);
	ok(proto_spec_encode(&b, PROTO_RUN, 1, &in) == 0, "spec encodes");
	ok(one_frame(&b, &f, payload, sizeof(payload)) == 1, "spec frame parses");
	ok(f.type == PROTO_RUN && f.stream == 1, "frame type %u stream %u", f.type, f.stream);
	ret = proto_spec_decode(f.payload, f.len, &out);
	ok(ret == 0, "spec decodes (%d)", ret);
	if (ret)
		return;
	ok(out.argc == 3 && !strcmp(out.argv[2], "echo hi") && out.argv[3] == NULL, "argv round trip");
	ok(out.nenv == 2 && !strcmp(out.env[1], "FOO=bar baz") && !out.env[2], "env round trip");
	ok(!strcmp(out.cwd, "/tmp/work") && !strcmp(out.user, "1000:100"), "cwd, user");
	ok(out.ngroups == 2 && !strcmp(out.groups[0], "wheel"), "groups");
	ok(out.tty && out.stdin && out.read_only && out.ephemeral && out.init && out.rows == 40 && out.cols == 132, "flags, window");
	ok(out.memory_max == 64 << 20 && out.pids_max == 100 &&
	   out.cpu_quota_us == 50000 && out.cpu_period_us == 100000, "limits");
	ok(!strcmp(out.hostname, "box") && !strcmp(out.root, "dir:/rootfs") && !out.root_fstype,
	   "hostname, root, absent fstype is NULL");
	ok(out.nmounts == 2 && !strcmp(out.mounts[0].target, "/data") && out.mounts[0].read_only &&
	   !strcmp(out.mounts[1].options, "size=1m") && !out.mounts[1].read_only &&
	   !out.mounts[0].copy_up && out.mounts[1].copy_up, "mounts");
	ok(out.caps_set && out.caps[0] == 0x21 && out.caps[1] == 0 && out.caps[4] == 1ULL << 40 &&
	   out.nrlimits == 2 && !strcmp(out.rlimits[1], "3 8388608 18446744073709551615") && !out.rlimits[2] &&
	   out.no_new_privs, "an OCI process's capability sets, rlimits, no_new_privs");
	ok(out.nhosts == 1 && out.ndns == 1 && !strcmp(out.dns[0], "10.0.2.3") && out.ndns_search == 0,
	   "hosts, dns");
	proto_spec_free(&out);

	/* Every truncation of a valid payload fails cleanly or decodes a prefix. */
	{
		int bad = 0, okc = 0;

		for (size_t n = 0; n < f.len; n++) {
			ret = proto_spec_decode(f.payload, n, &out);
			if (ret == 0) {
				okc++;
				proto_spec_free(&out);
			} else if (ret != -EINVAL && ret != -E2BIG) {
				bad++;
			}
		}
		ok(bad == 0, "truncated specs: only -EINVAL or a valid prefix (%d decoded)", okc);
	}
	proto_buf_free(&b);
}

static void put_raw_field(uint8_t *p, uint16_t tag, uint32_t len)
{
	p[0] = tag;
	p[1] = tag >> 8;
	p[2] = len;
	p[3] = len >> 8;
	p[4] = len >> 16;
	p[5] = len >> 24;
}

static void test_spec_hostile(void)
{
	struct proto_spec out;
	uint8_t buf[64];
	struct proto_buf b;
	int ret;

	/* A field length past the end. */
	put_raw_field(buf, TAG_ARGV, 1000);
	memcpy(buf + 6, "sh", 2);
	ok(proto_spec_decode(buf, 8, &out) == -EINVAL, "field length past the payload: -EINVAL");
	put_raw_field(buf, TAG_ARGV, 0xffffffff);
	ok(proto_spec_decode(buf, 8, &out) == -EINVAL, "field length 4G: -EINVAL");
	/* A partial field header. */
	ok(proto_spec_decode(buf, 5, &out) == -EINVAL, "5-byte field header: -EINVAL");
	/* No argv. */
	put_raw_field(buf, TAG_CWD, 1);
	buf[6] = '/';
	ok(proto_spec_decode(buf, 7, &out) == -EINVAL, "spec without argv: -EINVAL");
	/* A NUL inside a string. */
	put_raw_field(buf, TAG_ARGV, 3);
	memcpy(buf + 6, "a\0b", 3);
	ok(proto_spec_decode(buf, 9, &out) == -EINVAL, "NUL inside a string: -EINVAL");
	/* An integer of the wrong size. */
	put_raw_field(buf, TAG_ARGV, 1);
	buf[6] = 'x';
	put_raw_field(buf + 7, TAG_TTY, 4);
	memset(buf + 13, 0, 4);
	ok(proto_spec_decode(buf, 17, &out) == -EINVAL, "4-byte integer field: -EINVAL");
	/* A bool that is 2. */
	put_raw_field(buf + 7, TAG_TTY, 8);
	memset(buf + 13, 0, 8);
	buf[13] = 2;
	ok(proto_spec_decode(buf, 21, &out) == -EINVAL, "bool 2: -EINVAL");
	/* rows over 65535 */
	put_raw_field(buf + 7, TAG_ROWS, 8);
	memset(buf + 13, 0, 8);
	buf[15] = 1;
	ok(proto_spec_decode(buf, 21, &out) == -EINVAL, "rows 65536: -EINVAL");
	/* An unknown tag is skipped. */
	put_raw_field(buf + 7, 999, 2);
	ret = proto_spec_decode(buf, 15, &out);
	ok(ret == 0 && out.argc == 1 && !strcmp(out.argv[0], "x"), "unknown field skipped");
	if (!ret)
		proto_spec_free(&out);
	/* A hostname over 64 bytes. */
	{
		char host[80];

		memset(host, 'h', sizeof(host) - 1);
		host[79] = 0;
		struct proto_spec s = { .argv = argv_in, .argc = 1, .hostname = host };
		proto_buf_init(&b);
		proto_spec_encode(&b, PROTO_RUN, 1, &s);
		ok(proto_spec_decode(proto_buf_head(&b) + 8, proto_buf_pending(&b) - 8, &out) == -EINVAL,
		   "79-byte hostname: -EINVAL");
		proto_buf_free(&b);
	}
	/* More list entries than PROTO_MAX_LIST. */
	{
		struct proto_spec s = { .argv = argv_in, .argc = 1 };
		char **env = calloc(PROTO_MAX_LIST + 2, sizeof(char *));

		for (int i = 0; i <= PROTO_MAX_LIST; i++)
			env[i] = "A=1";
		s.env = env;
		s.nenv = PROTO_MAX_LIST + 1;
		proto_buf_init(&b);
		ok(proto_spec_encode(&b, PROTO_RUN, 1, &s) == 0, "4097 env entries encode");
		ok(proto_spec_decode(proto_buf_head(&b) + 8, proto_buf_pending(&b) - 8, &out) == -E2BIG,
		   "4097 env entries: -E2BIG");
		proto_buf_free(&b);
		free(env);
	}
	/* A mount without a target. */
	{
		struct proto_mount m = { .source = "x" };
		struct proto_spec s = { .argv = argv_in, .argc = 1, .mounts = &m, .nmounts = 1 };

		proto_buf_init(&b);
		proto_spec_encode(&b, PROTO_RUN, 1, &s);
		ok(proto_spec_decode(proto_buf_head(&b) + 8, proto_buf_pending(&b) - 8, &out) == -EINVAL,
		   "mount without target: -EINVAL");
		proto_buf_free(&b);
	}
}

static void test_frames(void)
{
	struct proto_frame f;
	struct proto_rx rx;
	struct proto_buf b;
	uint8_t hdr[8] = { 0 };
	static uint8_t big[PROTO_MAX_PAYLOAD + 1];
	int ret, n;

	/* Max payload: accepted; one more: -E2BIG, on both sides. */
	hdr[0] = 0x01; hdr[1] = 0x00; hdr[2] = 0x10; hdr[3] = 0x00;	/* 1 MiB + 1 */
	ok(proto_frame_parse(hdr, 8, &f) == -E2BIG, "frame length 1 MiB + 1: -E2BIG");
	hdr[0] = 0xff; hdr[1] = 0xff; hdr[2] = 0xff; hdr[3] = 0xff;
	ok(proto_frame_parse(hdr, 8, &f) == -E2BIG, "frame length 4 GiB: -E2BIG");
	ok(proto_frame_parse(hdr, 7, &f) == 0, "7 header bytes: need more");
	hdr[0] = 5; hdr[1] = hdr[2] = hdr[3] = 0;
	ok(proto_frame_parse(hdr, 8, &f) == 0, "header without its payload: need more");

	proto_buf_init(&b);
	ok(proto_put_frame(&b, PROTO_STDOUT, 3, big, PROTO_MAX_PAYLOAD) == 0, "1 MiB data frame encodes");
	ok(proto_put_frame(&b, PROTO_STDOUT, 3, big, PROTO_MAX_PAYLOAD + 1) == -E2BIG,
	   "1 MiB + 1 data frame refused");
	ok(proto_buf_pending(&b) == 8 + PROTO_MAX_PAYLOAD, "refused frame left nothing behind");
	ok(proto_put_frame(&b, PROTO_STDIN_EOF, 3, NULL, 0) == 0, "empty frame");

	/* Byte-by-byte delivery yields the same frames. */
	proto_rx_init(&rx);
	n = 0;
	for (size_t i = 0; i < proto_buf_pending(&b); i++) {
		proto_rx_feed(&rx, proto_buf_head(&b) + i, 1);
		while ((ret = proto_rx_next(&rx, &f)) == 1) {
			n++;
			if (n == 1)
				ok(f.len == PROTO_MAX_PAYLOAD && f.type == PROTO_STDOUT && f.stream == 3,
				   "big frame reassembled");
			else
				ok(f.len == 0 && f.type == PROTO_STDIN_EOF, "empty frame reassembled");
		}
	}
	ok(n == 2, "two frames out of byte-wise input (%d)", n);
	proto_rx_free(&rx);

	/* Oversized header through the rx buffer: -E2BIG, never an allocation. */
	proto_rx_init(&rx);
	hdr[0] = 0xff; hdr[1] = 0xff; hdr[2] = 0xff; hdr[3] = 0x7f;
	ret = proto_rx_feed(&rx, hdr, 8);
	ok(ret == 0 && proto_rx_next(&rx, &f) == -E2BIG, "rx: oversized frame is -E2BIG");
	ok(proto_rx_feed(&rx, hdr, 8) == -E2BIG, "rx: no more input accepted after it");
	proto_rx_free(&rx);

	/* Consume, then more frames: buffer compaction keeps frames intact. */
	proto_buf_consume(&b, proto_buf_pending(&b));
	for (int i = 0; i < 100; i++) {
		proto_u64_encode(&b, PROTO_WINDOW, i, TAG_INCREMENT, i * 1000);
		proto_buf_consume(&b, 10);
	}
	ok(proto_buf_pending(&b) == 100 * (8 + 14) - 1000, "partial consumption accounted");
	proto_buf_free(&b);

	/* Through a pipe with proto_rx_read. */
	{
		int fds[2];
		uint64_t v = 0;

		ret = pipe(fds);
		proto_buf_init(&b);
		proto_u64_encode(&b, PROTO_SIGNAL, 7, TAG_SIGNAL, 15);
		ret |= write(fds[1], proto_buf_head(&b), proto_buf_pending(&b)) < 0;
		close(fds[1]);
		proto_rx_init(&rx);
		ok(proto_rx_read(&rx, fds[0]) == 22, "rx_read reads the frame");
		ok(proto_rx_next(&rx, &f) == 1 && f.type == PROTO_SIGNAL && f.stream == 7 &&
		   proto_u64_decode(f.payload, f.len, TAG_SIGNAL, &v) == 0 && v == 15, "signal 15 on stream 7");
		ok(proto_rx_read(&rx, fds[0]) == 0, "rx_read: EOF");
		close(fds[0]);
		proto_rx_free(&rx);
		proto_buf_free(&b);
	}
}

static void test_messages(void)
{
	static uint8_t payload[4096];
	char str[256];
	struct proto_frame f;
	struct proto_buf b;
	struct proto_hello h = { .version = PROTO_VERSION, .caps = PROTO_CAP_TTY | PROTO_CAP_CP,
				 .uptime_ns = 12345678901ULL }, h2;
	struct proto_started st = { .code = 127, .message = "executable file not found in $PATH" }, st2;
	struct proto_exit e = { .code = 137, .signal = 9, .oom = true }, e2;
	struct proto_result r = { .code = ENOENT, .message = "no such file" }, r2;
	uint16_t rows, cols;
	uint64_t v;

	proto_buf_init(&b);
	proto_hello_encode(&b, &h);
	one_frame(&b, &f, payload, sizeof(payload));
	ok(f.type == PROTO_HELLO && proto_hello_decode(f.payload, f.len, &h2) == 0 &&
	   h2.version == 1 && h2.caps == h.caps && h2.uptime_ns == h.uptime_ns, "hello round trip");
	ok(proto_hello_decode(f.payload, 0, &h2) == -EINVAL, "hello without version: -EINVAL");

	proto_started_encode(&b, 4, &st);
	one_frame(&b, &f, payload, sizeof(payload));
	ok(proto_started_decode(f.payload, f.len, &st2, str, sizeof(str)) == 0 && st2.code == 127 &&
	   st2.pid == 0 && !strcmp(st2.message, st.message), "started (failure) round trip");
	ok(proto_started_decode(f.payload, f.len, &st2, str, 10) == -E2BIG, "message over strbuf: -E2BIG");
	st = (struct proto_started){ .pid = 42 };
	proto_started_encode(&b, 4, &st);
	one_frame(&b, &f, payload, sizeof(payload));
	ok(proto_started_decode(f.payload, f.len, &st2, str, sizeof(str)) == 0 && st2.pid == 42 &&
	   !st2.message, "started (pid) round trip");
	st = (struct proto_started){ .pid = 42, .code = 1 };
	proto_started_encode(&b, 4, &st);
	one_frame(&b, &f, payload, sizeof(payload));
	ok(proto_started_decode(f.payload, f.len, &st2, str, sizeof(str)) == -EINVAL,
	   "started with pid and error: -EINVAL");

	proto_exit_encode(&b, 1, &e);
	one_frame(&b, &f, payload, sizeof(payload));
	ok(f.type == PROTO_EXIT && proto_exit_decode(f.payload, f.len, &e2) == 0 && e2.code == 137 &&
	   e2.signal == 9 && e2.oom, "exit round trip");
	ok(proto_exit_decode(f.payload, 0, &e2) == -EINVAL, "exit without code: -EINVAL");
	proto_begin(&b, PROTO_EXIT, 1);
	proto_put_u64(&b, TAG_CODE, 256);
	proto_end(&b);
	one_frame(&b, &f, payload, sizeof(payload));
	ok(proto_exit_decode(f.payload, f.len, &e2) == -EINVAL, "exit code 256: -EINVAL");

	{
		struct proto_stats ps = { .mem = 5 << 20, .mem_max = 1ULL << 40, .pids = 3 }, ps2;

		proto_stats_encode(&b, 4, &ps);
		one_frame(&b, &f, payload, sizeof(payload));
		ok(f.type == PROTO_STATS_RESULT && proto_stats_decode(f.payload, f.len, &ps2) == 0 &&
		   ps2.mem == ps.mem && ps2.mem_max == ps.mem_max && ps2.pids == 3,
		   "stats round trip");
		ok(proto_stats_decode(f.payload, f.len - 1, &ps2) < 0, "stats cut short: an error");
	}

	proto_result_encode(&b, 9, &r);
	one_frame(&b, &f, payload, sizeof(payload));
	ok(proto_result_decode(f.payload, f.len, &r2, str, sizeof(str)) == 0 && r2.code == ENOENT &&
	   !strcmp(r2.message, "no such file"), "result round trip");

	proto_resize_encode(&b, 2, 50, 200);
	one_frame(&b, &f, payload, sizeof(payload));
	ok(proto_resize_decode(f.payload, f.len, &rows, &cols) == 0 && rows == 50 && cols == 200,
	   "resize round trip");
	ok(proto_resize_decode(f.payload, 14, &rows, &cols) == -EINVAL, "resize without cols: -EINVAL");

	proto_path_encode(&b, PROTO_CP_OUT, 5, "/etc/passwd");
	one_frame(&b, &f, payload, sizeof(payload));
	ok(proto_path_decode(f.payload, f.len, str, sizeof(str)) == 0 && !strcmp(str, "/etc/passwd"),
	   "path round trip");
	ok(proto_path_decode(f.payload, f.len, str, 5) == -E2BIG, "path over its buffer: -E2BIG");
	proto_path_encode(&b, PROTO_CP_OUT, 5, "");
	one_frame(&b, &f, payload, sizeof(payload));
	ok(proto_path_decode(f.payload, f.len, str, sizeof(str)) == -EINVAL, "empty path: -EINVAL");

	ok(proto_u64_encode(&b, PROTO_WINDOW, 3, TAG_INCREMENT, 65536) == 0, "window encodes");
	one_frame(&b, &f, payload, sizeof(payload));
	ok(proto_u64_decode(f.payload, f.len, TAG_INCREMENT, &v) == 0 && v == 65536, "window round trip");
	ok(proto_u64_decode(f.payload, f.len, TAG_SIGNAL, &v) == -EINVAL, "missing field: -EINVAL");

	/* TOP_RESULT rows */
	{
		struct proto_proc p1 = { .pid = 1, .user = "root", .time_ms = 1500, .cmd = "sh -c sleep" };
		struct proto_proc p2 = { .pid = 7, .user = "nobody", .time_ms = 0, .cmd = "sleep 100" };
		struct proto_reader rd;
		struct proto_proc got;
		int n = 0, ret;

		proto_top_begin(&b, 3);
		proto_top_add(&b, &p1);
		proto_top_add(&b, &p2);
		ok(proto_top_end(&b) == 0, "top result encodes");
		one_frame(&b, &f, payload, sizeof(payload));
		proto_reader_init(&rd, f.payload, f.len);
		while ((ret = proto_top_next(&rd, &got, str, sizeof(str))) == 1) {
			n++;
			if (n == 2)
				ok(got.pid == 7 && !strcmp(got.user, "nobody") && !strcmp(got.cmd, "sleep 100"),
				   "second row");
		}
		ok(ret == 0 && n == 2, "two rows, clean end (%d)", ret);
		proto_reader_init(&rd, f.payload, f.len - 3);
		proto_top_next(&rd, &got, str, sizeof(str));
		ok(proto_top_next(&rd, &got, str, sizeof(str)) == -EINVAL, "truncated top result: -EINVAL");
	}
	ok(!strcmp(proto_type_name(PROTO_EXIT), "EXIT") && !strcmp(proto_type_name(999), "UNKNOWN"),
	   "type names");
	proto_buf_free(&b);
}

int main(void)
{
	test_spec_round_trip();
	test_spec_hostile();
	test_frames();
	test_messages();
	return tap_done();
}
