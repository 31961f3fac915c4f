/*
 * `vmm load` (images/oci/load.c) against hostile archives: the input is a
 * tar (docker-archive or oci-archive, maybe compressed) read from a memfd as
 * from stdin or, when its first byte is 'L', an OCI layout directory written
 * from records
 *   u8 name length, name (a path in the layout), u16 LE data length, data
 * and loaded by path. Each input loads into a fresh store; the store and the
 * layout live under one per-process directory in /dev/shm (tmpfs: the
 * store's fsyncs cost nothing), removed after every input and at exit.
 * Checked: a load that succeeds names images the store's index holds.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "images/oci/index.h"
#include "images/oci/load.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[64];

static void cleanup(void)
{
	remove_tree(AT_FDCWD, base);
}

/* A path inside the layout: relative, no "..", no empty or "." parts. */
static bool inside(const char *name)
{
	const char *p = name;

	if (!*name || *name == '/')
		return false;
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!p[n])
			return true;
		p += n + 1;
	}
}

static void write_layout(const char *dir, const uint8_t *data, size_t size)
{
	char name[256], path[PATH_MAX];
	size_t off = 0;

	while (off < size) {
		size_t nl = data[off++], dl;
		int fd;

		if (size - off < nl + 2)
			return;
		memcpy(name, data + off, nl);
		name[nl] = '\0';
		off += nl;
		dl = data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (dl > size - off)
			dl = size - off;
		if (strlen(name) == nl && inside(name)) {
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			mkdir_parent(path, 0700);
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd >= 0) {
				if (write_full(fd, data + off, dl))
					(void)0;
				close(fd);
			}
		}
		off += dl;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char root[96], layout[96];
	struct loaded_image *v = NULL;
	struct oci_index idx;
	struct store *s;
	struct error e;
	size_t n = 0;
	int fd = -1, ret;

	if (!base[0]) {
		log_set_level(LOG_NONE);
		snprintf(base, sizeof(base), "/dev/shm/vmm-fuzz-load-%d", (int)getpid());
		atexit(cleanup);
	}
	snprintf(root, sizeof(root), "%s/store", base);
	snprintf(layout, sizeof(layout), "%s/layout", base);
	if (mkdir_p(AT_FDCWD, layout, 0700) || store_open(root, &s, &e))
		abort();
	if (size && data[0] == 'L') {
		write_layout(layout, data + 1, size - 1);
		ret = image_load(s, layout, -1, &v, &n, &e);
	} else {
		fd = memfd_create("archive", MFD_CLOEXEC);
		if (fd < 0 || write_full(fd, data, size) || lseek(fd, 0, SEEK_SET))
			abort();
		ret = image_load(s, NULL, fd, &v, &n, &e);
		close(fd);
	}
	if (ret == 0) {
		if (store_index_read(s, &idx, &e))
			abort();
		for (size_t i = 0; i < n; i++)
			if (!index_has_digest(&idx, v[i].digest))
				abort();
		index_free(&idx);
		loaded_images_free(v, n);
	} else if (e.code >= 0 || !e.msg[0]) {
		abort();	/* a failure says why */
	}
	store_close(s);
	cleanup();
	return 0;
}
