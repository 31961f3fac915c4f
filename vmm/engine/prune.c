/* Pruning containers and the build cache, and what the build cache holds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"
#include "vmm/engine/lifecycle.h"
#include "vmm/engine/prune.h"

int engine_containers_prune(const struct paths *p, void (*removed)(void *arg, const char *id), void *arg,
			    struct error *e)
{
	struct container **list;
	size_t n;
	int ret = container_list(p->root, &list, &n, e);

	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		struct error ignored = { 0 };

		/* engine_remove refuses a container that runs (or started meanwhile) */
		if (!container_is_running(list[i]) &&
		    engine_remove(p, list[i]->cfg.id, false, false, &ignored) == 0 && removed)
			removed(arg, list[i]->cfg.id);
	}
	container_list_free(list, n);
	return 0;
}

/* Each entry of the cache folder: counted, and removed when drop. */
static int cache_walk(const char *root, bool drop, unsigned *entries, uint64_t *bytes)
{
	char dir[4096];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	*entries = 0;
	*bytes = 0;
	snprintf(dir, sizeof(dir), "%s/build-cache", root);
	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct stat st;

		if (!str_has_suffix(de->d_name, ".json") ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (drop && unlinkat(dirfd(d), de->d_name, 0) < 0) {
			ret = -errno;
			continue;
		}
		(*entries)++;
		*bytes += (uint64_t)st.st_size;
	}
	closedir(d);
	return ret;
}

void build_cache_usage(const char *root, unsigned *entries, uint64_t *bytes)
{
	cache_walk(root, false, entries, bytes);
}

int build_cache_prune(const char *root, unsigned *entries, uint64_t *bytes, struct error *e)
{
	int ret = cache_walk(root, true, entries, bytes);

	return ret ? err_sys(e, ret, "%s/build-cache", root) : 0;
}
