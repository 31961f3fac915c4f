/* The store on a scratch directory: blobs, index.json updates, images, gc, diff_ids. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "images/oci/image.h"
#include "images/oci/index.h"
#include "images/oci/layer.h"
#include "images/oci/store.h"
#include "tests/unit/tap.h"
#include "vmm/base/log.h"
#include "vmm/base/util.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static struct descriptor desc(const char *digest)
{
	struct descriptor d = { .media_type = (char *)MT_OCI_MANIFEST, .size = 10 };

	memcpy(d.digest, digest, DIGEST_BUF);
	return d;
}

static void test_index_ops(void)
{
	struct oci_index idx = { 0 };
	struct descriptor a = desc(D1), b = desc(D2);
	char old[DIGEST_BUF];
	bool gone;

	ok(index_set_ref(&idx, &a, "docker.io/library/x:1", old) == 1 && idx.n_manifests == 1 &&
	   !old[0], "tag added");
	ok(index_set_ref(&idx, &a, "docker.io/library/x:1", old) == 0, "same tag again: no change");
	ok(index_set_ref(&idx, &a, NULL, NULL) == 0, "untagged add of a tagged image: no change");
	ok(index_set_ref(&idx, &b, "docker.io/library/x:1", old) == 1 && !strcmp(old, D1),
	   "tag moved, old image reported");
	ok(idx.n_manifests == 2 && index_find_ref(&idx, "docker.io/library/x:1") >= 0 &&
	   !strcmp(idx.manifests[index_find_ref(&idx, "docker.io/library/x:1")].digest, D2),
	   "tag points at the new image");
	ok(index_has_digest(&idx, D1), "old image kept untagged");
	ok(index_set_ref(&idx, &a, "docker.io/library/y:1", old) == 1 && idx.n_manifests == 2,
	   "tagging the untagged image reuses its entry");
	ok(index_set_ref(&idx, &a, "docker.io/library/z:1", old) == 1 && idx.n_manifests == 3,
	   "second tag");
	ok(index_set_ref(&idx, &b, "docker.io/library/z:1", old) == 1 && !old[0] &&
	   idx.n_manifests == 3, "moving a tag off an image with other tags reports nothing");
	ok(index_remove_ref(&idx, "docker.io/library/nope:1", &gone) == -ENOENT, "unknown tag");
	ok(index_remove_ref(&idx, "docker.io/library/z:1", &gone) == 1 && !gone,
	   "untag, image still named");
	ok(index_remove_ref(&idx, "docker.io/library/x:1", &gone) == 1 && gone,
	   "untag the last name: image gone");
	ok(index_remove_digest(&idx, D1) == 1 && idx.n_manifests == 0, "remove by digest");
	ok(index_remove_digest(&idx, D1) == 0, "remove again: no change");
	index_free(&idx);
}

/* Is the blob present (a regular file in blobs/)? */
static bool has_blob(const struct store *s, const char *digest)
{
	uint64_t size;

	return store_blob_size(s, digest, &size) == 0;
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.' || (de->d_name[1] && de->d_name[1] != '.');
	if (d)
		closedir(d);
	return n;
}

static char root[64], blobs[128];

