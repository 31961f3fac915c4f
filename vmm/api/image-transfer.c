/* /images/create (pull), /images/{name}/push, /images/get and /images/{name}/get (save), /images/load. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/image.h"
#include "images/oci/load.h"
#include "images/oci/pull.h"
#include "images/oci/push.h"
#include "images/oci/ref.h"
#include "images/oci/save.h"
#include "vmm/api/api.h"
#include "vmm/api/registry-auth.h"
#include "vmm/base/error.h"

/* docker's JSON message stream: one object per line, kept until the reply is sent. */
struct stream {
	char *buf;
	size_t len;
	FILE *f;
};

static void stream_open(struct stream *st)
{
	st->buf = NULL;
	st->len = 0;
	st->f = open_memstream(&st->buf, &st->len);
}

/* One message (o is consumed). */
static void stream_put(struct stream *st, json_object *o)
{
	if (st->f)
		fprintf(st->f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* {"status": STATUS[, "id": ID][, "progressDetail": {}]} */
static void stream_status(struct stream *st, const char *status, const char *id)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string(status));
	if (id) {
		json_object_object_add(o, "progressDetail", json_object_new_object());
		json_object_object_add(o, "id", json_object_new_string(id));
	}
	stream_put(st, o);
}

/* {"stream": "Loaded image: NAME\n"}, docker load's words. */
static void stream_loaded(struct stream *st, const char *what, const char *name)
{
	json_object *o = json_object_new_object();
	char line[REF_STR_MAX + 32];

	snprintf(line, sizeof(line), "Loaded image%s: %s\n", what, name);
	json_object_object_add(o, "stream", json_object_new_string(line));
	stream_put(st, o);
}

/* Reply with the stream as a 200 application/json body. */
static void stream_reply(struct stream *st, struct api_response *w)
{
	if (!st->f || fclose(st->f)) {
		free(st->buf);
		api_reply_error(w, 500, "out of memory");
		return;
	}
	w->status = 200;
	w->raw = st->buf;
	w->raw_len = st->len;
	w->content_type = "application/json";
}

static void stream_discard(struct stream *st)
{
	if (st->f)
		fclose(st->f);
	free(st->buf);
}

static void on_progress(void *arg, const struct pull_progress *p)
{
	static const char *const words[] = {
		[PULL_LAYER_EXISTS] = "Already exists", [PULL_LAYER_START] = "Pulling fs layer",
		[PULL_LAYER_DONE] = "Pull complete",
	};
	char id[13];

	if (p->event == PULL_LAYER_BYTES)
		return;	/* the reply is sent whole: byte counts would only fill it */
	snprintf(id, sizeof(id), "%.12s", digest_hex(p->digest));
	stream_status(arg, words[p->event], id);
}

/*
 * The client's X-Registry-Auth: as dockerd, only the header counts (the
 * docker CLI sends what docker login saved); none is anonymous. false with
 * a 400 when it is bad. Hints then name docker login, the client's command.
 */
static bool client_auth(const struct api_request *r, struct api_auth *a, const struct creds **creds,
			const char **login_cmd, struct api_response *w)
{
	const char *h = r->header(r, "X-Registry-Auth");
	struct error e = { 0 };

	if (api_auth_decode(h, h ? strlen(h) : 0, a, &e)) {
		api_reply_error(w, 400, "%s", e.msg);
		return false;
	}
	*creds = a->given ? &a->creds : NULL;
	*login_cmd = "docker login";
	return true;
}

/* fromImage=NAME[:TAG] and tag=TAG|sha256:...: the reference to pull. */
static int pull_name(const struct api_request *r, char *out, size_t len, struct error *e)
{
	const char *from = r->query(r, "fromImage"), *tag = r->query(r, "tag");
	int n;

	if (!from || !*from)
		return err_set(e, -EINVAL, "images/create needs ?fromImage=NAME");
	if (tag && *tag)
		n = snprintf(out, len, "%s%s%s", from, strncmp(tag, "sha256:", 7) ? ":" : "@", tag);
	else
		n = snprintf(out, len, "%s", from);
	return n < 0 || (size_t)n >= len ? err_set(e, -EINVAL, "%s: reference too long", from) : 0;
}

