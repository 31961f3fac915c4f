/* ADD of a URL: libcurl into a scratch file, then one layer entry. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "images/oci/layer-writer.h"
#include "vmm/base/digest.h"
#include "vmm/base/error.h"
#include "vmm/base/path.h"
#include "vmm/base/util.h"
#include "vmm/engine/build-fetch.h"
#include "vmm/engine/build-internal.h"

struct sink {
	int fd;
	uint64_t bytes;
	struct sha256 *h;
	int err;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (s->bytes + len > FETCH_MAX) {
		s->err = -EFBIG;
		return 0;
	}
	if (write_full(s->fd, data, len)) {
		s->err = -errno;
		return 0;
	}
	sha256_update(s->h, data, len);
	s->bytes += len;
	return len;
}

/* The URL's last path element, without query or fragment. */
static int url_name(const char *url, char *out, size_t len)
{
	const char *p = strstr(url, "://"), *end, *slash;

	p = p ? strchr(p + 3, '/') : NULL;
	if (!p)
		return -EINVAL;
	end = p + strcspn(p, "?#");
	for (slash = end; slash > p && slash[-1] != '/'; slash--)
		;
	if (end == slash || (size_t)(end - slash) >= len)
		return -EINVAL;
	snprintf(out, len, "%.*s", (int)(end - slash), slash);
	return strcmp(out, ".") && strcmp(out, "..") ? 0 : -EINVAL;
}

static int download(struct builder *b, const char *url, struct sink *s, long *mtime)
{
	CURL *c = curl_easy_init();
	char errbuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;

	if (!c)
		return err_set(b->e, -ENOMEM, "out of memory");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)FETCH_REDIRECTS_MAX);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)FETCH_CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_FILETIME, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c, CURLINFO_FILETIME, mtime);
	curl_easy_cleanup(c);
	if (s->err)
		return err_sys(b->e, s->err, "ADD %s", url);
	if (rc != CURLE_OK)
		return err_set(b->e, -EIO, "ADD %s: %s", url, *errbuf ? errbuf : curl_easy_strerror(rc));
	if (code < 200 || code > 299)
		return err_set(b->e, -EIO, "ADD %s: the server answered %ld", url, code);
	return 0;
}

int build_fetch_url(struct builder *b, const char *url, const char *dest, bool into, uint32_t uid,
		    uint32_t gid, int mode, const char *checksum, struct layer_writer *lw)
{
	struct sink s = { .fd = -1 };
	struct archive_entry *ent = NULL;
	char name[PATH_NAME_MAX + 1], path[PATH_MAX], got[DIGEST_BUF];
	long mtime = -1;
	int ret;

	if (into && url_name(url, name, sizeof(name)))
		return err_set(b->e, -EINVAL, "ADD %s: cannot tell a file name from the URL "
			       "(give a destination file instead of a folder)", url);
	if (snprintf(path, sizeof(path), "%s%s%s", dest + 1, into && dest[1] ? "/" : "", into ? name : "") >=
	    (int)sizeof(path))
		return err_set(b->e, -ENAMETOOLONG, "ADD %s: destination too long", url);
	s.fd = open(b->tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s.fd < 0)
		return err_sys(b->e, -errno, "ADD %s: a scratch file in %s", url, b->tmp);
	if (!(s.h = sha256_new())) {
		close(s.fd);
		return err_set(b->e, -ENOMEM, "out of memory");
	}
	ret = download(b, url, &s, &mtime);
	sha256_final(s.h, got);
	if (!ret && checksum && strcmp(checksum, got))
		ret = err_set(b->e, -EBADMSG, "ADD %s: checksum mismatch: want %s, got %s", url, checksum, got);
	if (!ret && !(ent = archive_entry_new()))
		ret = err_set(b->e, -ENOMEM, "out of memory");
	if (!ret) {
		archive_entry_set_pathname(ent, path);
		archive_entry_set_filetype(ent, AE_IFREG);
		archive_entry_set_perm(ent, mode < 0 ? 0600 : (mode_t)mode);
		archive_entry_set_uid(ent, uid);
		archive_entry_set_gid(ent, gid);
		archive_entry_set_size(ent, (int64_t)s.bytes);
		archive_entry_set_mtime(ent, mtime > 0 ? mtime : time(NULL), 0);
		lseek(s.fd, 0, SEEK_SET);
		ret = layer_writer_add(lw, ent, s.fd, b->e);
		archive_entry_free(ent);
	}
	sha256_free(s.h);
	close(s.fd);
	return ret;
}
