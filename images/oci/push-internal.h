/* push.c's plan, shared with push_plan.c (what goes) and push_mount.c (where blobs may come from). */
#ifndef VMM_IMAGES_OCI_PUSH_INTERNAL_H
#define VMM_IMAGES_OCI_PUSH_INTERNAL_H

#include "images/oci/push.h"
#include "images/oci/spec.h"
#include "vmm/base/error.h"

#define PUSH_SCOPE_MAX	1024	/* the mount sources' token scopes, in all */

/* One manifest to push, as stored, with what it lists. */
struct push_manifest {
	char digest[DIGEST_BUF];
	char *data;			/* the verified bytes */
	size_t len;
	struct manifest m;
	char **diff_ids;		/* its config's, NULL-terminated (NULL when unreadable) */
};

/* What a push sends: the manifests, and the index above them when it goes whole. */
struct push_plan {
	struct push_manifest *mans;
	size_t n_mans;
	char index_digest[DIGEST_BUF];	/* "" unless the whole index goes */
	char *index_media_type;
	char *index_data;
	size_t index_len;
	char partial_index[DIGEST_BUF];	/* a stored index of which only linux/amd64 goes, or "" */
};

/* A blob some repository on the target registry has (as far as the store knows). */
struct push_source {
	char digest[DIGEST_BUF];
	char *repo;			/* its path there: "library/busybox" */
};

/*
 * The plan for the image index.json names with top: its manifest, or its
 * index with every manifest when all are in the store with their blobs, else
 * the index's linux/amd64 manifest. e names label.
 */
int push_plan_make(struct store *s, const struct descriptor *top, const char *label,
		   struct push_plan *plan, struct error *e);
void push_plan_free(struct push_plan *plan);

/*
 * Where the plan's blobs could be mounted from: repositories of domain other
 * than path that tags in the store name, whose images list them (the image's
 * own other tags first). At most PUSH_MOUNT_SOURCES_MAX repositories (and
 * PUSH_SCOPE_MAX bytes of scopes); *scope
 * gets the token scopes they need ("repository:R:pull ..."). Best effort:
 * unreadable images are skipped.
 */
int push_sources_find(struct store *s, const struct push_plan *plan, const char *top_digest,
		      const char *domain, const char *path, struct push_source **out, size_t *n,
		      char **scope);
void push_sources_free(struct push_source *v, size_t n);

#endif
