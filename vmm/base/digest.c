/* SHA-256 through OpenSSL's EVP interface; digest strings as OCI writes them. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/base/digest.h"
#include "vmm/base/hex.h"
#include "vmm/base/util.h"

struct sha256 {
	EVP_MD_CTX *ctx;
};

struct sha256 *sha256_new(void)
{
	struct sha256 *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(h->ctx);
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	return h;
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

static void to_digest(const unsigned char *md, char out[DIGEST_BUF])
{
	memcpy(out, DIGEST_PREFIX, 7);
	hex_encode(md, SHA256_BYTES, out + 7);
}

void sha256_final_raw(struct sha256 *h, uint8_t out[SHA256_BYTES])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	memcpy(out, md, SHA256_BYTES);
}

void sha256_final(struct sha256 *h, char out[DIGEST_BUF])
{
	uint8_t md[SHA256_BYTES];

	sha256_final_raw(h, md);
	to_digest(md, out);
}

void sha256_buf(const void *data, size_t len, uint8_t out[SHA256_BYTES])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	memcpy(out, md, SHA256_BYTES);
}

void sha256_free(struct sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void digest_buf(const void *data, size_t len, char out[DIGEST_BUF])
{
	uint8_t md[SHA256_BYTES];

	sha256_buf(data, len, md);
	to_digest(md, out);
}

static int hash_piece(void *opaque, const void *buf, size_t len)
{
	sha256_update(opaque, buf, len);
	return 0;
}

int digest_fd(int fd, char out[DIGEST_BUF], uint64_t *size)
{
	struct sha256 *h = sha256_new();
	int ret;

	if (!h)
		return -ENOMEM;
	ret = pread_each(fd, hash_piece, h, size);
	if (!ret)
		sha256_final(h, out);
	sha256_free(h);
	return ret;
}

int digest_file(const char *path, char out[DIGEST_BUF], uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = digest_fd(fd, out, size);
	close(fd);
	return ret;
}

bool digest_valid(const char *s)
{
	return s && strncmp(s, DIGEST_PREFIX, 7) == 0 && strlen(s) == DIGEST_STR_LEN &&
	       hex_valid(s + 7, DIGEST_HEX_LEN);
}

/* The OCI digest grammar: algorithm ":" encoded, algorithm [a-z0-9]+([+._-][a-z0-9]+)*. */
bool digest_algorithm_known(const char *s)
{
	const char *colon = s ? strchr(s, ':') : NULL;

	if (!colon || colon == s || !colon[1])
		return false;
	for (const char *p = s; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("+._-", *p)))
			return false;
	return true;
}
