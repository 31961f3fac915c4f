/* Credential files in docker's config.json format: look up, save, remove. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/auth.h"
#include "images/oci/creds.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

/* Parse a credential file; -ENOENT (without a message) when it does not exist. */
static int read_config(const char *file, json_object **out, struct error *e)
{
	struct error why = { 0 };
	size_t len;
	char *buf;
	int ret;

	ret = read_file(AT_FDCWD, file, CREDS_FILE_MAX, &buf, &len);
	if (ret == -ENOENT)
		return ret;
	if (ret)
		return err_sys(e, ret, "%s: cannot read", file);
	*out = json_parse_object(buf, len, &why);
	explicit_bzero(buf, len);
	free(buf);
	if (!*out)
		return err_set(e, -EINVAL, "%s: not a valid credentials file: %s", file, why.msg);
	return 0;
}

/* The "auths" member whose key names host, or NULL. */
static json_object *find_auth(json_object *cfg, const char *host, const char **key_out)
{
	json_object *auths;

	if (!json_object_object_get_ex(cfg, "auths", &auths) ||
	    !json_object_is_type(auths, json_type_object))
		return NULL;
	json_object_object_foreach(auths, key, val) {
		char h[AUTH_HOST_MAX];

		if (registry_host_normalize(key, h, sizeof(h)) == 0 && !strcmp(h, host) &&
		    json_object_is_type(val, json_type_object)) {
			if (key_out)
				*key_out = key;
			return val;
		}
	}
	return NULL;
}

static int copy_field(json_object *o, const char *key, char *dst, size_t len)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return -ENOENT;
	s = json_object_get_string(v);
	if (strlen(s) >= len || strlen(s) != (size_t)json_object_get_string_len(v))
		return -EINVAL;
	strcpy(dst, s);
	return 0;
}

int creds_from_auth(const char *b64, struct creds *c)
{
	char raw[sizeof(c->user) + sizeof(c->pass) + 2], *colon;
	int n = base64_decode(b64, strlen(b64), raw, sizeof(raw) - 1), ret = 0;

	if (n < 0)
		return -EINVAL;
	raw[n] = '\0';
	colon = strchr(raw, ':');
	if (!colon || strlen(raw) != (size_t)n)
		ret = -EINVAL;
	else if ((size_t)(colon - raw) >= sizeof(c->user) || strlen(colon + 1) >= sizeof(c->pass))
		ret = -ENAMETOOLONG;
	else {
		*colon = '\0';
		strcpy(c->user, raw);
		strcpy(c->pass, colon + 1);
	}
	explicit_bzero(raw, sizeof(raw));
	return ret;
}

/* An entry's user and password: "auth" (base64 user:pass), or "username" + "password". */
static int decode_entry(json_object *ent, struct creds *c)
{
	json_object *v;

	if (json_object_object_get_ex(ent, "auth", &v) && json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0)
		return creds_from_auth(json_object_get_string(v), c) ? -EINVAL : 0;
	if (copy_field(ent, "username", c->user, sizeof(c->user)) == 0 &&
	    copy_field(ent, "password", c->pass, sizeof(c->pass)) == 0)
		return 0;
	return -ENOENT;
}

/* Docker keeps some credentials in helpers we cannot run: say so instead of failing silently. */
static void note_helpers(json_object *cfg, const char *file, const char *host)
{
	json_object *helpers, *store;

	if (json_object_object_get_ex(cfg, "credHelpers", &helpers) &&
	    json_object_is_type(helpers, json_type_object)) {
		json_object_object_foreach(helpers, key, val) {
			char h[AUTH_HOST_MAX];

			(void)val;
			if (registry_host_normalize(key, h, sizeof(h)) == 0 && !strcmp(h, host)) {
				pr_warn("%s: credentials for %s are in a credential helper, which vmm "
					"cannot use (run 'vmm login %s')", file, host, host);
				return;
			}
		}
	}
	if (find_auth(cfg, host, NULL) && json_object_object_get_ex(cfg, "credsStore", &store))
		pr_warn("%s: credentials for %s are in the '%s' credential store, which vmm cannot "
			"use (run 'vmm login %s')", file, host, json_object_get_string(store), host);
}

