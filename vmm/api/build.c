/*
 * POST /build (docker build with the classic builder, DOCKER_BUILDKIT=0) and
 * POST /images/create?fromSrc=- (docker import). The build context arrives
 * as a tar (maybe compressed) in the body; it is unpacked into a scratch
 * folder with libarchive's secure extraction (no absolute names, no "..", no
 * writes through symlinks, owners not applied) and built by the engine. The
 * builder's lines come back as docker's JSON message stream.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/layer-writer.h"
#include "vmm/api/api.h"
#include "vmm/base/error.h"
#include "vmm/base/json.h"
#include "vmm/base/path.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/build.h"
#include "vmm/engine/dockerfile.h"
#include "vmm/engine/image-import.h"

#define CONTEXT_MEMBERS_MAX	(1u << 20)

static int unpack_context(int fd, const char *dir, struct error *e)
{
	struct archive *in = tar_reader_new(), *out = archive_write_disk_new();
	struct archive_entry *ent;
	unsigned long n = 0;
	int ret = 0, r;

	if (!in || !out) {
		archive_read_free(in);
		archive_write_free(out);
		return err_set(e, -ENOMEM, "out of memory");
	}
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
				       ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
				       ARCHIVE_EXTRACT_NO_OVERWRITE);
	if (archive_read_open_fd(in, fd, 64 * 1024) != ARCHIVE_OK)
		ret = err_set(e, -EINVAL, "the build context: not a tar archive: %s", archive_error_string(in));
	while (!ret && (r = archive_read_next_header(in, &ent)) != ARCHIVE_EOF) {
		char path[PATH_MAX], name[PATH_MAX];
		const char *hl = archive_entry_hardlink(ent);
		const void *buf;
		size_t size;
		la_int64_t off;
		int64_t got;

		if (r < ARCHIVE_WARN || ++n > CONTEXT_MEMBERS_MAX) {
			ret = err_set(e, -EINVAL, "the build context: %s", r < ARCHIVE_WARN ?
				      archive_error_string(in) : "too many files");
			break;
		}
		if (!hl && archive_entry_filetype(ent) != AE_IFREG && archive_entry_filetype(ent) != AE_IFDIR &&
		    archive_entry_filetype(ent) != AE_IFLNK)
			continue;	/* devices and fifos have no place in a context */
		/* names land below dir, cleaned: none climbs out (the writer is given absolute paths) */
		if (path_clean(archive_entry_pathname(ent) ?: "", PATH_DOTDOT_REJECT, name, sizeof(name)) ||
		    snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
			ret = err_set(e, -EINVAL, "the build context: member '%s' is outside the context",
				      archive_entry_pathname(ent) ?: "");
			break;
		}
		if (!*name)
			continue;
		archive_entry_copy_pathname(ent, path);
		if (hl && (path_clean(hl, PATH_DOTDOT_REJECT, name, sizeof(name)) || !*name ||
			   snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))) {
			ret = err_set(e, -EINVAL, "the build context: hard link '%s' is outside the context", hl);
			break;
		}
		if (hl)
			archive_entry_copy_hardlink(ent, path);
		if (archive_write_header(out, ent) < ARCHIVE_WARN) {
			ret = err_set(e, -EINVAL, "the build context: %s", archive_error_string(out));
			break;
		}
		got = 0;
		while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK) {
			if (archive_write_data_block(out, buf, size, off) < ARCHIVE_OK) {
				r = ARCHIVE_FATAL;
				break;
			}
			got = (int64_t)(off + size);
		}
		/*
		 * The docker CLI's tar for `-f -` ends right after the Dockerfile's
		 * bytes, without padding or end blocks: complete data is the end.
		 */
		if (r == ARCHIVE_FATAL && archive_entry_size_is_set(ent) && got == archive_entry_size(ent) &&
		    archive_write_finish_entry(out) >= ARCHIVE_WARN)
			break;
		if (r != ARCHIVE_EOF || archive_write_finish_entry(out) < ARCHIVE_WARN)
			ret = err_set(e, -EINVAL, "the build context: %s: %s", archive_entry_pathname(ent),
				      archive_error_string(r != ARCHIVE_EOF ? in : out));
	}
	archive_read_free(in);
	archive_write_free(out);
	return ret;
}

