/*
 * libFuzzer target for vmm cp from a container: whatever tar a hostile guest
 * sends, extraction stays in the destination and plants no setuid file,
 * device node or FIFO there.
 */

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/engine/copy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)path;
	(void)flag;
	(void)f;
	if ((st->st_mode & (S_ISUID | S_ISGID)) || S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ||
	    S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char root[] = "/tmp/vmm-fuzz-cp-XXXXXX";
	static int ready;
	int fd = memfd_create("tar", MFD_CLOEXEC);
	struct error e;

	if (!ready && !(ready = mkdtemp(root) != NULL))
		abort();
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	mkdir_p(AT_FDCWD, root, 0700);
	engine_copy_extract(fd, root, "data", "out", false, &e);
	close(fd);
	nftw(root, check, 16, FTW_PHYS);
	remove_tree(AT_FDCWD, root);
	return 0;
}
