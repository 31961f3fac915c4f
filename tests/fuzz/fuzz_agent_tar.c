/*
 * The guest agent's tar parsing (guest-agent/tar.c): header blocks, pax
 * records and path cleaning against arbitrary bytes. The input is cut into
 * 512-byte blocks; every block is parsed, and its data is tried as pax
 * records and as a path.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guest-agent/tar.h"
#include "vmm/base/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char name[TAR_PATH_MAX], link[TAR_PATH_MAX], clean[TAR_PATH_MAX], path[TAR_PATH_MAX];
	struct tar_entry e;

	for (size_t off = 0; off + TAR_BLOCK <= size; off += TAR_BLOCK) {
		if (tar_parse(data + off, &e) == 1) {
			if (strlen(e.name) >= TAR_PATH_MAX || strlen(e.link) >= TAR_PATH_MAX)
				__builtin_trap();
			if (path_clean(e.name, PATH_DOTDOT_REJECT, clean, sizeof(clean)) == 0 &&
			    (strstr(clean, "..") == clean || strstr(clean, "/../") || clean[0] == '/'))
				__builtin_trap();
		}
	}
	name[0] = link[0] = 0;
	tar_pax((const char *)data, size, name, link);
	if (size < sizeof(path)) {
		memcpy(path, data, size);
		path[size] = 0;
		if (path_clean(path, PATH_DOTDOT_REJECT, clean, sizeof(clean)) == 0) {
			size_t n = strlen(clean);

			if (clean[0] == '/' || (n && clean[n - 1] == '/') || strstr(clean, "//"))
				__builtin_trap();
			for (char *c = clean; (c = strstr(c, "..")); c += 2)
				if ((c == clean || c[-1] == '/') && (c[2] == '/' || !c[2]))
					__builtin_trap();
		}
	}
	return 0;
}
