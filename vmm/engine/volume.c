/* Volumes in the store (see volume.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/base/hex.h"
#include "vmm/base/json.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/config-scan.h"
#include "vmm/engine/mount-spec.h"
#include "vmm/engine/volume-disk.h"
#include "vmm/engine/volume.h"

#define VOLUME_JSON_MAX	(64 << 10)

static int volume_dir(const char *root, const char *name, const char *leaf, char *buf, size_t len,
		      struct error *e)
{
	if (!mount_volume_name_valid(name))
		return err_set(e, -EINVAL, "'%s' is not a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)", name);
	if ((size_t)snprintf(buf, len, "%s/volumes/%s%s%s", root, name, leaf ? "/" : "",
			     leaf ? leaf : "") >= len)
		return err_set(e, -ENAMETOOLONG, "store path %s: too long", root);
	return 0;
}

void volume_free(struct volume *v)
{
	json_object_put(v->labels);
	v->labels = NULL;
}

json_object *volume_to_json(const struct volume *v)
{
	json_object *o = json_object_new_object();
	char when[64];
	struct tm tm;
	time_t t = v->created;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "CreatedAt", json_object_new_string(when));
	json_object_object_add(o, "Driver", json_object_new_string("local"));
	json_object_object_add(o, "Labels", v->labels ? json_object_get(v->labels) : json_object_new_object());
	json_object_object_add(o, "Mountpoint", json_object_new_string(v->mountpoint));
	json_object_object_add(o, "Name", json_object_new_string(v->name));
	json_object_object_add(o, "Options", json_object_new_object());
	if (v->size[0])
		json_object_object_add(json_object_object_get(o, "Options"), "size", json_object_new_string(v->size));
	json_object_object_add(o, "Scope", json_object_new_string("local"));
	json_object_object_add(o, "Anonymous", json_object_new_boolean(v->anonymous));
	return o;
}

/* volume.json's Options.size, as it was given */
static int size_option(json_object *o, struct volume *v, struct error *e)
{
	json_object *opts, *size;
	uint64_t bytes;

	if (!json_object_object_get_ex(o, "Options", &opts) || !json_object_object_get_ex(opts, "size", &size))
		return 0;
	if (!json_object_is_type(size, json_type_string) || parse_size(json_object_get_string(size), 1, &bytes) ||
	    strlen(json_object_get_string(size)) >= sizeof(v->size))
		return err_set(e, -EINVAL, "volume.Options.size: not a size");
	snprintf(v->size, sizeof(v->size), "%s", json_object_get_string(size));
	return 0;
}

/* The driver options of volume create: size=SIZE, and nothing else. */
static int parse_opts(const char *const *opts, char size[32], uint64_t *bytes, struct error *e)
{
	for (size_t i = 0; opts && opts[i]; i++) {
		const char *val = str_has_prefix(opts[i], "size=") ? opts[i] + 5 : NULL;

		if (!val)
			return err_set(e, -EINVAL, "volume option '%s' is not supported: size=SIZE is the one "
				       "there is (vmm's volumes are host folders, see docs/volumes.md)", opts[i]);
		if (parse_size(val, 1, bytes) || *bytes < VOLUME_SIZE_MIN || *bytes > VOLUME_SIZE_MAX ||
		    strlen(val) >= 32)
			return err_set(e, -EINVAL, "volume option 'size=%s': want a size from 16m to 16t (e.g. 1g)",
				       val);
		snprintf(size, 32, "%s", val);
	}
	return 0;
}

int volume_get(const char *root, const char *name, struct volume *v, struct error *e)
{
	char path[4096], *data;
	json_object *o, *labels = NULL;
	const char *created = NULL;
	struct tm tm = { 0 };
	size_t len;
	int ret;

	memset(v, 0, sizeof(*v));
	if ((ret = volume_dir(root, name, "volume.json", path, sizeof(path), e)))
		return ret;
	ret = read_file(AT_FDCWD, path, VOLUME_JSON_MAX, &data, &len);
	if (ret == -ENOENT)
		return err_set(e, ret, "no such volume: %s", name);
	if (ret)
		return err_sys(e, ret, "%s", path);
	o = json_parse_object(data, len, e);
	free(data);
	if (!o)
		return err_wrap(e, -EINVAL, "volume %s", name);
	ret = jget_string(o, "CreatedAt", false, "volume", &created, e);
	if (!ret)
		ret = jget_object(o, "Labels", false, "volume", &labels, e);
	if (!ret)
		ret = jget_bool(o, "Anonymous", "volume", &v->anonymous, e);
	if (!ret)
		ret = size_option(o, v, e);
	if (!ret) {
		snprintf(v->name, sizeof(v->name), "%s", name);
		volume_dir(root, name, "_data", v->mountpoint, sizeof(v->mountpoint), NULL);
		if (created && strptime(created, "%Y-%m-%dT%H:%M:%SZ", &tm))
			v->created = timegm(&tm);
		v->labels = labels ? json_object_get(labels) : json_object_new_object();
	}
	json_object_put(o);
	return ret ? err_wrap(e, ret, "volume %s", name) : 0;
}

int volume_create(const char *root, const struct volume_create_opts *o, struct volume *v,
		  struct error *e)
{
	char name[65], dir[4096], meta[4096];
	json_object *labels;
	uint8_t rnd[32];
	const char *text;
	char size[32] = "";
	uint64_t bytes = 0;
	int ret;

