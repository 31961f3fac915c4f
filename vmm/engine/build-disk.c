/*
 * A build stage's filesystem: its state committed as an (untagged) image and
 * that image's root disk built, for RUN's overlay and COPY's destination.
 * Images and disks made only for this are removed when the build ends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/image.h"
#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/engine/build-internal.h"
#include "vmm/engine/create.h"

int build_stage_image(struct builder *b, struct stage *sg, char manifest[DIGEST_BUF],
		      char config[DIGEST_BUF])
{
	struct image_made made;
	char digest[DIGEST_BUF], *doc = image_draft_render(&sg->st.d, config);
	bool present = doc && image_resolve(b->s, config, digest, NULL, 0, NULL) == 0;
	int ret;

	free(doc);
	if (!doc)
		return err_set(b->e, -ENOMEM, "out of memory");
	if ((ret = image_draft_commit(&sg->st.d, b->s, NULL, &made, b->e)))
		return ret;
	/* made for this build: the image and its disk (whoever builds it) go at the end */
	if (!present) {
		char disk[PATH_MAX];

		snprintf(disk, sizeof(disk), "%s/disks/%s.img", b->p->root, digest_hex(config));
		if (strv_push(&b->intermediates, made.manifest_digest) || strv_push(&b->disks, disk))
			return err_set(b->e, -ENOMEM, "out of memory");
	}
	memcpy(manifest, made.manifest_digest, DIGEST_BUF);
	return 0;
}

static void layers_key(struct image_draft *d, char key[DIGEST_BUF])
{
	struct sha256 *h = sha256_new();
	const char *id;

	key[0] = '\0';
	if (!h)
		return;
	for (size_t i = 0; (id = image_draft_diff_id(d, i)); i++)
		sha256_update(h, id, strlen(id) + 1);
	sha256_final(h, key);
	sha256_free(h);
}

int build_stage_disk(struct builder *b, struct stage *sg)
{
	char manifest[DIGEST_BUF], config[DIGEST_BUF], key[DIGEST_BUF], path[PATH_MAX];
	struct image *img = NULL;
	int ret;

	/* the state's filesystem is its layers: config changes since do not matter */
	layers_key(&sg->st.d, key);
	if (sg->disk[0] && !strcmp(sg->disk_of, key))
		return 0;
	memcpy(sg->disk_of, key, DIGEST_BUF);
	ret = build_stage_image(b, sg, manifest, config);
	if (!ret)
		ret = image_open_digest(b->s, manifest, &img, b->e);
	if (!ret)
		ret = engine_image_disk(img, 0, path, sizeof(path), b->e);
	image_close(img);
	if (ret)
		return ret;
	snprintf(sg->disk, sizeof(sg->disk), "%s", path);
	return 0;
}

void build_intermediates_drop(struct builder *b)
{
	for (size_t i = 0; b->intermediates && b->intermediates[i]; i++) {
		char **tags = NULL;

		if (!strcmp(b->intermediates[i], b->final_manifest))
			continue;
		if (store_tags_of(b->s, b->intermediates[i], &tags, NULL) == 0 && !tags[0])
			store_image_remove(b->s, b->intermediates[i], NULL);
		strv_free(tags);
	}
	/* the built image's own disk, if a step made it, is kept for its first run */
	for (size_t i = 0; b->disks && b->disks[i]; i++)
		if (!b->final_config[0] || !strstr(b->disks[i], digest_hex(b->final_config)))
			unlink(b->disks[i]);
	strv_free(b->intermediates);
	strv_free(b->disks);
	b->intermediates = b->disks = NULL;
}
