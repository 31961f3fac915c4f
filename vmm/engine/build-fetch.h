/* ADD https://...: a download into the layer (docker: mode 0600, mtime from Last-Modified). */
#ifndef VMM_ENGINE_BUILD_FETCH_H
#define VMM_ENGINE_BUILD_FETCH_H

#include <stdbool.h>
#include <stdint.h>

struct builder;
struct layer_writer;

#define FETCH_MAX		(16ULL << 30)
#define FETCH_REDIRECTS_MAX	5
#define FETCH_CONNECT_TIMEOUT	30

/*
 * Download url; it lands at dest, or in it (named after the URL's last path
 * element) when into. mode < 0: 0600. checksum: --checksum=sha256:... or NULL.
 * 0 or -errno with b->e naming the URL.
 */
int build_fetch_url(struct builder *b, const char *url, const char *dest, bool into, uint32_t uid,
		    uint32_t gid, int mode, const char *checksum, struct layer_writer *lw);

#endif
