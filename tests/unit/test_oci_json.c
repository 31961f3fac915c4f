/* Manifest, index and config validation: good documents parse, hostile ones are refused. */
#include <string.h>

#include "images/oci/spec.h"
#include "tests/unit/tap.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

#define CFG_DESC "{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"" D1 "\",\"size\":100}"
#define LAYER(mt, d) "{\"mediaType\":\"" mt "\",\"digest\":\"" d "\",\"size\":5}"

static int manifest(const char *s, struct manifest *m, struct error *e)
{
	return manifest_parse(s, strlen(s), m, e);
}

static void bad_manifest(const char *s, const char *want, const char *what)
{
	struct manifest m;
	struct error e = { 0 };
	int ret = manifest(s, &m, &e);

	ok(ret < 0 && strstr(e.msg, want), "manifest refused: %s (%s)", what, e.msg);
	if (!ret)
		manifest_free(&m);
}

static void test_manifest(void)
{
	struct manifest m;
	struct error e = { 0 };
	char *out;
	const char *good = "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
		"\"config\":" CFG_DESC ",\"layers\":[" LAYER(MT_OCI_LAYER_GZIP, D2) ","
		LAYER(MT_DOCKER_LAYER_GZIP, D3) "," LAYER(MT_OCI_LAYER_ZSTD, D2) "],"
		"\"annotations\":{\"a\":\"b\"}}";
	enum compression c;

	ok(manifest(good, &m, &e) == 0, "OCI manifest parses (%s)", e.msg);
	ok(m.n_layers == 3 && !strcmp(m.layers[1].digest, D3) && m.layers[0].size == 5,
	   "three layers with digests and sizes");
	ok(!strcmp(m.config.digest, D1) && m.config.size == 100, "config descriptor");
	ok(media_type_kind(m.layers[1].media_type, &c) == MEDIA_LAYER && c == COMPRESSION_GZIP,
	   "docker gzip layer media type");
	ok(media_type_kind(m.layers[2].media_type, &c) == MEDIA_LAYER && c == COMPRESSION_ZSTD,
	   "zstd layer media type");
	out = manifest_to_json(&m);
	manifest_free(&m);
	ok(out && manifest(out, &m, &e) == 0 && m.n_layers == 3, "serialized manifest parses again");
	if (out)
		manifest_free(&m);
	free(out);

	ok(manifest("{\"schemaVersion\":2,\"config\":" CFG_DESC ",\"layers\":[]}", &m, &e) == 0 &&
	   !strcmp(m.media_type, MT_OCI_MANIFEST) && m.n_layers == 0,
	   "mediaType may be absent; no layers is fine");
	manifest_free(&m);

	bad_manifest("", "malformed", "empty");
	bad_manifest("{\"schemaVersion\":2,", "malformed", "truncated");
	bad_manifest("[1,2]", "object", "an array");
	bad_manifest("{\"schemaVersion\":2} x", "after the document", "trailing garbage");
	bad_manifest("{\"schemaVersion\":1,\"config\":" CFG_DESC ",\"layers\":[]}", "schemaVersion",
		     "schema 1");
	bad_manifest("{\"schemaVersion\":\"2\",\"config\":" CFG_DESC ",\"layers\":[]}", "integer",
		     "schemaVersion as a string");
	bad_manifest("{\"schemaVersion\":2,\"layers\":[]}", "config", "no config");
	bad_manifest("{\"schemaVersion\":2,\"config\":" CFG_DESC "}", "layers", "no layers");
	bad_manifest("{\"schemaVersion\":2,\"config\":" CFG_DESC ",\"layers\":{}}", "array",
		     "layers as an object");
	bad_manifest("{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"config\":" CFG_DESC
		     ",\"layers\":[]}", "index", "an index media type");
	bad_manifest("{\"schemaVersion\":2,\"manifests\":[]}", "index", "an index body");
	bad_manifest("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.cncf.helm."
		     "config.v1+json\",\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}",
		     "unsupported config media type", "a helm chart");
	bad_manifest("{\"schemaVersion\":2,\"config\":" CFG_DESC ",\"layers\":["
		     LAYER("application/vnd.oci.image.layer.v1.tar+bzip2", D2) "]}",
		     "unsupported layer media type", "bzip2 layer");
	bad_manifest("{\"schemaVersion\":2,\"config\":" CFG_DESC ",\"layers\":["
		     "{\"mediaType\":\"" MT_OCI_LAYER "\",\"digest\":\"sha256:abc\",\"size\":1}]}",
		     "invalid digest", "short digest");
	bad_manifest("{\"schemaVersion\":2,\"config\":" CFG_DESC ",\"layers\":["
		     "{\"mediaType\":\"" MT_OCI_LAYER "\",\"digest\":\"sha512:abc\",\"size\":1}]}",
		     "unsupported algorithm", "sha512 digest");
	bad_manifest("{\"schemaVersion\":2,\"config\":" CFG_DESC ",\"layers\":["
		     "{\"mediaType\":\"" MT_OCI_LAYER "\",\"digest\":\"" D2 "\",\"size\":-1}]}",
		     "out of range", "negative size");
	bad_manifest("{\"schemaVersion\":2,\"config\":" CFG_DESC ",\"layers\":["
		     "{\"mediaType\":\"" MT_OCI_LAYER "\",\"digest\":\"" D2 "\",\"size\":1.5}]}",
		     "integer", "fractional size");
	bad_manifest("{\"schemaVersion\":2,\"config\":" CFG_DESC ",\"layers\":["
		     "{\"mediaType\":\"" MT_OCI_LAYER "\",\"digest\":\"" D2 "\","
		     "\"size\":99999999999999999999}]}", "out of range", "huge size");
	bad_manifest("{\"schemaVersion\":2,\"config\":" CFG_DESC ",\"layers\":["
		     "{\"mediaType\":\"" MT_OCI_LAYER "\",\"digest\":\"" D2 "\"}]}", "size",
		     "missing size");
	bad_manifest("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\""
		     D1 "\",\"size\":100000000},\"layers\":[]}", "config larger", "huge config");
	bad_manifest("{\"schemaVersion\":2,\"config\":" CFG_DESC ",\"layers\":[],"
		     "\"annotations\":{\"a\":1}}", "string", "annotation value not a string");
	bad_manifest("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"app\\u0000x\",\"digest\":\""
		     D1 "\",\"size\":1},\"layers\":[]}", "NUL", "NUL in a media type");
	{
		/* nesting deeper than the parser allows */
		char deep[400];
		size_t n = 0;

		n += snprintf(deep, sizeof(deep), "{\"schemaVersion\":2,\"x\":");
		for (int i = 0; i < 100; i++)
			deep[n++] = '[';
		deep[n] = '\0';
		bad_manifest(deep, "malformed", "nesting depth");
	}
}