void api_image_pull(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct stream st;
	struct pull_opts po = { .progress = on_progress, .progress_arg = &st };
	char name[REF_STR_MAX + DIGEST_BUF], line[REF_STR_MAX + 64], shortref[REF_STR_MAX];
	struct pull_result res;
	struct error e = { 0 };
	struct image_ref ref;
	struct api_auth auth;
	const char *why;
	struct store *s;

	if (r->query(r, "fromSrc")) {
		api_image_import(ctx, r, w);
		return;
	}
	if (pull_name(r, name, sizeof(name), &e)) {
		api_reply_err(w, &e);
		return;
	}
	if (ref_parse(name, REF_DEFAULT_TAG, &ref, &why)) {
		api_reply_error(w, 400, "%s: invalid reference format: %s", name, why);
		return;
	}
	if (!client_auth(r, &auth, &po.creds, &po.login_cmd, w))
		return;
	if (store_open(ctx->paths.root, &s, &e)) {
		api_auth_clear(&auth);
		api_reply_err(w, &e);
		return;
	}
	stream_open(&st);
	snprintf(line, sizeof(line), "Pulling from %s", ref.path);
	stream_status(&st, line, ref.digest[0] ? ref.digest : ref.tag);
	if (image_pull(s, name, &po, &res, &e)) {
		/* nothing was committed: answer as docker does before its stream starts */
		stream_discard(&st);
		api_reply_err(w, &e);
	} else {
		ref_format_short(&ref, shortref, sizeof(shortref));
		snprintf(line, sizeof(line), "Digest: %s", res.digest);
		stream_status(&st, line, NULL);
		snprintf(line, sizeof(line), "Status: %s %s", res.updated ? "Downloaded newer image for" :
			 "Image is up to date for", shortref);
		stream_status(&st, line, NULL);
		stream_reply(&st, w);
	}
	api_auth_clear(&auth);
	store_close(s);
}

static void on_push_progress(void *arg, const struct push_progress *p)
{
	char id[13], status[REF_STR_MAX + 32];

	switch (p->event) {
	case PUSH_LAYER_EXISTS:
		snprintf(status, sizeof(status), "Layer already exists");
		break;
	case PUSH_LAYER_MOUNTED:
		snprintf(status, sizeof(status), "Mounted from %s", p->from);
		break;
	case PUSH_LAYER_DONE:
		snprintf(status, sizeof(status), "Pushed");
		break;
	case PUSH_INDEX_PARTIAL:
		snprintf(status, sizeof(status), "The image index %s has platforms that are not in the store: "
			 "pushing its %s/%s image only", p->digest, PLATFORM_OS, PLATFORM_ARCH);
		stream_status(arg, status, NULL);
		return;
	default:
		return;	/* the reply is sent whole: starts and byte counts would only fill it */
	}
	snprintf(id, sizeof(id), "%.12s", digest_valid(p->diff_id) ? digest_hex(p->diff_id) : p->diff_id);
	stream_status(arg, status, id);
}

/*
 * POST /images/{name}/push?tag=TAG (latest when none): the CLI's vmm push,
 * with the client's credentials like the pull route. docker's lines, then its aux object.
 */
