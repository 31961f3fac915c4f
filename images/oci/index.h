/*
 * Tag bookkeeping on a parsed index.json, without I/O (store.c does the
 * locking and the atomic rewrite). Invariants kept: one entry per ref name;
 * an untagged entry for a manifest only while no tagged entry names it.
 * Functions that change the index return 1, 0 when there was nothing to do,
 * or -errno.
 */
#ifndef VMM_IMAGES_OCI_INDEX_H
#define VMM_IMAGES_OCI_INDEX_H

#include <stdbool.h>

#include "images/oci/spec.h"

int descriptor_copy(struct descriptor *dst, const struct descriptor *src);

/* Index of the entry whose ref name is ref, or -1. */
long index_find_ref(const struct oci_index *idx, const char *ref);
bool index_has_digest(const struct oci_index *idx, const char *digest);

/*
 * Point ref at desc (ref NULL: add desc untagged if absent). When ref named
 * another manifest that nothing else names, that one stays untagged and its
 * digest goes to old (if not NULL; "" otherwise).
 */
int index_set_ref(struct oci_index *idx, const struct descriptor *desc, const char *ref,
		  char old[DIGEST_BUF]);
/* Drop ref; *gone tells whether its manifest left the index. -ENOENT if absent. */
int index_remove_ref(struct oci_index *idx, const char *ref, bool *gone);
/* Drop every entry of a manifest. */
int index_remove_digest(struct oci_index *idx, const char *digest);

#endif
