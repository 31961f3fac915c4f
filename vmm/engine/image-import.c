/* docker import: a rootfs tarball as a one-layer image. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "images/oci/layer-writer.h"
#include "images/oci/store.h"
#include "vmm/base/error.h"
#include "vmm/engine/build-config.h"
#include "vmm/engine/image-import.h"

int engine_import(const struct paths *p, const struct import_opts *o, struct image_made *out,
		  struct error *e)
{
	char *const refs[] = { (char *)o->ref, NULL };
	struct image_draft d = { 0 };
	struct layer_writer *lw = NULL;
	struct draft_layer layer;
	struct store *s = NULL;
	char comment[256];
	int ret;

	if ((ret = store_open(p->root, &s, e)))
		return ret;
	ret = image_draft_init(&d, NULL, e);
	if (!ret)
		ret = build_apply_changes(&d, o->changes, e);
	if (!ret)
		ret = layer_writer_new(s, &lw, e);
	if (!ret)
		ret = layer_writer_add_archive(lw, o->fd, "", o->label, e);
	if (!ret) {
		ret = layer_writer_commit(lw, &layer, e);
		lw = NULL;
	}
	snprintf(comment, sizeof(comment), "Imported from %s", o->label);
	if (!ret)
		ret = image_draft_add_layer(&d, &layer, NULL, o->message ? o->message : comment);
	if (!ret)
		ret = image_draft_commit(&d, s, o->ref ? refs : NULL, out, e);
	layer_writer_abort(lw);
	image_draft_free(&d);
	store_close(s);
	return ret;
}
