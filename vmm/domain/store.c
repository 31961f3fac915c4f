/* Domain definitions in the store (see store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/domain/store.h"
#include "vmm/base/util.h"

static int def_path(const char *root, const char *name, char *buf, size_t len, struct error *e)
{
	if (!domain_name_valid(name))
		return err_set(e, -EINVAL, "'%s' is not a domain name (A-Z a-z 0-9 _ . + -)", name);
	if ((size_t)snprintf(buf, len, "%s/domains/%s.xml", root, name) >= len)
		return err_set(e, -ENAMETOOLONG, "store path %s: too long", root);
	return 0;
}

int domain_store_load(const char *root, const char *name, struct domain_def *d, struct error *e)
{
	char path[4096], *xml;
	size_t len;
	int ret = def_path(root, name, path, sizeof(path), e);

	if (ret)
		return ret;
	ret = read_file(AT_FDCWD, path, DOMAIN_XML_MAX, &xml, &len);
	if (ret == -ENOENT)
		return err_set(e, ret, "no domain named '%s' (see 'vmm domain list --all')", name);
	if (ret)
		return err_set(e, ret, "%s: %s", path, strerror(-ret));
	ret = domain_parse(xml, len, d, e);
	free(xml);
	return ret;
}

/* The other definition holding uuid, if any: its name (malloc'd) or NULL. */
static char *uuid_owner(const char *root, const struct domain_def *d, struct error *e)
{
	char **names = NULL, *owner = NULL;

	if (domain_store_list(root, &names, e))
		return NULL;
	for (char **n = names; *n && !owner; n++) {
		struct domain_def other;
		struct error ignored;

		if (strcmp(*n, d->name) && !domain_store_load(root, *n, &other, &ignored)) {
			if (!memcmp(other.uuid, d->uuid, sizeof(d->uuid)))
				owner = strdup(*n);
			domain_free(&other);
		}
	}
	for (char **n = names; *n; n++)
		free(*n);
	free(names);
	return owner;
}

int domain_store_define(const char *root, const char *xml, size_t len, struct domain_def *d,
			struct error *e)
{
	struct domain_def old;
	char path[4096], uuid[37], *owner, *out;
	int ret = domain_parse(xml, len, d, e);

	if (ret)
		return ret;
	if ((ret = def_path(root, d->name, path, sizeof(path), e)))
		goto fail;
	if (!domain_store_load(root, d->name, &old, e)) {
		/* Redefinition: the same domain, so the same UUID (libvirt's rule). */
		if (d->has_uuid && memcmp(d->uuid, old.uuid, sizeof(d->uuid))) {
			domain_uuid_format(old.uuid, uuid);
			ret = err_set(e, -EEXIST, "domain '%s' already exists with uuid %s", d->name, uuid);
		}
		memcpy(d->uuid, old.uuid, sizeof(d->uuid));
		d->has_uuid = true;
		domain_free(&old);
		if (ret)
			goto fail;
	} else if (!d->has_uuid && (ret = domain_uuid_generate(d))) {
		err_set(e, ret, "cannot make a UUID: %s", strerror(-ret));
		goto fail;
	}
	owner = uuid_owner(root, d, e);
	if (owner) {
		domain_uuid_format(d->uuid, uuid);
		ret = err_set(e, -EEXIST, "domain '%s' already has uuid %s", owner, uuid);
		free(owner);
		goto fail;
	}
	out = domain_format(d);
	if (!out) {
		ret = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	ret = mkdir_parent(path, 0700);
	if (!ret)
		ret = write_file_atomic(AT_FDCWD, path, out, strlen(out), 0600);
	free(out);
	if (ret) {
		err_set(e, ret, "%s: %s", path, strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	domain_free(d);
	return ret;
}

int domain_store_undefine(const char *root, const char *name, struct error *e)
{
	char path[4096];
	int ret = def_path(root, name, path, sizeof(path), e);

	if (ret)
		return ret;
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return err_set(e, -ENOENT, "no domain named '%s' (see 'vmm domain list --all')", name);
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int domain_store_list(const char *root, char ***names, struct error *e)
{
	char path[4096], **v = calloc(1, sizeof(*v));
	size_t n = 0;
	struct dirent *de;
	DIR *dir;

	if (!v)
		return err_set(e, -ENOMEM, "out of memory");
	*names = v;
	snprintf(path, sizeof(path), "%s/domains", root);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : err_set(e, -errno, "%s: %s", path, strerror(errno));
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		char **grown;

		if (len <= 4 || strcmp(de->d_name + len - 4, ".xml"))
			continue;
		grown = realloc(v, (n + 2) * sizeof(*v));
		if (!grown)
			break;
		v = grown;
		v[n] = strndup(de->d_name, len - 4);
		if (v[n] && domain_name_valid(v[n]))
			n++;
		else
			free(v[n]);
		v[n] = NULL;
	}
	closedir(dir);
	qsort(v, n, sizeof(*v), name_cmp);
	*names = v;
	return 0;
}
