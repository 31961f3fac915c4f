/*
 * /containers/{id}/archive: docker cp through the Engine API. GET (and HEAD)
 * answer a tar of the container's path with docker's
 * X-Docker-Container-Path-Stat header; PUT extracts the body's tar into
 * the container's folder. Both go through the container's vmm process and
 * its agent (engine/copy.c), as `vmm cp` does. The guest's tar is spooled
 * to an unlinked file and passed on as it is: the host never extracts it.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "images/oci/auth.h"
#include "vmm/api/api.h"
#include "vmm/base/error.h"
#include "vmm/engine/copy.h"

/* Go's os.FileMode bits, which the docker CLI reads from the stat header. */
#define GO_MODE_DIR	(1u << 31)
#define GO_MODE_SYMLINK	(1u << 27)
#define GO_MODE_SETUID	(1u << 23)
#define GO_MODE_SETGID	(1u << 22)
#define GO_MODE_STICKY	(1u << 20)

/* The path as the agent takes it: "/" stays, other trailing slashes go. NULL with a 400. */
static const char *archive_path(const struct api_request *r, struct api_response *w, char *buf, size_t len)
{
	const char *path = r->query(r, "path");
	size_t n;

	if (!path || !*path) {
		api_reply_error(w, 400, "bad parameter: path cannot be empty");
		return NULL;
	}
	n = snprintf(buf, len, "%s", path);
	if (n >= len) {
		api_reply_error(w, 400, "path too long");
		return NULL;
	}
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = 0;
	return buf;
}

static void reply_copy_error(struct api_response *w, const struct error *e, const char *path, const char *ref)
{
	if (strstr(e->msg, "No such file"))
		api_reply_error(w, 404, "Could not find the file %s in container %s", path, ref);
	else
		api_reply_err(w, e);
}

static uint32_t go_mode(mode_t m)
{
	uint32_t g = m & 0777;

	if (S_ISDIR(m))
		g |= GO_MODE_DIR;
	else if (S_ISLNK(m))
		g |= GO_MODE_SYMLINK;
	if (m & S_ISUID)
		g |= GO_MODE_SETUID;
	if (m & S_ISGID)
		g |= GO_MODE_SETGID;
	if (m & S_ISVTX)
		g |= GO_MODE_STICKY;
	return g;
}

/* docker's stat header from the archive's first entry (the path itself); 0 or -EIO. */
static int path_stat(int fd, const char *path, struct api_response *w)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	json_object *o;
	const char *base = strrchr(path, '/'), *link;
	char when[64];
	time_t t;
	int ret = -EIO;

	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, 65536) == ARCHIVE_OK && archive_read_next_header(a, &ent) == ARCHIVE_OK) {
		t = archive_entry_mtime(ent);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		link = archive_entry_symlink(ent);
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(base && base[1] ? base + 1 : path));
		json_object_object_add(o, "size", json_object_new_int64(archive_entry_size(ent)));
		json_object_object_add(o, "mode", json_object_new_int64(go_mode(archive_entry_mode(ent))));
		json_object_object_add(o, "mtime", json_object_new_string(when));
		json_object_object_add(o, "linkTarget", json_object_new_string(link ? link : ""));
		const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

		if (base64_encode(s, strlen(s), w->header_value, sizeof(w->header_value)) >= 0) {
			w->header_name = "X-Docker-Container-Path-Stat";
			ret = 0;
		}
		json_object_put(o);
	}
	archive_read_free(a);
	return ret;
}

/* GET and HEAD /containers/{id}/archive?path=P */
void api_container_archive_get(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	char path[4096];
	struct error e = { 0 };
	int fd;

	if (!archive_path(r, w, path, sizeof(path)))
		return;
	if ((fd = api_tmpfile(r->tmp_dir, &e)) < 0) {
		api_reply_err(w, &e);
		return;
	}
	if (engine_copy_stream(&ctx->paths, r->args[0], false, path, fd, &e)) {
		close(fd);
		reply_copy_error(w, &e, path, r->args[0]);
		return;
	}
	if (lseek(fd, 0, SEEK_SET) < 0 || path_stat(fd, path, w) || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		api_reply_error(w, 500, "%s: the container's archive cannot be read", path);
		return;
	}
	w->status = 200;
	w->content_type = "application/x-tar";
	w->fd = fd;
}

/* PUT /containers/{id}/archive?path=DIR: the body's tar into the container's folder. */
void api_container_archive_put(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	char path[4096];
	struct error e = { 0 };

	if (!archive_path(r, w, path, sizeof(path)))
		return;
	if (r->body_fd < 0) {
		api_reply_error(w, 400, "the request has no tar archive");
		return;
	}
	if (engine_copy_stream(&ctx->paths, r->args[0], true, path, r->body_fd, &e))
		reply_copy_error(w, &e, path, r->args[0]);
	else
		api_reply_empty(w, 200);
}
