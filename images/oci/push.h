/*
 * `vmm push`: an image from the store to a registry, under the name it has in
 * the store (the reference names the registry, the repository and the tag).
 *
 * Every blob is first asked for (HEAD) and skipped when the registry has it.
 * A missing blob that the store knows from another repository on the same
 * registry (a tag of this or another image there names a manifest that lists
 * it: the image was pulled from there, or pushed there) is mounted from that
 * repository; a registry that does not mount opens an upload instead. Blobs
 * up to chunk_size go in one PUT, larger ones in PATCH requests of chunk_size
 * bytes each, then a PUT. Uploads stream from the blob files and are hashed
 * as they go: a blob whose bytes do not match its digest is cut off before
 * its last byte, so the registry never completes it.
 *
 * Then the manifest, byte for byte as stored, so it keeps its digest. When
 * the store names an image index (a pull of a multi-platform image), the
 * whole index goes with every manifest it lists when all of them are in the
 * store with their blobs; otherwise only the linux/amd64 manifest is pushed,
 * under the tag (PUSH_INDEX_PARTIAL says so).
 *
 * Credentials and TLS as for pull (pull.h, registry.h); the token asked for
 * covers pull and push on the repository and pull on the mount sources.
 */
#ifndef VMM_IMAGES_OCI_PUSH_H
#define VMM_IMAGES_OCI_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/oci/ref.h"
#include "images/oci/store.h"
#include "vmm/base/digest.h"

#define PUSH_CHUNK_SIZE		(16u << 20)	/* default: larger blobs go in chunks of this size */
#define PUSH_CHUNK_MIN		(4u << 10)
#define PUSH_MOUNT_SOURCES_MAX	8		/* repositories a push mounts from (the token's scope) */

enum push_event {
	PUSH_INDEX_PARTIAL,	/* digest: a stored index not all of whose platforms are here */
	PUSH_LAYER_EXISTS,	/* the registry has it */
	PUSH_LAYER_MOUNTED,	/* mounted from the repository `from` */
	PUSH_LAYER_START,	/* uploading */
	PUSH_LAYER_BYTES,	/* done of total bytes read for the upload */
	PUSH_LAYER_DONE,	/* uploaded */
};

struct creds;

struct push_progress {
	enum push_event event;
	const char *digest;	/* of the layer blob (of the index for PUSH_INDEX_PARTIAL) */
	const char *diff_id;	/* of its content: docker names layers by it */
	const char *from;	/* PUSH_LAYER_MOUNTED: the repository path ("library/busybox") */
	size_t layer, n_layers;	/* position among the layers pushed */
	uint64_t done, total;
};

struct push_opts {
	bool insecure;			/* --tls-verify=false */
	const char *const *auth_files;	/* credential files, first match wins; NULL-terminated or NULL */
	const struct creds *creds;	/* given credentials (the API's X-Registry-Auth): auth_files unread */
	const char *login_cmd;		/* named in "authentication required" hints; NULL: "vmm login" */
	unsigned stall_timeout;		/* seconds; 0: the registry client's default */
	uint64_t chunk_size;		/* 0: PUSH_CHUNK_SIZE; at least PUSH_CHUNK_MIN */
	void (*progress)(void *arg, const struct push_progress *p);	/* or NULL */
	void *progress_arg;
};

struct push_result {
	char ref[REF_STR_MAX];		/* full reference pushed: "host:5000/a/b:tag" */
	char digest[DIGEST_BUF];	/* what the tag names on the registry now */
	uint64_t size;			/* of that manifest (or index) */
	bool index;			/* the whole image index went */
	unsigned pushed, existing, mounted;	/* blobs (layers and configs) */
	unsigned chunks;		/* PATCH requests sent */
};

/*
 * Push name (a tag in the store, ":latest" when none is given) to the
 * registry it names. e holds one line naming name: -EINVAL (a bad reference,
 * a digest or an image ID instead of a name), -ENOENT (no such image),
 * -EBADMSG (a blob in the store does not match its digest), -EACCES, or the
 * registry client's errors.
 */
int image_push(struct store *s, const char *name, const struct push_opts *o,
	       struct push_result *res, struct error *e);

#endif
