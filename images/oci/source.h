/*
 * Where `vmm load` reads an image archive from: a tar (docker-archive or
 * oci-archive, possibly compressed, from a file or stdin) or an OCI layout
 * directory. Archive members are never extracted by name: each regular file
 * is streamed into an unnamed blob writer (or memory, when small) while being
 * hashed, so a member called "../x" is only a string. A directory is read
 * lazily, only the files asked for, never outside it.
 */
#ifndef VMM_IMAGES_OCI_SOURCE_H
#define VMM_IMAGES_OCI_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/base/digest.h"
#include "images/oci/spec.h"
#include "images/oci/store.h"

#define SOURCE_MEMBERS_MAX	8192

struct member {
	char *name;			/* normalized path inside the archive */
	char *link;			/* hard or symbolic link: the target's normalized path */
	char digest[DIGEST_BUF];	/* of the content as stored */
	uint64_t size;
	enum compression compression;	/* sniffed from the first bytes */
	char diff_id[DIGEST_BUF];	/* of the decompressed content; "" when undecodable */
	char *data;			/* small members: the content (NUL-terminated) */
	struct blob_writer *w;		/* large members: the content, not yet in the store */
	bool committed;
};

struct source {
	const char *label;		/* for messages: the file name or "stdin" */
	struct store *store;
	int dirfd;			/* a layout directory, or -1 */
	struct member **members;	/* each allocated apart: pointers to them stay valid */
	size_t n_members;
	uint64_t mem_bytes;		/* held in memory */
};

/* Read a tar from fd (the whole stream) or open a directory. 0 or -errno with e. */
int source_open_tar(struct source *src, struct store *s, int fd, const char *label, struct error *e);
int source_open_dir(struct source *src, struct store *s, const char *path, struct error *e);
void source_close(struct source *src);

/* Whether any member or file by that name exists. */
bool source_has(struct source *src, const char *name);
/* A member by path (links followed); NULL when absent (e says so, and why; may be NULL). */
struct member *source_get(struct source *src, const char *name, struct error *e);
/* Read a member of at most max bytes as a NUL-terminated string (malloc'd). */
int source_read(struct source *src, struct member *m, size_t max, char **buf, size_t *len,
		struct error *e);
/*
 * Put a member into the store as the blob expected: -EBADMSG (no message)
 * when its digest is another.
 */
int source_commit(struct source *src, struct member *m, const char *expected, struct error *e);

#endif
