/* Uncompressed pax layers written straight into the store's blob writer. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/oci/layer-writer.h"
#include "images/oci/store.h"
#include "vmm/base/error.h"
#include "vmm/base/path.h"

#define COPY_BUF	(256 * 1024)

struct layer_writer {
	struct archive *a;
	struct blob_writer *w;
	int werr;		/* the blob writer's failure, for the archive callback */
	unsigned long count;
	uint64_t bytes;		/* of the tar */
	char *buf;
};

static la_ssize_t blob_out(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct layer_writer *lw = arg;
	int ret = store_blob_write(lw->w, buf, len);

	if (ret) {
		lw->werr = ret;
		archive_set_error(a, -ret, "writing the layer into the store: %s", strerror(-ret));
		return -1;
	}
	lw->bytes += len;
	return (la_ssize_t)len;
}

int layer_writer_new(struct store *s, struct layer_writer **out, struct error *e)
{
	struct layer_writer *lw = calloc(1, sizeof(*lw));
	int ret;

	if (!lw || !(lw->buf = malloc(COPY_BUF)) || !(lw->a = archive_write_new())) {
		layer_writer_abort(lw);
		return err_set(e, -ENOMEM, "out of memory");
	}
	if ((ret = store_blob_begin(s, 0, &lw->w, e))) {
		layer_writer_abort(lw);
		return ret;
	}
	archive_write_set_format_pax_restricted(lw->a);
	archive_write_set_bytes_in_last_block(lw->a, 1);
	if (archive_write_open2(lw->a, lw, NULL, blob_out, NULL, NULL) != ARCHIVE_OK) {
		ret = err_set(e, -EIO, "starting a layer: %s", archive_error_string(lw->a));
		layer_writer_abort(lw);
		return ret;
	}
	*out = lw;
	return 0;
}

static int archive_fail(struct layer_writer *lw, const char *what, struct error *e)
{
	return err_set(e, lw->werr ? lw->werr : -EIO, "%s: %s", what, archive_error_string(lw->a));
}

/* Write the entry's data from fd (size bytes; a file that shrank is padded, one that grew is cut). */
static int data_from_fd(struct layer_writer *lw, struct archive_entry *ent, int fd, struct error *e)
{
	int64_t left = archive_entry_size(ent);

	while (left > 0) {
		ssize_t n = read(fd, lw->buf, left < COPY_BUF ? (size_t)left : COPY_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(e, errno, "reading %s", archive_entry_pathname(ent));
		if (n == 0) {
			memset(lw->buf, 0, COPY_BUF);
			n = left < COPY_BUF ? left : COPY_BUF;
		}
		if (archive_write_data(lw->a, lw->buf, (size_t)n) != n)
			return archive_fail(lw, archive_entry_pathname(ent), e);
		left -= n;
	}
	return 0;
}

int layer_writer_add(struct layer_writer *lw, struct archive_entry *ent, int fd, struct error *e)
{
	if (archive_write_header(lw->a, ent) < ARCHIVE_WARN)
		return archive_fail(lw, archive_entry_pathname(ent), e);
	lw->count++;
	if (fd >= 0 && archive_entry_filetype(ent) == AE_IFREG && !archive_entry_hardlink(ent))
		return data_from_fd(lw, ent, fd, e);
	return 0;
}

int layer_writer_data(struct layer_writer *lw, const void *buf, size_t len, struct error *e)
{
	if (archive_write_data(lw->a, buf, len) != (la_ssize_t)len)
		return archive_fail(lw, "writing a layer", e);
	return 0;
}

unsigned long layer_writer_count(const struct layer_writer *lw)
{
	return lw->count;
}

/* prefix + the cleaned name; -EINVAL when name climbs out. */
static int member_name(const char *prefix, const char *name, char *out, size_t len)
{
	char clean[PATH_MAX];
	int ret = path_clean(name, PATH_DOTDOT_REJECT, clean, sizeof(clean));

	if (ret)
		return ret;
	if (!*prefix)
		return snprintf(out, len, "%s", clean) >= (int)len ? -ENAMETOOLONG : 0;
	return snprintf(out, len, "%s%s%s", prefix, *clean ? "/" : "", clean) >= (int)len ?
	       -ENAMETOOLONG : 0;
}

static int copy_member(struct layer_writer *lw, struct archive *in, struct archive_entry *ent,
		       const char *prefix, const char *label, struct error *e)
{
	const char *orig = archive_entry_pathname(ent) ?: "";
	char name[PATH_MAX], link[PATH_MAX];
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	if (member_name(prefix, orig, name, sizeof(name)))
		return err_set(e, -EINVAL, "%s: member '%s' is outside the archive's root", label, orig);
	if (!*name)
		return 0;	/* "./" itself: the folder it lands in keeps its metadata */
	archive_entry_copy_pathname(ent, name);
	if (archive_entry_hardlink(ent)) {
		if (member_name(prefix, archive_entry_hardlink(ent), link, sizeof(link)) || !*link)
			return err_set(e, -EINVAL, "%s: hard link '%s' points outside the archive",
				       label, orig);
		archive_entry_copy_hardlink(ent, link);
	}
	if (archive_write_header(lw->a, ent) < ARCHIVE_WARN)
		return archive_fail(lw, name, e);
	lw->count++;
	while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK) {
		if (archive_write_data(lw->a, buf, size) != (la_ssize_t)size)
			return archive_fail(lw, name, e);
	}
	if (r != ARCHIVE_EOF)
		return err_set(e, -EINVAL, "%s: truncated or corrupt tar: member '%s': %s", label, orig,
			       archive_error_string(in));
	return 0;
}

