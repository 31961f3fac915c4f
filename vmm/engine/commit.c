/* docker commit: the container's disk changes and its config as a new image. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/image.h"
#include "images/oci/layer-writer.h"
#include "images/oci/store.h"
#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/build-config.h"
#include "vmm/engine/commit.h"
#include "vmm/engine/container.h"
#include "vmm/engine/export.h"

static json_object *strv_array(char *const *v, size_t from, size_t to)
{
	json_object *a = json_object_new_array();

	for (size_t i = from; i < to; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

/* The container's command split back into the image's ENTRYPOINT and the rest as CMD. */
static void command(json_object *c, const struct image *img, char *const *argv)
{
	size_t n = strv_len(argv), ne = strv_len(img->config.entrypoint);
	bool prefix = ne <= n;

	for (size_t i = 0; prefix && i < ne; i++)
		prefix = !strcmp(img->config.entrypoint[i], argv[i]);
	if (!prefix)
		ne = 0;
	json_object_object_add(c, "Entrypoint", ne ? strv_array(argv, 0, ne) : NULL);
	json_object_object_add(c, "Cmd", n > ne ? strv_array(argv, ne, n) : NULL);
}

static void container_config(struct image_draft *d, const struct image *img,
			     const struct container_config *cc)
{
	json_object *c = image_draft_config(d);

	command(c, img, cc->argv);
	json_object_object_add(c, "Env", strv_array(cc->env, 0, strv_len(cc->env)));
	if (cc->workdir)
		json_object_object_add(c, "WorkingDir", json_object_new_string(cc->workdir));
	if (cc->user)
		json_object_object_add(c, "User", json_object_new_string(cc->user));
	for (size_t i = 0; cc->labels && cc->labels[i]; i++) {
		char *k = strdup(cc->labels[i]), *eq = k ? strchr(k, '=') : NULL;

		if (eq) {
			*eq = '\0';
			build_label_put(d, k, eq + 1);
		}
		free(k);
	}
}

static char *created_by(char *const *argv)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; argv && argv[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
	fclose(f);
	return s;
}

int engine_commit(const struct paths *p, const struct commit_opts *o, struct image_made *out,
		  struct error *e)
{
	char *const refs[] = { (char *)o->ref, NULL };
	struct image_draft d = { 0 };
	struct container *ct = NULL;
	struct store *s = NULL;
	struct image *img = NULL;
	struct draft_layer layer;
	char tmp[4096], *by = NULL;
	int fd = -1, ret;

	ret = container_open(p->root, o->container, &ct, e);
	if (!ret)
		ret = store_open(p->root, &s, e);
	if (!ret && (ret = image_open(s, ct->cfg.image, &img, e)))
		err_wrap(e, ret, "container %s: its image", o->container);
	if (!ret)
		ret = image_draft_init(&d, img, e);
	if (!ret) {
		container_config(&d, img, &ct->cfg);
		ret = build_apply_changes(&d, o->changes, e);
	}
	if (!ret) {
		snprintf(tmp, sizeof(tmp), "%s/tmp", p->root);
		if ((ret = mkdir_p(AT_FDCWD, tmp, 0700)) ||
		    (fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0)
			ret = err_sys(e, ret ? ret : -errno, "%s", tmp);
	}
	if (!ret)
		ret = engine_diff_tar(p, o->container, ROOTFS_DIFF_NO_MOUNT_STUBS, fd, e);
	if (!ret && lseek(fd, 0, SEEK_SET) < 0)
		ret = err_sys(e, -errno, "the container's layer");
	if (!ret)
		ret = layer_store_tar(s, fd, &layer, e);
	if (!ret && !(by = created_by(ct->cfg.argv)))
		ret = err_set(e, -ENOMEM, "out of memory");
	if (!ret) {
		image_draft_set(&d, "author", o->author);
		ret = image_draft_add_layer(&d, &layer, by, o->message);
	}
	if (!ret)
		ret = image_draft_commit(&d, s, o->ref ? refs : NULL, out, e);
	if (fd >= 0)
		close(fd);
	free(by);
	image_draft_free(&d);
	image_close(img);
	if (s)
		store_close(s);
	container_free(ct);
	return ret;
}