static void test_blobs(struct store *s)
{
	char digest[DIGEST_BUF], want[DIGEST_BUF], path[4096], *data;
	struct blob_writer *w;
	size_t len;
	int fd;

	digest_buf("hello", 5, want);
	ok(!strcmp(want, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
	   "sha256 of hello");
	ok(store_blob_begin(s, 0, &w, NULL) == 0 && store_blob_write(w, "hel", 3) == 0 &&
	   store_blob_write(w, "lo", 2) == 0, "stream a blob");
	ok(count_files(blobs) == 0, "nothing visible while writing");
	ok(store_blob_commit(w, D1, digest, NULL) == -EBADMSG && !strcmp(digest, want),
	   "commit with the wrong digest refused");
	ok(count_files(blobs) == 0 && !has_blob(s, want), "nothing left after a mismatch");
	ok(store_blob_begin(s, 0, &w, NULL) == 0 && store_blob_write(w, "junk", 4) == 0, "another writer");
	store_blob_abort(w);
	ok(count_files(blobs) == 0, "nothing left after abort");
	ok(store_blob_begin(s, 4, &w, NULL) == 0 && store_blob_write(w, "hello", 5) == -EFBIG,
	   "size limit enforced");
	store_blob_abort(w);
	ok(store_blob_put(s, "hello", 5, want, NULL, NULL) == 0 && has_blob(s, want) &&
	   count_files(blobs) == 1, "commit with the right digest");
	ok(store_blob_put(s, "hello", 5, want, NULL, NULL) == 0 && count_files(blobs) == 1,
	   "committing an existing blob again is fine");
	ok(store_blob_read(s, want, 100, &data, &len, NULL) == 0 && len == 5 && !memcmp(data, "hello", 5),
	   "read back verified");
	free(data);
	ok(store_blob_read(s, want, 4, &data, &len, NULL) == -EFBIG, "read bounded by max");
	ok(store_blob_verify(s, want, 5, NULL) == 0 && store_blob_verify(s, want, 6, NULL) == -EBADMSG,
	   "verify checks the size");

	/* damage it: reads and verification notice, a new commit repairs it */
	store_blob_path(s, want, path, sizeof(path));
	fd = open(path, O_WRONLY);
	ok(fd >= 0 && pwrite(fd, "J", 1, 0) == 1, "damage the blob");
	close(fd);
	ok(store_blob_read(s, want, 100, &data, &len, NULL) == -EBADMSG, "corrupt blob refused on read");
	ok(store_blob_verify(s, want, 5, NULL) == -EBADMSG, "corrupt blob refused by verify");
	ok(store_blob_put(s, "hello", 5, want, NULL, NULL) == 0 && store_blob_verify(s, want, 5, NULL) == 0,
	   "committing it again replaces the damaged copy");
	ok(store_blob_path(s, "sha256:../../etc", path, sizeof(path)) == -EINVAL,
	   "no path for an invalid digest");
}

/* A minimal image: one plain "layer", a config, a manifest. */
static void put_image(struct store *s, const char *layer, struct descriptor *md, char cdigest[DIGEST_BUF])
{
	char ldigest[DIGEST_BUF], config[1024], manifest[2048];

	digest_buf(layer, strlen(layer), ldigest);
	store_blob_put(s, layer, strlen(layer), NULL, NULL, NULL);
	snprintf(config, sizeof(config), "{\"architecture\":\"amd64\",\"os\":\"linux\","
		 "\"created\":\"2024-01-01T00:00:00Z\",\"config\":{\"Cmd\":[\"sh\"],"
		 "\"Env\":[\"PATH=/bin\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
		 ldigest);
	store_blob_put(s, config, strlen(config), NULL, cdigest, NULL);
	snprintf(manifest, sizeof(manifest), "{\"schemaVersion\":2,\"mediaType\":\"%s\","
		 "\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
		 "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
		 MT_OCI_MANIFEST, MT_OCI_CONFIG, cdigest, strlen(config), MT_OCI_LAYER, ldigest,
		 strlen(layer));
	store_blob_put(s, manifest, strlen(manifest), NULL, md->digest, NULL);
	md->media_type = (char *)MT_OCI_MANIFEST;
	md->size = strlen(manifest);
}

static void test_images(struct store *s)
{
	struct descriptor m1 = { 0 }, m2 = { 0 };
	char c1[DIGEST_BUF], c2[DIGEST_BUF], old[DIGEST_BUF], prefix[16], digest[DIGEST_BUF];
	char tag[512], *json;
	struct image *img;
	struct gc_result gc;
	size_t len;
	bool gone;

	put_image(s, "layer-one", &m1, c1);
	put_image(s, "layer-two", &m2, c2);
	ok(store_tag_add(s, "busybox", &m1, old, NULL) == 0 && !old[0], "tag busybox");
	ok(store_tag_add(s, "example.com/a/b:v1", &m2, old, NULL) == 0, "tag example.com/a/b:v1");
	ok(store_tag_add(s, "Bad:tag", &m2, old, NULL) == -EINVAL, "invalid tag refused");
	ok(read_file(AT_FDCWD, "index.json", 0, &json, &len) == -ENOENT ||
	   (free(json), 1), "no stray index.json in the cwd");

	ok(image_open(s, "busybox", &img, NULL) == 0, "open by short name");
	ok(!strcmp(img->config_digest, c1) && !strcmp(img->manifest_digest, m1.digest) &&
	   img->n_layers == 1 && img->layers[0].compression == COMPRESSION_NONE &&
	   img->size == strlen("layer-one"), "manifest, config and layer");
	ok(img->config.cmd && !strcmp(img->config.cmd[0], "sh") && img->config.env &&
	   !strcmp(img->config.env[0], "PATH=/bin"), "config fields");
	ok(img->tags && img->tags[0] && !strcmp(img->tags[0], "docker.io/library/busybox:latest") &&
	   !img->tags[1], "full tag listed");
	ok(img->layers[0].path && str_has_suffix(img->layers[0].path, digest_hex(img->layers[0].digest)) &&
	   access(img->layers[0].path, R_OK) == 0, "layer path exists");
	ok(image_layer_verify(img, 0, NULL) == 0, "layer verifies");
	ok(image_disk_path(img, 0, tag, sizeof(tag)) == 0 && strstr(tag, "/disks/") &&
	   str_has_suffix(tag, ".img"), "disk path %s", tag);
	image_close(img);

	ok(image_resolve(s, "docker.io/library/busybox:latest", digest, tag, sizeof(tag), NULL) == 0 &&
	   !strcmp(digest, m1.digest) && !strcmp(tag, "docker.io/library/busybox:latest"),
	   "resolve the full name");
	snprintf(prefix, sizeof(prefix), "%.12s", digest_hex(c2));
	ok(image_resolve(s, prefix, digest, tag, sizeof(tag), NULL) == 0 && !strcmp(digest, m2.digest) &&
	   !tag[0], "resolve a 12-digit ID");
	ok(image_resolve(s, c2, digest, NULL, 0, NULL) == 0 && !strcmp(digest, m2.digest),
	   "resolve sha256:<config>");
	ok(image_resolve(s, m1.digest, digest, NULL, 0, NULL) == 0 && !strcmp(digest, m1.digest),
	   "resolve sha256:<manifest>");
	snprintf(tag, sizeof(tag), "busybox@%s", m1.digest);
	ok(image_resolve(s, tag, digest, NULL, 0, NULL) == 0 && !strcmp(digest, m1.digest),
	   "resolve name@digest");
	ok(image_resolve(s, "nosuch", digest, NULL, 0, NULL) == -ENOENT, "unknown name");
	ok(image_resolve(s, "sha256:zz", digest, NULL, 0, NULL) == -EINVAL, "bad ID");
	ok(image_resolve(s, "UPPER", digest, NULL, 0, NULL) == -EINVAL, "invalid reference");
	ok(image_resolve(s, "abc", digest, NULL, 0, NULL) == -ENOENT, "3 hex digits are a name, not an ID");

	ok(store_tag_add(s, "busybox", &m2, old, NULL) == 0 && !strcmp(old, m1.digest),
	   "retag busybox: the old image is reported");
	ok(image_resolve(s, m1.digest, digest, NULL, 0, NULL) == 0, "old image still there, untagged");
	ok(store_tag_remove(s, "docker.io/library/busybox:latest", &gone, NULL) == 0 && !gone,
	   "untag busybox, the image keeps its other name");
	ok(store_image_remove(s, m1.digest, NULL) == 0, "remove the untagged image");
	/* its three blobs, and "hello" from test_blobs */
	ok(store_gc(s, 0, &gc, NULL) == 0 && gc.blobs == 4, "gc removes unreferenced blobs (%u)", gc.blobs);
	ok(has_blob(s, m2.digest) && has_blob(s, c2), "the other image's blobs stay");
	ok(image_open(s, "example.com/a/b:v1", &img, NULL) == 0, "other image still opens");
	image_close(img);

	/* a manifest whose layer is missing is not tagged */
	{
		struct descriptor m3 = { 0 };
		char c3[DIGEST_BUF], path[4096];

		put_image(s, "layer-three", &m3, c3);
		digest_buf("layer-three", 11, digest);
		store_blob_path(s, digest, path, sizeof(path));
		unlink(path);
		ok(store_tag_add(s, "incomplete", &m3, old, NULL) < 0, "an incomplete image is not tagged");
	}
}

static void test_diff_ids(void)
{
	static char plain[200000];
	unsigned char *gz, *zs;
	char want[DIGEST_BUF], got[DIGEST_BUF];
	struct diff_hasher *h;
	z_stream z = { 0 };
	size_t gzlen, zslen;
	uint64_t usize;

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (char)(i * 7 + i / 1000);
	digest_buf(plain, sizeof(plain), want);

	gz = malloc(2 * sizeof(plain) + 64);
	deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)plain;
	z.avail_in = sizeof(plain);
	z.next_out = gz;
	z.avail_out = 2 * sizeof(plain) + 64;
	deflate(&z, Z_FINISH);
	gzlen = z.total_out;
	deflateEnd(&z);
	ok(layer_sniff(gz, gzlen) == COMPRESSION_GZIP, "gzip sniffed");

	ok(diff_hasher_new(COMPRESSION_GZIP, &h) == 0, "gzip hasher");
	for (size_t off = 0; off < gzlen; off += 777)
		diff_hasher_update(h, gz + off, MIN((size_t)777, gzlen - off));
	ok(diff_hasher_final(h, got, &usize) == 0 && !strcmp(got, want) && usize == sizeof(plain),
	   "gzip diff_id in small pieces");
	diff_hasher_free(h);

	diff_hasher_new(COMPRESSION_GZIP, &h);
	diff_hasher_update(h, gz, gzlen - 10);
	ok(diff_hasher_final(h, got, NULL) == -EBADMSG, "truncated gzip noticed");
	diff_hasher_free(h);

	diff_hasher_new(COMPRESSION_GZIP, &h);
	gz[gzlen / 2] ^= 0x55;
	ok(diff_hasher_update(h, gz, gzlen) == -EBADMSG || diff_hasher_final(h, got, NULL) < 0 ||
	   strcmp(got, want), "corrupt gzip noticed");
	gz[gzlen / 2] ^= 0x55;
	diff_hasher_free(h);

	zs = malloc(ZSTD_compressBound(sizeof(plain)));
	zslen = ZSTD_compress(zs, ZSTD_compressBound(sizeof(plain)), plain, sizeof(plain), 3);
	ok(!ZSTD_isError(zslen) && layer_sniff(zs, zslen) == COMPRESSION_ZSTD, "zstd sniffed");
	diff_hasher_new(COMPRESSION_ZSTD, &h);
	for (size_t off = 0; off < zslen; off += 1000)
		diff_hasher_update(h, zs + off, MIN((size_t)1000, zslen - off));
	ok(diff_hasher_final(h, got, &usize) == 0 && !strcmp(got, want) && usize == sizeof(plain),
	   "zstd diff_id");
	diff_hasher_free(h);
	diff_hasher_new(COMPRESSION_ZSTD, &h);
	diff_hasher_update(h, zs, zslen - 5);
	ok(diff_hasher_final(h, got, NULL) == -EBADMSG, "truncated zstd noticed");
	diff_hasher_free(h);
	ok(layer_sniff("ustar", 5) == COMPRESSION_NONE, "plain");
	free(gz);
	free(zs);
}

