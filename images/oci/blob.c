/*
 * Content-addressed blobs: streamed in through an unnamed temp file
 * (O_TMPFILE, or a dot-named one where the filesystem has none), linked under
 * their digest only when it matches; verified again when read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/oci/store.h"
#include "images/oci/store-internal.h"
#include "vmm/base/error.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

struct blob_writer {
	struct store *s;
	int fd;
	char tmp[64];		/* fallback temp name, "" with O_TMPFILE */
	struct sha256 *hash;
	uint64_t size, max;
	bool finished;
	char digest[DIGEST_BUF];
};

int store_blob_path(const struct store *s, const char *digest, char *buf, size_t len)
{
	if (!digest_valid(digest))
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s/blobs/sha256/%s", s->dir, digest_hex(digest)) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int store_blob_size(const struct store *s, const char *digest, uint64_t *size)
{
	struct stat st;

	if (!digest_valid(digest))
		return -EINVAL;
	if (fstatat(s->blobfd, digest_hex(digest), &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*size = st.st_size;
	return 0;
}

int store_blob_begin(struct store *s, uint64_t max_size, struct blob_writer **out, struct error *e)
{
	struct blob_writer *w = calloc(1, sizeof(*w));
	int ret;

	if (!w || !(w->hash = sha256_new())) {
		free(w);
		return err_set(e, -ENOMEM, "out of memory");
	}
	w->s = s;
	w->max = max_size ? max_size : BLOB_MAX_SIZE;
	w->fd = openat(s->blobfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (w->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* no O_TMPFILE here: a dot-named file that store_gc cleans up after a crash */
		snprintf(w->tmp, sizeof(w->tmp), BLOB_TMP_PREFIX "%d-%u", (int)getpid(), s->tmp_seq++);
		w->fd = openat(s->blobfd, w->tmp, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	}
	if (w->fd < 0) {
		ret = err_sys(e, -errno, "%s/blobs/sha256: cannot create a temp file", s->dir);
		sha256_free(w->hash);
		free(w);
		return ret;
	}
	*out = w;
	return 0;
}

int store_blob_write(struct blob_writer *w, const void *data, size_t len)
{
	int ret;

	if (w->finished)
		return -EINVAL;
	if (len > w->max - w->size)
		return -EFBIG;
	ret = write_full(w->fd, data, len);
	if (ret)
		return ret;
	sha256_update(w->hash, data, len);
	w->size += len;
	return 0;
}

int store_blob_digest(struct blob_writer *w, char digest[DIGEST_BUF])
{
	if (!w->finished) {
		sha256_final(w->hash, w->digest);
		if (fsync(w->fd) < 0)
			return -errno;
		w->finished = true;
	}
	if (digest)
		memcpy(digest, w->digest, DIGEST_BUF);
	return 0;
}

int store_blob_pread(struct blob_writer *w, void *buf, size_t len, uint64_t off)
{
	if (off > w->size || len > w->size - off)
		return -EINVAL;
	return pread_full(w->fd, buf, len, (off_t)off);
}

static void writer_free(struct blob_writer *w)
{
	close(w->fd);
	if (w->tmp[0])
		unlinkat(w->s->blobfd, w->tmp, 0);
	sha256_free(w->hash);
	free(w);
}

void store_blob_abort(struct blob_writer *w)
{
	if (w)
		writer_free(w);
}

/* Whether the blob already stored under this name is intact. */
static bool existing_ok(struct store *s, const char *digest)
{
	char got[DIGEST_BUF];
	int fd, ret;

	fd = openat(s->blobfd, digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	ret = digest_fd(fd, got, NULL);
	close(fd);
	return !ret && !strcmp(got, digest);
}

static int link_to(struct blob_writer *w, const char *target)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
	if (linkat(AT_FDCWD, proc, w->s->blobfd, target, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	/* without /proc: needs CAP_DAC_READ_SEARCH */
	if (errno == ENOENT && linkat(w->fd, "", w->s->blobfd, target, AT_EMPTY_PATH) == 0)
		return 0;
	return -errno;
}

/* Give the O_TMPFILE its name; a damaged copy already there is replaced. */
static int link_tmpfile(struct blob_writer *w)
{
	struct store *s = w->s;
	const char *name = digest_hex(w->digest);
	int ret;

	ret = link_to(w, name);
	if (ret != -EEXIST)
		return ret;
	if (existing_ok(s, w->digest))
		return 0;
	pr_warn("%s/blobs/sha256/%s was damaged; replacing it", s->dir, name);
	snprintf(w->tmp, sizeof(w->tmp), BLOB_TMP_PREFIX "%d-%u", (int)getpid(), s->tmp_seq++);
	ret = link_to(w, w->tmp);
	if (ret) {
		w->tmp[0] = '\0';
		return ret;
	}
	if (renameat(s->blobfd, w->tmp, s->blobfd, name) < 0)
		return -errno;
	w->tmp[0] = '\0';
	return 0;
}

int store_blob_commit(struct blob_writer *w, const char *expected, char digest[DIGEST_BUF],
		      struct error *e)
{
	struct store *s = w->s;
	bool tmpfile = !w->tmp[0];
	int ret;

	ret = store_blob_digest(w, digest);
	if (ret)
		goto out;
	if (expected && strcmp(expected, w->digest)) {
		ret = -EBADMSG;
		goto out;
	}
	if (tmpfile) {
		ret = link_tmpfile(w);
	} else if (renameat(s->blobfd, w->tmp, s->blobfd, digest_hex(w->digest)) < 0) {
		ret = -errno;
	} else {
		w->tmp[0] = '\0';
	}
	if (!ret && fsync(s->blobfd) < 0)
		ret = -errno;
	if (ret && ret != -EBADMSG)
		err_sys(e, ret, "%s/blobs/sha256/%s: cannot store blob", s->dir, digest_hex(w->digest));
out:
	writer_free(w);
	return ret;
}

int store_blob_put(struct store *s, const void *data, size_t len, const char *expected,
		   char digest[DIGEST_BUF], struct error *e)
{
	struct blob_writer *w;
	int ret = store_blob_begin(s, 0, &w, e);

	if (ret)
		return ret;
	ret = store_blob_write(w, data, len);
	if (ret) {
		store_blob_abort(w);
		return err_sys(e, ret, "%s/blobs/sha256: cannot write a blob", s->dir);
	}
	return store_blob_commit(w, expected, digest, e);
}

int store_blob_read(struct store *s, const char *digest, size_t max, char **data, size_t *len,
		    struct error *e)
{
	char got[DIGEST_BUF];
	int ret;

	if (!digest_valid(digest))
		return err_set(e, -EINVAL, "%s: not a sha256 digest", digest);
	ret = read_file(s->blobfd, digest_hex(digest), max, data, len);
	if (ret == -EFBIG)
		return err_set(e, ret, "%s/blobs/sha256/%s: larger than %zu bytes", s->dir, digest_hex(digest), max);
	if (ret == -ENOENT)
		return ret;
	if (ret)
		return err_sys(e, ret, "%s/blobs/sha256/%s", s->dir, digest_hex(digest));
	digest_buf(*data, *len, got);
	if (strcmp(got, digest)) {
		free(*data);
		*data = NULL;
		return err_set(e, -EBADMSG, "%s/blobs/sha256/%s: corrupt blob, its content has digest %s "
			       "(remove the image and load or pull it again)", s->dir, digest_hex(digest), got);
	}
	return 0;
}

int store_blob_verify(struct store *s, const char *digest, uint64_t size, struct error *e)
{
	char got[DIGEST_BUF];
	uint64_t n;
	int fd, ret;

	if (!digest_valid(digest))
		return err_set(e, -EINVAL, "%s: not a sha256 digest", digest);
	fd = openat(s->blobfd, digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_set(e, -errno, "%s/blobs/sha256/%s: %s (the image is incomplete; load or pull it again)",
			       s->dir, digest_hex(digest), strerror(errno));
	ret = digest_fd(fd, got, &n);
	close(fd);
	if (ret)
		return err_sys(e, ret, "%s/blobs/sha256/%s", s->dir, digest_hex(digest));
	if (strcmp(got, digest) || (size != UINT64_MAX && n != size))
		return err_set(e, -EBADMSG, "%s/blobs/sha256/%s: corrupt blob (digest %s, %llu bytes) "
			       "(remove the image and load or pull it again)", s->dir, digest_hex(digest),
			       got, (unsigned long long)n);
	return 0;
}