static void test_index(void)
{
	struct oci_index idx;
	struct error e = { 0 };
	const char *s = "{\"schemaVersion\":2,\"manifests\":["
		"{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":10,"
		"\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
		"{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":11,"
		"\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"},"
		"\"annotations\":{\"" ANNOT_REF_NAME "\":\"docker.io/library/x:1\"}}]}";
	char *out;

	ok(index_parse(s, strlen(s), &idx, &e) == 0 && idx.n_manifests == 2, "index parses (%s)",
	   e.msg);
	ok(idx.manifests[1].ref_name && !strcmp(idx.manifests[1].ref_name, "docker.io/library/x:1"),
	   "ref.name annotation read");
	ok(!strcmp(idx.manifests[0].platform_arch, "arm64") &&
	   !strcmp(idx.manifests[0].platform_variant, "v8"), "platform read");
	ok(!platform_supported(idx.manifests[0].platform_os, idx.manifests[0].platform_arch) &&
	   platform_supported(idx.manifests[1].platform_os, idx.manifests[1].platform_arch),
	   "only linux/amd64 is supported");
	out = index_to_json(&idx);
	index_free(&idx);
	ok(out && index_parse(out, strlen(out), &idx, &e) == 0 && idx.n_manifests == 2 &&
	   !strcmp(idx.manifests[1].ref_name, "docker.io/library/x:1") && idx.manifests[0].size == 10,
	   "serialized index parses back the same");
	if (out)
		index_free(&idx);
	free(out);

	s = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" D1 "\","
	    "\"size\":1,\"platform\":{\"os\":\"linux\"}}]}";
	ok(index_parse(s, strlen(s), &idx, &e) < 0 && strstr(e.msg, "architecture"),
	   "platform without architecture refused (%s)", e.msg);
	s = "{\"schemaVersion\":2}";
	ok(index_parse(s, strlen(s), &idx, &e) < 0 && strstr(e.msg, "manifests"),
	   "index without manifests refused");
	s = "{\"schemaVersion\":2,\"manifests\":[1]}";
	ok(index_parse(s, strlen(s), &idx, &e) < 0 && strstr(e.msg, "object"),
	   "non-object entry refused");
	s = "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"manifests\":[]}";
	ok(index_parse(s, strlen(s), &idx, &e) < 0, "manifest media type on an index refused");
}

