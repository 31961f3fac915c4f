/*
 * The snapshot state file: a header (magic, version, the key naming the
 * kernel, agent and VM shape it belongs to, a SHA-256 of the body) and a body
 * of tagged records ("vcpu0.regs", "virtio1", ...). Guest memory lives in a
 * separate file that restores map MAP_PRIVATE.
 */
#ifndef VMM_SNAPFILE_H
#define VMM_SNAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC	"VMMSNAP"
#define SNAP_VERSION	3
#define SNAP_KEY_LEN	64	/* hex SHA-256 */
#define SNAP_TAG_LEN	24

struct snap_header {
	char magic[8];
	uint32_t version;
	uint32_t ncpus;
	uint64_t mem_size;
	uint64_t created;	/* unix seconds */
	uint64_t body_len;
	uint8_t body_sha256[32];
	char key[SNAP_KEY_LEN + 1];
	char pad[7];
};

/* A growable body being written. Errors stick: check snapbuf.err once at the end. */
struct snapbuf {
	uint8_t *data;
	size_t len, cap;
	int err;
};

void snapbuf_put(struct snapbuf *b, const char *tag, const void *data, uint32_t len);
void snapbuf_putf(struct snapbuf *b, const void *data, uint32_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void snapbuf_free(struct snapbuf *b);

/* A body being read (validated by snap_read). */
struct snapreader {
	const uint8_t *data;
	size_t len;
};

/* Find a record; -ENOENT when absent, -EINVAL when its length is not want (want 0: any). */
int snapreader_get(const struct snapreader *r, const char *tag, const void **data, uint32_t *len,
		   uint32_t want);
int snapreader_getf(const struct snapreader *r, const void **data, uint32_t *len, uint32_t want,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Copy a record of exactly len bytes into dst. */
int snapreader_copy(const struct snapreader *r, const char *tag, void *dst, uint32_t len);

/* Write header + body to path atomically. 0 or -errno. */
int snap_write(const char *path, struct snap_header *h, const struct snapbuf *b);
/*
 * Read and verify path: magic, version, key (when key != NULL), body checksum,
 * record framing. On success *body is malloc'd (free it) and r points into it.
 * -EINVAL names nothing: the caller says "corrupt or mismatched snapshot".
 */
int snap_read(const char *path, const char *key, struct snap_header *h, uint8_t **body,
	      struct snapreader *r);

#endif
