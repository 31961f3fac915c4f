/* The store's insides, shared by store.c, blob.c and gc.c only. */
#ifndef VMM_IMAGES_OCI_STORE_INTERNAL_H
#define VMM_IMAGES_OCI_STORE_INTERNAL_H

struct store {
	char *root;		/* $VMM_ROOT */
	char *dir;		/* $VMM_ROOT/oci */
	int dirfd;		/* the layout */
	int blobfd;		/* blobs/sha256 */
	int gc_lock_fd;		/* .gc.lock: shared while open, exclusive in store_gc */
	int index_lock_fd;	/* .index.lock: exclusive around index.json updates */
	unsigned tmp_seq;	/* names of fallback temp files */
};

#define BLOB_TMP_PREFIX	".tmp-"

#endif
