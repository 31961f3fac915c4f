/*
 * Writing layers into the store: an uncompressed pax tar streamed into a
 * blob writer as it is made, so its digest is also its diff_id. Entries come
 * from the caller (a build's COPY), from another archive (`vmm import`,
 * ADD of a local tar) or from a tar already made (a filesystem diff).
 */
#ifndef VMM_IMAGES_OCI_LAYER_WRITER_H
#define VMM_IMAGES_OCI_LAYER_WRITER_H

#include <archive.h>
#include <archive_entry.h>

#include "images/oci/compose.h"

struct error;
struct store;
struct layer_writer;

#define LAYER_ARCHIVE_MEMBERS_MAX	(1u << 22)

/* A libarchive reader of tars, plain or compressed (gzip, bzip2, xz, zstd), decoded in-process. */
struct archive *tar_reader_new(void);

int layer_writer_new(struct store *s, struct layer_writer **out, struct error *e);
/*
 * Add one entry; its data (a regular file's size bytes) from fd when fd >= 0.
 * The name is used as it is: callers give clean relative paths.
 */
int layer_writer_add(struct layer_writer *w, struct archive_entry *ent, int fd, struct error *e);
/* More data of the entry added last (layer_writer_add with fd -1). */
int layer_writer_data(struct layer_writer *w, const void *buf, size_t len, struct error *e);
/*
 * Copy every member of an archive read from fd (tar in any format libarchive
 * reads, compressed with gzip, bzip2, xz or zstd, or not) under prefix (a clean
 * relative folder, "" for the root). Names are cleaned; a name or a link that
 * climbs out ("../x") is refused with e naming label and the member.
 */
int layer_writer_add_archive(struct layer_writer *w, int fd, const char *prefix,
			     const char *label, struct error *e);
/* Entries added so far. */
unsigned long layer_writer_count(const struct layer_writer *w);
/* Finish the tar and put the blob in the store. The writer is freed in every case. */
int layer_writer_commit(struct layer_writer *w, struct draft_layer *out, struct error *e);
void layer_writer_abort(struct layer_writer *w);

/* An uncompressed tar layer made elsewhere (a filesystem diff), read from fd to its end, into the store. */
int layer_store_tar(struct store *s, int fd, struct draft_layer *out, struct error *e);

#endif
