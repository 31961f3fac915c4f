/* GET /containers/{id}/changes (docker diff), /containers/{id}/export (docker export), POST /commit. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/base/error.h"
#include "vmm/engine/commit.h"
#include "vmm/engine/export.h"

static int add_change(void *arg, enum rootfs_change kind, const char *path)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "Path", json_object_new_string(path));
	/* docker's kinds: 0 modified, 1 added, 2 deleted */
	json_object_object_add(o, "Kind", json_object_new_int(kind == ROOTFS_CHANGE_MODIFIED ? 0 :
								kind == ROOTFS_CHANGE_ADDED ? 1 : 2));
	return json_object_array_add(arg, o) ? -ENOMEM : 0;
}

void api_container_changes(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	json_object *list = json_object_new_array();
	struct error e = { 0 };

	if (engine_diff(&ctx->paths, r->args[0], add_change, list, &e)) {
		json_object_put(list);
		api_reply_err(w, &e);
		return;
	}
	api_reply_json(w, 200, list);
}

void api_container_export(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	struct error e = { 0 };
	int fd = api_tmpfile(r->tmp_dir, &e);

	if (fd < 0 || engine_export(&ctx->paths, r->args[0], fd, &e)) {
		if (fd >= 0)
			close(fd);
		api_reply_err(w, &e);
		return;
	}
	w->status = 200;
	w->fd = fd;
	w->content_type = "application/x-tar";
}

/* POST /commit?container=ID&repo=&tag=&comment=&author=&changes=: docker commit. */
void api_commit(const struct api_ctx *ctx, const struct api_request *r, struct api_response *w)
{
	const char *ch[65] = { NULL };
	struct commit_opts o = { .container = r->query(r, "container"), .message = r->query(r, "comment"),
				 .author = r->query(r, "author") };
	struct error e = { 0 };
	struct image_made made;
	char ref[512];
	json_object *res;

	if (!o.container || !*o.container) {
		api_reply_error(w, 400, "commit needs ?container=ID");
		return;
	}
	o.ref = api_repo_tag(r, ref, sizeof(ref));
	o.changes = api_changes(r, ch, 64);
	if (engine_commit(&ctx->paths, &o, &made, &e)) {
		api_reply_err(w, &e);
		return;
	}
	res = json_object_new_object();
	json_object_object_add(res, "Id", json_object_new_string(made.config_digest));
	api_reply_json(w, 201, res);
}