static int config(const char *s, struct image_config *c, struct error *e)
{
	return config_parse(s, strlen(s), c, e);
}

#define CFG_HEAD "{\"architecture\":\"amd64\",\"os\":\"linux\","
#define ROOTFS "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}"

static void bad_config(const char *s, const char *want, const char *what)
{
	struct image_config c;
	struct error e = { 0 };
	int ret = config(s, &c, &e);

	ok(ret < 0 && strstr(e.msg, want), "config refused: %s (%s)", what, e.msg);
	if (!ret)
		config_free(&c);
}

static void test_config(void)
{
	struct image_config c;
	struct error e = { 0 };
	const char *good = CFG_HEAD "\"created\":\"2024-01-02T03:04:05.123456789Z\","
		"\"config\":{\"User\":\"1000:1000\",\"Env\":[\"PATH=/bin\",\"A=b=c\"],"
		"\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":null,\"WorkingDir\":\"/srv\","
		"\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{},\"8080\":{}},\"Labels\":{\"k\":\"v\"},"
		"\"Volumes\":{\"/data\":{}},\"StopSignal\":\"SIGTERM\"},"
		ROOTFS ",\"history\":[{\"created_by\":\"a\"},{\"created_by\":\"b\",\"empty_layer\":true},"
		"{\"created_by\":\"c\",\"comment\":\"x\"}]}";

	ok(config(good, &c, &e) == 0, "config parses (%s)", e.msg);
	ok(c.created_time == 1704164645, "created time %lld", (long long)c.created_time);
	ok(c.entrypoint && !strcmp(c.entrypoint[0], "/bin/sh") && !strcmp(c.entrypoint[1], "-c") &&
	   !c.entrypoint[2], "Entrypoint");
	ok(c.cmd == NULL, "Cmd null is unset");
	ok(c.env && !strcmp(c.env[1], "A=b=c") && !c.env[2], "Env");
	ok(!strcmp(c.user, "1000:1000") && !strcmp(c.working_dir, "/srv"), "User and WorkingDir");
	ok(c.n_ports == 3 && c.ports[0].port == 80 && !strcmp(c.ports[0].proto, "tcp") &&
	   c.ports[1].port == 53 && !strcmp(c.ports[1].proto, "udp") &&
	   !strcmp(c.ports[2].proto, "tcp"), "ExposedPorts");
	ok(c.label_keys && !strcmp(c.label_keys[0], "k") && !strcmp(c.label_values[0], "v"), "Labels");
	ok(c.volumes && !strcmp(c.volumes[0], "/data"), "Volumes");
	ok(c.diff_ids && !strcmp(c.diff_ids[1], D2) && !c.diff_ids[2], "diff_ids");
	ok(c.n_history == 3 && c.history[1].empty_layer && !strcmp(c.history[2].comment, "x"),
	   "history");
	config_free(&c);

	ok(config(CFG_HEAD "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", &c, &e) == 0 &&
	   c.diff_ids && !c.diff_ids[0] && !c.env && !c.created_time, "minimal config");
	config_free(&c);

	bad_config("{\"os\":\"linux\"," ROOTFS "}", "architecture", "no architecture");
	bad_config(CFG_HEAD "\"config\":{}}", "rootfs", "no rootfs");
	bad_config(CFG_HEAD "\"rootfs\":{\"type\":\"tar\",\"diff_ids\":[]}}", "layers", "rootfs type");
	bad_config(CFG_HEAD "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"x\"]}}", "digest",
		   "bad diff_id");
	bad_config(CFG_HEAD "\"config\":{\"Env\":\"A=B\"}," ROOTFS "}", "array", "Env string");
	bad_config(CFG_HEAD "\"config\":{\"Env\":[1]}," ROOTFS "}", "string", "Env number");
	bad_config(CFG_HEAD "\"config\":{\"Env\":[\"NOEQUALS\"]}," ROOTFS "}", "KEY=value",
		   "Env without =");
	bad_config(CFG_HEAD "\"config\":{\"Env\":[\"=x\"]}," ROOTFS "}", "KEY=value", "Env empty key");
	bad_config(CFG_HEAD "\"config\":{\"Cmd\":[\"a\\u0000b\"]}," ROOTFS "}", "NUL", "NUL in Cmd");
	bad_config(CFG_HEAD "\"config\":{\"ExposedPorts\":{\"0/tcp\":{}}}," ROOTFS "}", "range", "port 0");
	bad_config(CFG_HEAD "\"config\":{\"ExposedPorts\":{\"70000/tcp\":{}}}," ROOTFS "}", "range",
		   "port 70000");
	bad_config(CFG_HEAD "\"config\":{\"ExposedPorts\":{\"80/icmp\":{}}}," ROOTFS "}", "protocol",
		   "unknown protocol");
	bad_config(CFG_HEAD "\"config\":{\"ExposedPorts\":{\"http\":{}}}," ROOTFS "}", "invalid port",
		   "named port");
	bad_config(CFG_HEAD "\"config\":{\"Labels\":{\"a\":[]}}," ROOTFS "}", "string", "label array");
	bad_config(CFG_HEAD "\"config\":{\"User\":5}," ROOTFS "}", "string", "User number");
	bad_config(CFG_HEAD "\"created\":\"yesterday\"," ROOTFS "}", "RFC 3339", "created");
	bad_config(CFG_HEAD ROOTFS ",\"history\":[1]}", "object", "history entry");
	bad_config(CFG_HEAD ROOTFS ",\"history\":[{\"empty_layer\":\"yes\"}]}", "true or false",
		   "empty_layer string");
	bad_config(CFG_HEAD "\"config\":[]," ROOTFS "}", "object", "config array");
}

static void test_time(void)
{
	int64_t t;

	ok(rfc3339_parse("1970-01-01T00:00:00Z", &t) == 0 && t == 0, "epoch");
	ok(rfc3339_parse("2024-01-01T02:00:00+02:00", &t) == 0 && t == 1704067200, "offset +02:00");
	ok(rfc3339_parse("2023-12-31T23:00:00.5-01:00", &t) == 0 && t == 1704067200,
	   "fraction and negative offset");
	ok(rfc3339_parse("2024-01-01", &t) < 0, "date only refused");
	ok(rfc3339_parse("2024-13-01T00:00:00Z", &t) < 0, "month 13 refused");
	ok(rfc3339_parse("2024-01-01T00:00:00", &t) < 0, "no zone refused");
	ok(rfc3339_parse("2024-01-01T00:00:00Zjunk", &t) < 0, "trailing junk refused");
}

int main(void)
{
	test_manifest();
	test_index();
	test_config();
	test_time();
	return tap_done();
}