void api_image_push(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	const char *tag = r->query(r, "tag");
	struct stream st;
	struct push_opts po = { .progress = on_push_progress, .progress_arg = &st };
	char name[REF_STR_MAX + 1], repo[REF_STR_MAX], line[REF_STR_MAX + 128];
	struct push_result res;
	struct error e = { 0 };
	struct image_ref ref;
	struct api_auth auth;
	json_object *aux, *o;
	const char *why;
	struct store *s;
	int n;

	n = snprintf(name, sizeof(name), "%s%s%s", r->args[0], tag && *tag ? ":" : "", tag && *tag ? tag : "");
	if (n < 0 || (size_t)n >= sizeof(name)) {
		api_reply_error(w, 400, "%s: reference too long", r->args[0]);
		return;
	}
	if (ref_parse(name, REF_DEFAULT_TAG, &ref, &why)) {
		api_reply_error(w, 400, "%s: invalid reference format: %s", name, why);
		return;
	}
	if (!client_auth(r, &auth, &po.creds, &po.login_cmd, w))
		return;
	if (store_open(ctx->paths.root, &s, &e)) {
		api_auth_clear(&auth);
		api_reply_err(w, &e);
		return;
	}
	stream_open(&st);
	ref_format_repo(&ref, repo, sizeof(repo));
	snprintf(line, sizeof(line), "The push refers to repository [%s]", repo);
	stream_status(&st, line, NULL);
	if (image_push(s, name, &po, &res, &e)) {
		stream_discard(&st);
		api_reply_err(w, &e);
	} else {
		snprintf(line, sizeof(line), "%s: digest: %s size: %llu", ref.tag, res.digest,
			 (unsigned long long)res.size);
		stream_status(&st, line, NULL);
		aux = json_object_new_object();
		json_object_object_add(aux, "Tag", json_object_new_string(ref.tag));
		json_object_object_add(aux, "Digest", json_object_new_string(res.digest));
		json_object_object_add(aux, "Size", json_object_new_int64((int64_t)res.size));
		o = json_object_new_object();
		json_object_object_add(o, "progressDetail", json_object_new_object());
		json_object_object_add(o, "aux", aux);
		stream_put(&st, o);
		stream_reply(&st, w);
	}
	api_auth_clear(&auth);
	store_close(s);
}

/* Save names into a spooled file and reply with it as application/x-tar. */
static void save(const struct api_ctx *ctx, const struct api_request *r, char *const *names, size_t n,
		 struct api_response *w)
{
	struct error e = { 0 };
	struct store *s;
	int fd;

	if (store_open(ctx->paths.root, &s, &e)) {
		api_reply_err(w, &e);
		return;
	}
	if ((fd = api_tmpfile(r->tmp_dir, &e)) < 0 ||
	    image_save(s, names, n, SAVE_DOCKER_ARCHIVE, fd, "the reply", &e) ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		if (!err_is_set(&e))
			err_sys(&e, -errno, "the spooled archive");
		if (fd >= 0)
			close(fd);
		api_reply_err(w, &e);
	} else {
		w->status = 200;
		w->fd = fd;
		w->content_type = "application/x-tar";
	}
	store_close(s);
}

void api_image_save(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	char *names[] = { (char *)r->args[0], NULL };

	save(ctx, r, names, 1, w);
}

void api_images_save(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	const char *names[65] = { NULL };
	size_t n = r->query_all(r, "names", names, 64);

	if (!n) {
		api_reply_error(w, 400, "images/get needs ?names=IMAGE (one or more)");
		return;
	}
	save(ctx, r, (char *const *)names, n, w);
}

void api_images_load(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct loaded_image *v = NULL;
	struct error e = { 0 };
	struct stream st;
	struct store *s;
	size_t n = 0;

	if (r->body_fd < 0) {
		api_reply_error(w, 400, "images/load needs a tar archive as the request body");
		return;
	}
	if (store_open(ctx->paths.root, &s, &e)) {
		api_reply_err(w, &e);
		return;
	}
	if (image_load(s, NULL, r->body_fd, &v, &n, &e)) {
		api_reply_err(w, &e);
		store_close(s);
		return;
	}
	stream_open(&st);
	for (size_t i = 0; i < n; i++) {
		bool named = false;

		for (size_t j = 0; v[i].refs && v[i].refs[j]; j++) {
			struct image_ref ref;
			char shortref[REF_STR_MAX];

			if (ref_parse(v[i].refs[j], 0, &ref, NULL))
				continue;
			ref_format_short(&ref, shortref, sizeof(shortref));
			stream_loaded(&st, "", shortref);
			named = true;
		}
		if (!named)
			stream_loaded(&st, " ID", v[i].config_digest);
	}
	loaded_images_free(v, n);
	store_close(s);
	stream_reply(&st, w);
}