/* A JSON object of strings (buildargs, labels) as K=V strings. */
static int query_pairs(const struct api_request *r, const char *key, char ***out, struct error *e)
{
	const char *v = r->query(r, key);
	json_object *o;
	int ret = 0;

	if (!v || !*v)
		return 0;
	if (!(o = json_parse_object(v, strlen(v), e)))
		return err_wrap(e, -EINVAL, "?%s", key);
	json_object_object_foreach(o, k, val) {
		char *kv = NULL;

		if (!json_object_is_type(val, json_type_string) && !json_object_is_type(val, json_type_null)) {
			ret = err_set(e, -EINVAL, "?%s: %s: want a string", key, k);
			break;
		}
		if (json_object_is_type(val, json_type_null))
			kv = strdup(k);	/* a build arg taken from the environment: ours has none of the client's */
		else if (asprintf(&kv, "%s=%s", k, json_object_get_string(val)) < 0)
			kv = NULL;
		if (!kv || strv_push(out, kv))
			ret = err_set(e, -ENOMEM, "out of memory");
		free(kv);
		if (ret)
			break;
	}
	json_object_put(o);
	return ret;
}

/* The builder's text as {"stream": LINE} messages, and the end: aux ID or an error. */
static void reply_stream(struct api_response *w, const char *text, const char *id,
			 const struct error *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_object *o;

	if (!f) {
		api_reply_error(w, 500, "out of memory");
		return;
	}
	for (const char *p = text; p && *p;) {
		size_t n = strcspn(p, "\n");
		char *line = strndup(p, n + (p[n] == '\n'));

		o = json_object_new_object();
		json_object_object_add(o, "stream", json_object_new_string(line ? line : ""));
		fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		free(line);
		p += n + (p[n] == '\n');
	}
	o = json_object_new_object();
	if (e) {
		json_object *d = json_object_new_object();

		json_object_object_add(d, "message", json_object_new_string(e->msg));
		json_object_object_add(o, "errorDetail", d);
		json_object_object_add(o, "error", json_object_new_string(e->msg));
	} else {
		json_object *aux = json_object_new_object();

		json_object_object_add(aux, "ID", json_object_new_string(id));
		json_object_object_add(o, "aux", aux);
	}
	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	fclose(f);
	w->status = 200;
	w->raw = buf;
	w->raw_len = len;
	w->content_type = "application/json";
}

