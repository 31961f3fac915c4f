/*
 * SHA-256 (OpenSSL EVP) and content digests ("sha256:<64 hex>", as OCI
 * writes them): hashing buffers, files and streams, and validation.
 */
#ifndef VMM_BASE_DIGEST_H
#define VMM_BASE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES	32
#define DIGEST_HEX_LEN	64
#define DIGEST_PREFIX	"sha256:"
/* "sha256:" + 64 hex digits; buffers are DIGEST_BUF bytes including the NUL. */
#define DIGEST_STR_LEN	(7 + DIGEST_HEX_LEN)
#define DIGEST_BUF	(DIGEST_STR_LEN + 1)

struct sha256;

/* A running hash. NULL + errno on allocation failure. */
struct sha256 *sha256_new(void);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Finish into "sha256:<hex>", or into the 32 bytes themselves. */
void sha256_final(struct sha256 *h, char out[DIGEST_BUF]);
void sha256_final_raw(struct sha256 *h, uint8_t out[SHA256_BYTES]);
void sha256_free(struct sha256 *h);
/* One-shot SHA-256 of a buffer, raw. */
void sha256_buf(const void *data, size_t len, uint8_t out[SHA256_BYTES]);

/* One-shot digest of a buffer. */
void digest_buf(const void *data, size_t len, char out[DIGEST_BUF]);
/* Digest of everything readable from fd from offset 0 (pread), and its size. 0 or -errno. */
int digest_fd(int fd, char out[DIGEST_BUF], uint64_t *size);
/* The same for the file at path. 0 or -errno. */
int digest_file(const char *path, char out[DIGEST_BUF], uint64_t *size);

/*
 * Whether s is a digest we accept: "sha256:" and exactly 64 lowercase hex digits.
 * Other algorithms are refused (digest_algorithm_known tells "sha512:..." apart
 * from garbage, for a better message).
 */
bool digest_valid(const char *s);
bool digest_algorithm_known(const char *s);
/* The 64 hex digits of a valid digest. */
static inline const char *digest_hex(const char *digest)
{
	return digest + 7;
}

#endif