	if ((ret = parse_opts(o->opts, size, &bytes, e)))
		return ret;
	if (!o->name) {
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return err_sys(e, -errno, "getrandom");
		hex_encode(rnd, sizeof(rnd), name);
	} else {
		snprintf(name, sizeof(name), "%s", o->name);
		if (strlen(o->name) >= sizeof(name) || !mount_volume_name_valid(o->name))
			return err_set(e, -EINVAL, "'%s' is not a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+, "
				       "at most 64)", o->name);
		if (volume_get(root, name, v, NULL) == 0)
			return 0;	/* docker: creating an existing volume gives it back */
	}
	if (!(labels = labels_to_json(o->labels, e)))
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->created = time(NULL);
	v->anonymous = o->anonymous || !o->name;
	v->labels = labels;
	snprintf(v->size, sizeof(v->size), "%s", size);
	volume_dir(root, name, NULL, dir, sizeof(dir), NULL);
	volume_dir(root, name, "_data", v->mountpoint, sizeof(v->mountpoint), NULL);
	volume_dir(root, name, "volume.json", meta, sizeof(meta), NULL);
	ret = mkdir_p(AT_FDCWD, v->mountpoint, 0755);
	if (!ret && bytes && (ret = volume_disk_create(dir, bytes, e))) {
		remove_tree(AT_FDCWD, dir);
		volume_free(v);
		return err_wrap(e, ret, "create volume %s", name);
	}
	if (!ret) {
		json_object *j = volume_to_json(v);

		text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
		ret = write_file_atomic(AT_FDCWD, meta, text, strlen(text), 0600);
		json_object_put(j);
	}
	if (ret) {
		remove_tree(AT_FDCWD, dir);
		volume_free(v);
		return err_sys(e, ret, "create volume %s", name);
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int volume_list(const char *root, char ***names, struct error *e)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	char **v = calloc(1, sizeof(char *));

	if (!v)
		return err_set(e, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/volumes", root);
	d = opendir(path);
	if (!d) {
		*names = v;
		return errno == ENOENT ? 0 : err_sys(e, -errno, "%s", path);
	}
	while ((de = readdir(d)))
		if (mount_volume_name_valid(de->d_name) && strv_push(&v, de->d_name)) {
			closedir(d);
			strv_free(v);
			return err_set(e, -ENOMEM, "out of memory");
		}
	closedir(d);
	qsort(v, strv_len(v), sizeof(*v), name_cmp);
	*names = v;
	return 0;
}

/* Does a container's config mount the volume? ("Mounts": [{"Type": "volume", "Name": ...}]) */
static bool mounts_volume(json_object *config, const void *arg)
{
	json_object *mounts;

	if (!json_object_object_get_ex(config, "Mounts", &mounts) ||
	    !json_object_is_type(mounts, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(mounts); i++) {
		json_object *m = json_object_array_get_idx(mounts, i), *t, *n;

		if (json_object_object_get_ex(m, "Type", &t) && !strcmp(json_object_get_string(t), "volume") &&
		    json_object_object_get_ex(m, "Name", &n) && !strcmp(json_object_get_string(n), arg))
			return true;
	}
	return false;
}

int volume_users(const char *root, const char *name, char ***ids, struct error *e)
{
	return config_scan(root, mounts_volume, name, ids, e);
}

int volume_remove(const char *root, const char *name, struct error *e)
{
	struct volume v;
	char **users, dir[4096];
	int ret = volume_get(root, name, &v, e);

	if (ret)
		return ret;
	volume_free(&v);
	if ((ret = volume_users(root, name, &users, e)))
		return ret;
	if (users[0]) {
		char list[512];

		config_ids_line(users, list, sizeof(list));
		strv_free(users);
		return err_set(e, -EBUSY, "remove %s: volume is in use - [%s]", name, list);
	}
	strv_free(users);
	volume_dir(root, name, NULL, dir, sizeof(dir), NULL);
	if ((ret = volume_disk_unmount(dir, e)))
		return err_wrap(e, ret, "remove %s", name);
	ret = remove_tree(AT_FDCWD, dir);
	return ret ? err_sys(e, ret, "remove volume %s", name) : 0;
}

/* Bytes a folder holds (not following links). */
static uint64_t tree_size(int dirfd, const char *name)
{
	struct stat st;
	uint64_t total = 0;
	int fd;
	DIR *d;
	struct dirent *de;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return (uint64_t)st.st_blocks * 512;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			total += tree_size(fd, de->d_name);
	closedir(d);
	return total;
}

int volume_prune(const char *root, bool all, void (*removed)(void *arg, const char *name), void *arg,
		 uint64_t *reclaimed, struct error *e)
{
	char **names = NULL;
	int ret = volume_list(root, &names, e);

	*reclaimed = 0;
	if (ret)
		return ret;
	for (char **name = names; *name; name++) {
		struct volume v;
		uint64_t bytes;

		if (volume_get(root, *name, &v, NULL))
			continue;
		if (!all && !v.anonymous) {	/* kept: no need to walk it for its size */
			volume_free(&v);
			continue;
		}
		bytes = tree_size(AT_FDCWD, v.mountpoint);
		if (volume_remove(root, *name, NULL) == 0) {	/* in use: kept */
			removed(arg, *name);
			*reclaimed += bytes;
		}
		volume_free(&v);
	}
	strv_free(names);
	return 0;
}