/* ?t= and ?dockerfile=, checked; build options from the rest. */
static int build_query(const struct api_request *r, const char *ctx, struct build_opts *o, char ***tags,
		       char ***args, char ***labels, char **dockerfile, struct error *e)
{
	const char *t[65] = { NULL }, *df = r->query(r, "dockerfile");
	char clean[PATH_MAX];
	size_t n = r->query_all(r, "t", t, 64);
	int ret, dfd = -1, fd = -1;

	for (size_t i = 0; i < n; i++)
		if (strv_push(tags, t[i]))
			return err_set(e, -ENOMEM, "out of memory");
	if ((ret = query_pairs(r, "buildargs", args, e)) || (ret = query_pairs(r, "labels", labels, e)))
		return ret;
	if (path_clean(df && *df ? df : "Dockerfile", PATH_DOTDOT_REJECT, clean, sizeof(clean)) || !*clean)
		return err_set(e, -EINVAL, "?dockerfile=%s: a path inside the build context", df);
	/* a Dockerfile that is a symlink resolves inside the context, never to a host file */
	if ((dfd = open(ctx, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (fd = open_in_root(dfd, clean, O_RDONLY)) < 0)
		ret = -errno;
	else
		ret = read_fd(fd, DOCKERFILE_MAX, dockerfile, &o->dockerfile_len);
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (ret)
		return err_sys(e, ret, "the build context has no %s", clean);
	o->dockerfile = *dockerfile;
	o->dockerfile_name = df && *df ? df : "Dockerfile";
	o->context = ctx;
	o->tags = *tags;
	o->build_args = *args;
	o->labels = *labels;
	o->target = r->query(r, "target") && *r->query(r, "target") ? r->query(r, "target") : NULL;
	o->no_cache = api_query_bool(r, "nocache", false);
	o->pull = api_query_bool(r, "pull", false);
	o->network = r->query(r, "networkmode");
	if (o->network && (!*o->network || !strcmp(o->network, "default")))
		o->network = NULL;
	if (o->network && !strcmp(o->network, "host"))
		return err_set(e, -EINVAL, "networkmode=host: a micro-VM has its own network stack");
	return 0;
}

void api_build(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct build_opts o = { 0 };
	struct error e = { 0 };
	char dir[PATH_MAX], id[DIGEST_BUF] = "", *text = NULL, *dockerfile = NULL;
	char **tags = NULL, **args = NULL, **labels = NULL;
	size_t len = 0;
	bool made = false;
	int ret, status = 0;

	if (r->query(r, "remote") && *r->query(r, "remote")) {
		api_reply_error(w, 400, "remote build contexts are not served: send the context as the body");
		return;
	}
	if (r->body_fd < 0) {
		api_reply_error(w, 400, "build needs the context as a tar archive in the request body");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/build-context-XXXXXX", r->tmp_dir);
	if ((ret = mkdir_p(AT_FDCWD, r->tmp_dir, 0700)) || !mkdtemp(dir))
		ret = err_sys(&e, ret ? ret : -errno, "%s", dir);
	made = !ret;
	if (!ret)
		ret = unpack_context(r->body_fd, dir, &e);
	if (!ret)
		ret = build_query(r, dir, &o, &tags, &args, &labels, &dockerfile, &e);
	if (ret) {
		api_reply_err(w, &e);
	} else {
		FILE *out = open_memstream(&text, &len);

		o.out = api_query_bool(r, "q", false) ? NULL : out;
		ret = engine_build(&ctx->paths, &o, id, &status, &e);
		if (out && !ret && !o.out)	/* quiet: the ID is the whole output, as docker's */
			fprintf(out, "%s\n", id);
		if (out)
			fclose(out);
		reply_stream(w, text, id, ret ? &e : NULL);
	}
	if (made)
		remove_tree(AT_FDCWD, dir);
	free(text);
	free(dockerfile);
	strv_free(tags);
	strv_free(args);
	strv_free(labels);
}

/* POST /images/create?fromSrc=-&repo=&tag=&changes=&message=: docker import of the body. */
void api_image_import(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	const char *ch[65] = { NULL };
	struct import_opts o = { .fd = r->body_fd, .label = "-", .message = r->query(r, "message") };
	char ref[512];
	struct error e = { 0 };
	struct image_made made;
	json_object *st;

	if (strcmp(r->query(r, "fromSrc"), "-")) {
		api_reply_error(w, 400, "fromSrc=%s: only '-' (the request body) is served", r->query(r, "fromSrc"));
		return;
	}
	if (r->body_fd < 0) {
		api_reply_error(w, 400, "import needs a tarball as the request body");
		return;
	}
	o.ref = api_repo_tag(r, ref, sizeof(ref));
	o.changes = api_changes(r, ch, 64);
	if (engine_import(&ctx->paths, &o, &made, &e)) {
		api_reply_err(w, &e);
		return;
	}
	st = json_object_new_object();
	json_object_object_add(st, "status", json_object_new_string(made.config_digest));
	api_reply_json(w, 200, st);
}
