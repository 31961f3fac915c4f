/*
 * `vmm pull`: an image from a registry into the store.
 *
 * The manifest (and, for an image index or manifest list, the linux/amd64
 * manifest it names) is fetched and its digest checked: against the
 * reference when it has one, else against Docker-Content-Digest when the
 * registry sends it. Then the config and the layers are streamed into blob
 * writers that hash as they go; each layer is also decompressed on the fly
 * and its uncompressed digest compared with the config's diff_ids. Blobs
 * already in the store are not requested at all.
 *
 * Nothing is committed until every blob has arrived and checked out: then
 * the blobs are linked into the store (layers, config, manifests) and the
 * name is set in index.json. A failure before that leaves the store as it
 * was; the temp files vanish with the writers.
 *
 * The name recorded: for a pull by tag, the tag ("docker.io/library/busybox:latest");
 * for a pull by digest, "docker.io/library/busybox@sha256:..." (shown as
 * <none> by vmm images, as docker does). What index.json points at is what
 * the reference names on the registry: the image index when there is one,
 * so the image keeps the digest the registry knows it by.
 */
#ifndef VMM_IMAGES_OCI_PULL_H
#define VMM_IMAGES_OCI_PULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/base/digest.h"
#include "images/oci/ref.h"
#include "images/oci/store.h"

enum pull_event {
	PULL_LAYER_EXISTS,	/* already in the store: not fetched */
	PULL_LAYER_START,
	PULL_LAYER_BYTES,	/* done bytes of total arrived */
	PULL_LAYER_DONE,	/* arrived and verified (committed later, with the rest) */
};

struct creds;

struct pull_progress {
	enum pull_event event;
	const char *digest;	/* of the layer */
	size_t layer, n_layers;
	uint64_t done, total;
};

struct pull_opts {
	bool insecure;			/* --tls-verify=false */
	const char *const *auth_files;	/* credential files, first match wins; NULL-terminated or NULL */
	const struct creds *creds;	/* given credentials (the API's X-Registry-Auth): auth_files unread */
	const char *login_cmd;		/* named in "authentication required" hints; NULL: "vmm login" */
	unsigned stall_timeout;		/* seconds; 0: the registry client's default */
	void (*progress)(void *arg, const struct pull_progress *p);	/* or NULL */
	void *progress_arg;
};

struct pull_result {
	char ref[REF_STR_MAX];		/* full reference now naming the image */
	char digest[DIGEST_BUF];	/* what the reference names on the registry */
	char manifest_digest[DIGEST_BUF];	/* the linux/amd64 image manifest */
	char config_digest[DIGEST_BUF];	/* the image ID */
	bool updated;			/* anything new: blobs fetched, or the name moved */
	unsigned blobs_fetched, blobs_present;
};

/*
 * Pull name (a reference as the user typed it; the default tag is latest).
 * e holds one line naming name. -EINVAL (bad reference), -ENOENT
 * (no such image on the registry), -EACCES, -EBADMSG (digest mismatch),
 * -ENOTSUP (no linux/amd64 image, unsupported media type), or the registry
 * client's errors.
 */
int image_pull(struct store *s, const char *name, const struct pull_opts *o,
	       struct pull_result *res, struct error *e);

#endif