struct archive *tar_reader_new(void)
{
	struct archive *a = archive_read_new();

	if (!a)
		return NULL;
	/* built-in decompressors only: filter_all would run external programs on untrusted input */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	return a;
}

int layer_writer_add_archive(struct layer_writer *lw, int fd, const char *prefix,
			     const char *label, struct error *e)
{
	struct archive *in = tar_reader_new();
	struct archive_entry *ent;
	unsigned long n = 0;
	int ret = 0;

	if (!in)
		return err_set(e, -ENOMEM, "out of memory");
	if (archive_read_open_fd(in, fd, 64 * 1024) != ARCHIVE_OK) {
		ret = err_set(e, -EINVAL, "%s: not a tar archive: %s", label, archive_error_string(in));
		archive_read_free(in);
		return ret;
	}
	for (;;) {
		int r = archive_read_next_header(in, &ent);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = err_set(e, -EINVAL, "%s: %s: %s", label,
				      n ? "truncated or corrupt tar" : "not a tar archive",
				      archive_error_string(in));
			break;
		}
		if (++n > LAYER_ARCHIVE_MEMBERS_MAX) {
			ret = err_set(e, -E2BIG, "%s: more than %u members", label,
				      LAYER_ARCHIVE_MEMBERS_MAX);
			break;
		}
		if ((ret = copy_member(lw, in, ent, prefix, label, e)))
			break;
	}
	archive_read_free(in);
	return ret;
}

int layer_writer_commit(struct layer_writer *lw, struct draft_layer *out, struct error *e)
{
	int ret = 0;

	if (archive_write_close(lw->a) != ARCHIVE_OK)
		ret = archive_fail(lw, "finishing the layer", e);
	archive_write_free(lw->a);
	lw->a = NULL;
	memset(out, 0, sizeof(*out));
	if (!ret && (ret = store_blob_digest(lw->w, out->digest)))
		err_sys(e, ret, "finishing the layer");
	if (!ret) {
		memcpy(out->diff_id, out->digest, DIGEST_BUF);
		ret = store_blob_commit(lw->w, NULL, NULL, e);
		lw->w = NULL;
	}
	out->media_type = MT_OCI_LAYER;
	out->size = lw->bytes;
	layer_writer_abort(lw);
	return ret;
}

void layer_writer_abort(struct layer_writer *lw)
{
	if (!lw)
		return;
	if (lw->a)
		archive_write_free(lw->a);
	if (lw->w)
		store_blob_abort(lw->w);
	free(lw->buf);
	free(lw);
}

int layer_store_tar(struct store *s, int fd, struct draft_layer *out, struct error *e)
{
	struct blob_writer *w;
	char *buf = malloc(COPY_BUF);
	int ret = buf ? store_blob_begin(s, 0, &w, e) : err_set(e, -ENOMEM, "out of memory");

	memset(out, 0, sizeof(*out));
	while (!ret) {
		ssize_t n = read(fd, buf, COPY_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = err_sys(e, -errno, "reading a layer");
		if (n <= 0)
			break;
		if ((ret = store_blob_write(w, buf, (size_t)n)))
			err_sys(e, ret, "writing a layer into the store");
		out->size += (uint64_t)n;
	}
	free(buf);
	if (!ret && (ret = store_blob_digest(w, out->digest)))
		err_sys(e, ret, "finishing a layer");
	if (ret) {
		if (ret != -ENOMEM)
			store_blob_abort(w);
		return ret;
	}
	memcpy(out->diff_id, out->digest, DIGEST_BUF);
	out->media_type = MT_OCI_LAYER;
	return store_blob_commit(w, NULL, NULL, e);
}