/* Two processes tagging at once: every tag survives, index.json stays valid. */
static void test_concurrency(struct store *s)
{
	struct descriptor m = { 0 };
	char c[DIGEST_BUF], *json;
	struct oci_index idx;
	struct error e;
	size_t len;
	int status, fails = 0;
	pid_t pids[2];

	put_image(s, "shared-layer", &m, c);
	for (int p = 0; p < 2; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			struct store *cs;
			int bad = 0;

			if (store_open(root, &cs, NULL))
				_exit(1);
			for (int i = 0; i < 25; i++) {
				char ref[64];

				snprintf(ref, sizeof(ref), "proc%d:t%d", p, i);
				bad |= store_tag_add(cs, ref, &m, NULL, NULL) != 0;
			}
			store_close(cs);
			_exit(bad);
		}
	}
	for (int p = 0; p < 2; p++) {
		waitpid(pids[p], &status, 0);
		fails += !WIFEXITED(status) || WEXITSTATUS(status);
	}
	ok(fails == 0, "both writers succeeded");
	snprintf(blobs, sizeof(blobs), "%s/oci/index.json", root);
	ok(read_file(AT_FDCWD, blobs, 1 << 22, &json, &len) == 0 &&
	   index_parse(json, len, &idx, &e) == 0, "index.json is valid");
	{
		int found = 0;

		for (int p = 0; p < 2; p++) {
			for (int i = 0; i < 25; i++) {
				char ref[96];

				snprintf(ref, sizeof(ref), "docker.io/library/proc%d:t%d", p, i);
				found += index_find_ref(&idx, ref) >= 0;
			}
		}
		ok(found == 50, "all 50 tags present (%d)", found);
	}
	index_free(&idx);
	free(json);
	snprintf(blobs, sizeof(blobs), "%s/oci/blobs/sha256", root);
}

int main(void)
{
	struct store *s;
	char cmd[128];

	log_set_level(LOG_ERROR + (getenv("V") ? 3 : 0));
	test_index_ops();
	snprintf(root, sizeof(root), "/tmp/vmm-test-store.XXXXXX");
	if (!mkdtemp(root))
		return 1;
	snprintf(blobs, sizeof(blobs), "%s/oci/blobs/sha256", root);
	ok(store_open(root, &s, NULL) == 0, "store created in %s", root);
	snprintf(cmd, sizeof(cmd), "%s/oci/oci-layout", root);
	ok(access(cmd, R_OK) == 0, "oci-layout written");
	test_blobs(s);
	test_images(s);
	test_concurrency(s);
	store_close(s);
	test_diff_ids();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		return 1;
	return tap_done();
}
