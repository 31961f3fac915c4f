/*
 * Kill -9 in the middle of qcow2 writes: a child writes self-describing 4 KiB
 * blocks (block number, generation, pattern), discards and zeroes, flushing
 * now and then, until the parent kills it at a random moment. Afterwards the
 * image may only have leaks (qemu-img check exit 0 or 3), every block must
 * read as zeros or as a valid block *for that block number* (never another
 * block's data), and blocks unchanged since the last completed flush must
 * read back as flushed. Opening the dirty image for writing repairs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "images/disk/disk.h"
#include "images/disk/qcow2.h"
#include "tests/unit/tap.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

#define BLK	4096
#define NBLK	2048		/* 8 MiB disk */

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static void fill(uint8_t *b, uint64_t blk, uint64_t gen)
{
	memcpy(b, &blk, 8);
	memcpy(b + 8, &gen, 8);
	for (int i = 16; i < BLK; i++)
		b[i] = (uint8_t)(blk * 31 + gen * 7 + i);
}

/* 0: zeros, 1: valid block blk, -1: garbage or another block's data. */
static int classify(const uint8_t *b, uint64_t blk, uint64_t *gen)
{
	uint8_t want[BLK];
	uint64_t n;

	if (disk_buf_is_zero(b, BLK))
		return 0;
	memcpy(&n, b, 8);
	memcpy(gen, b + 8, 8);
	if (n != blk)
		return -1;
	fill(want, blk, *gen);
	return memcmp(b, want, BLK) ? -1 : 1;
}

/* The child's workload. Generations only grow; flushed[] is sent after each flush. */
static void child(const char *path, int pipe_fd, uint64_t seed, uint32_t cs)
{
	struct disk_open_opts o = { 0 };
	static uint64_t gen[NBLK];
	uint8_t buf[BLK * 4];
	struct disk *d;
	uint64_t g = 1;

	rng = seed;
	if (disk_open(path, &o, &d, NULL))
		_exit(1);
	for (;;) {
		uint64_t r = rnd(100), b = rnd(NBLK - 4), n = 1 + rnd(4);

		if (r < 70) {
			for (uint64_t i = 0; i < n; i++) {
				gen[b + i] = g++;
				fill(buf + i * BLK, b + i, gen[b + i]);
			}
			if (disk_write(d, buf, n * BLK, b * BLK))
				_exit(2);
		} else if (r < 80) {
			uint64_t c0 = ALIGN_UP(b * BLK, cs), c1 = ALIGN_DOWN((b + n) * BLK, cs);

			if (disk_discard(d, b * BLK, n * BLK))
				_exit(3);
			for (uint64_t x = c0; x < c1; x += BLK)
				gen[x / BLK] = 0;
		} else if (r < 90) {
			if (disk_write_zeroes(d, b * BLK, n * BLK, r & 1))
				_exit(4);
			for (uint64_t i = 0; i < n; i++)
				gen[b + i] = 0;
		} else {
			if (disk_flush(d))
				_exit(5);
			/* The state now durable; the parent keeps the last complete copy. */
			if (write_full(pipe_fd, gen, sizeof(gen)))
				_exit(6);
		}
	}
}

static void one_run(const char *path, int round, uint32_t cs)
{
	static uint64_t flushed[NBLK], tmp[NBLK];
	struct qcow2_create_opts q = { .size = NBLK * BLK, .cluster_size = cs };
	struct disk_open_opts o = { .read_only = true };
	int p[2], status, bad_other = 0, bad_lost = 0, have = 0;
	struct timespec ts;
	uint8_t buf[BLK];
	char cmd[512];
	struct disk *d;
	pid_t pid;

	memset(flushed, 0, sizeof(flushed));
	qcow2_create(path, &q, NULL);
	if (pipe(p))
		return;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child(path, p[1], 0x1234567ULL * (round + 1), cs);
	}
	close(p[1]);
	ts.tv_sec = 0;
	ts.tv_nsec = (5 + (round * 37) % 60) * 1000000L;
	nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* The last complete flushed state the child reported. */
	for (;;) {
		ssize_t got = 0, n;

		while (got < (ssize_t)sizeof(tmp) && (n = read(p[0], (char *)tmp + got, sizeof(tmp) - got)) > 0)
			got += n;
		if (got < (ssize_t)sizeof(tmp))
			break;
		memcpy(flushed, tmp, sizeof(tmp));
		have++;
	}
	close(p[0]);
	ok(WIFSIGNALED(status), "round %d (%u B clusters): child killed mid-write (%d flushes)",
	   round, cs, have);
	snprintf(cmd, sizeof(cmd), "qemu-img check -q '%s' >/dev/null 2>&1", path);
	status = system(cmd);
	ok(WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3),
	   "round %d: qemu-img check finds leaks at most (exit %d)", round, WEXITSTATUS(status));
	if (disk_open(path, &o, &d, NULL) == 0) {
		for (uint64_t b = 0; b < NBLK; b++) {
			uint64_t gen = 0;
			int c;

			if (disk_read(d, buf, BLK, b * BLK)) {
				bad_other++;
				continue;
			}
			c = classify(buf, b, &gen);
			if (c < 0)
				bad_other++;
			/* Never older than what was flushed (zeros: a later discard is possible). */
			else if (c == 1 && gen < flushed[b])
				bad_lost++;
		}
		disk_close(d);
	}
	ok(!bad_other, "round %d: no block shows garbage or another block's data (%d)", round, bad_other);
	ok(!bad_lost, "round %d: flushed blocks survive (%d lost)", round, bad_lost);
	o.read_only = false;
	ok(disk_open(path, &o, &d, NULL) == 0, "round %d: dirty image opens for writing (refcounts repaired)", round);
	disk_close(d);
	status = system(cmd);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "round %d: qemu-img check clean after repair", round);
}

int main(void)
{
	char dir[] = "/tmp/vmm-test-crash.XXXXXX", path[256];

	log_set_level(LOG_ERROR);
	if (system("qemu-img --version >/dev/null 2>&1") != 0) {
		skip("qemu-img not installed", "crash tests");
		return tap_done();
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/c.qcow2", dir);
	for (int round = 0; round < 30; round++)
		one_run(path, round, round % 3 == 0 ? 4096 : round % 3 == 1 ? 65536 : 512);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