int creds_lookup(const char *const *files, const char *name, struct creds *out)
{
	char host[AUTH_HOST_MAX];

	if (registry_host_normalize(name, host, sizeof(host)))
		return -EINVAL;
	for (size_t i = 0; files[i]; i++) {
		struct error why = { 0 };
		json_object *cfg, *ent;
		int ret;

		if (!files[i][0])
			continue;
		ret = read_config(files[i], &cfg, &why);
		if (ret == -ENOENT)
			continue;
		if (ret) {
			pr_warn("%s", why.msg);	/* a lookup goes on with the next file */
			continue;
		}
		memset(out, 0, sizeof(*out));
		ent = find_auth(cfg, host, NULL);
		ret = ent ? decode_entry(ent, out) : -ENOENT;
		if (ret == -EINVAL)
			pr_warn("%s: the entry for %s is not valid base64 of user:password; ignoring it",
				files[i], host);
		if (ret == -ENOENT)
			note_helpers(cfg, files[i], host);
		json_object_put(cfg);
		if (ret == 0) {
			out->file = files[i];
			return 0;
		}
		explicit_bzero(out, sizeof(*out));
	}
	return -ENOENT;
}

/* Open and lock the directory of file (creating it 0700); the base name goes to *base. */
static int lock_dir(const char *file, const char **base)
{
	char dir[4096];
	const char *slash = strrchr(file, '/');
	int ret;

	if (!slash) {
		snprintf(dir, sizeof(dir), ".");
		*base = file;
	} else {
		if ((size_t)(slash - file) >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, file, slash - file);
		dir[slash - file] = '\0';
		if (!dir[0])
			snprintf(dir, sizeof(dir), "/");
		*base = slash + 1;
	}
	if (!**base)
		return -EINVAL;
	if ((ret = mkdir_p(AT_FDCWD, dir, 0700)))
		return ret;
	return open_locked(dir, O_RDONLY | O_DIRECTORY);
}

/* Read-modify-write under the directory lock: set host to c, or remove it when c is NULL. */
static int update(const char *file, const char *name, const struct creds *c, struct error *e)
{
	char host[AUTH_HOST_MAX];
	json_object *cfg = NULL, *auths, *ent;
	const char *base, *key, *json;
	char b64[2 * (sizeof(c->user) + sizeof(c->pass))], raw[sizeof(c->user) + sizeof(c->pass) + 2];
	int dfd, ret, removed = 0;

	if (registry_host_normalize(name, host, sizeof(host)))
		return err_set(e, -EINVAL, "%s: not a registry name", name);
	dfd = lock_dir(file, &base);
	if (dfd < 0)
		return err_sys(e, dfd, "%s: cannot create or lock its directory", file);
	ret = read_config(file, &cfg, e);
	if (ret == -ENOENT) {
		cfg = json_object_new_object();
		ret = cfg ? 0 : err_set(e, -ENOMEM, "out of memory");
	} else if (ret == -EINVAL) {
		err_set(e, ret, "%s: refusing to overwrite a file that is not a valid credentials file "
			"(fix or remove it)", file);
	}
	if (ret)
		goto out;
	if (!json_object_object_get_ex(cfg, "auths", &auths) ||
	    !json_object_is_type(auths, json_type_object)) {
		auths = json_object_new_object();
		json_object_object_add(cfg, "auths", auths);
	}
	/* every spelling of this host goes ("https://host/v1/", "host") */
	while ((ent = find_auth(cfg, host, &key))) {
		json_object_object_del(auths, key);
		removed = 1;
	}
	if (!c && !removed) {
		ret = -ENOENT;	/* the caller says it was not logged in */
		goto out;
	}
	if (c) {
		int n = snprintf(raw, sizeof(raw), "%s:%s", c->user, c->pass);

		ent = json_object_new_object();
		if (n < 0 || (size_t)n >= sizeof(raw) || base64_encode(raw, n, b64, sizeof(b64)) < 0) {
			ret = err_set(e, -EINVAL, "%s: credentials too long", host);
			goto out;
		}
		json_object_object_add(ent, "auth", json_object_new_string(b64));
		json_object_object_add(auths, host, ent);
	}
	json = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	ret = write_file_atomic(dfd, base, json, strlen(json), 0600);
	if (ret)
		err_sys(e, ret, "%s: cannot write", file);
out:
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(b64, sizeof(b64));
	json_object_put(cfg);
	close(dfd);	/* drops the lock */
	return ret;
}

int creds_save(const char *file, const char *host, const struct creds *c, struct error *e)
{
	return update(file, host, c, e);
}

int creds_remove(const char *file, const char *host, struct error *e)
{
	return update(file, host, NULL, e);
}
