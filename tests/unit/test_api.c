/* The Engine API's request side: versioned paths, routes, and create bodies (hostile input). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/api/api.h"
#include "vmm/api/create-decode.h"
#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/base/json.h"

static void test_versions(void)
{
	struct error e = { 0 };
	const char *path;
	char ver[16];

	ok(api_split_version("/v1.41/containers/json", &path, ver, &e) == 0 &&
	   !strcmp(path, "/containers/json") && !strcmp(ver, "1.41"), "/v1.41/containers/json: path and version");
	ok(api_split_version("/_ping", &path, ver, &e) == 0 && !strcmp(path, "/_ping") && !ver[0],
	   "an unversioned path is served as is");
	ok(api_split_version("/version", &path, ver, &e) == 0 && !strcmp(path, "/version"),
	   "/version is a path, not a version prefix");
	ok(api_split_version("/v1.24", &path, ver, &e) == 0 && !strcmp(path, "/"), "/v1.24 alone is /");
	ok(api_split_version("/v1.99/info", &path, ver, &e) == -ERANGE && strstr(e.msg, "1.99"),
	   "a version above ours is refused, naming it: %s", e.msg);
	ok(api_split_version("/v1.12/info", &path, ver, &e) == -ERANGE, "a version below 1.24 is refused");
	ok(api_split_version("/v1.x/info", &path, ver, &e) == -EINVAL, "/v1.x is not a version");
	ok(api_split_version("/v1.41junk/info", &path, ver, &e) == -EINVAL, "trailing junk after the version");
	ok(api_split_version("/v99999999999999999999.1/info", &path, ver, &e) == -EINVAL,
	   "an overlong version is refused");
}

static void test_routes(void)
{
	const char *args[API_ARGS_MAX];
	const struct api_route *r;
	char buf[256];
	bool known;

	ok(api_route_match("/containers/{}/json", "/containers/abc/json", buf, sizeof(buf), args) &&
	   !strcmp(args[0], "abc"), "{} takes one segment");
	ok(!api_route_match("/containers/{}/json", "/containers//json", buf, sizeof(buf), args),
	   "an empty segment is no ID");
	ok(!api_route_match("/containers/{}/json", "/containers/a/b/json", buf, sizeof(buf), args),
	   "{} takes one segment only");
	ok(api_route_match("/images/{*}/json", "/images/localhost:5000/a/b:1.0/json", buf, sizeof(buf), args) &&
	   !strcmp(args[0], "localhost:5000/a/b:1.0"), "{*} takes an image reference with slashes");
	ok(!api_route_match("/images/{*}/json", "/images/json", buf, sizeof(buf), args),
	   "/images/json is not an image named ''");
	ok(api_route_match("/images/{*}", "/images/a/b", buf, sizeof(buf), args) && !strcmp(args[0], "a/b"),
	   "a trailing {*} takes the rest");
	ok(api_route_match("/info", "/info/", buf, sizeof(buf), args), "a trailing slash is the same path");
	ok(!api_route_match("/containers/{}/json", "/containers/abc/json", buf, 3, args),
	   "an argument that does not fit the buffer is no match");
	r = api_route_find("GET", "/images/busybox:latest/json", buf, sizeof(buf), args, &known);
	ok(r && r->fn == api_image_inspect && !strcmp(args[0], "busybox:latest"), "GET /images/NAME/json");
	r = api_route_find("DELETE", "/images/busybox:latest/json", buf, sizeof(buf), args, &known);
	ok(r && r->fn == api_image_delete && !strcmp(args[0], "busybox:latest/json"),
	   "DELETE /images/{*} takes it all (docker's rule too)");
	r = api_route_find("POST", "/images/localhost:5000/a/b/push", buf, sizeof(buf), args, &known);
	ok(r && r->fn == api_image_push && !strcmp(args[0], "localhost:5000/a/b"),
	   "POST /images/NAME/push (the tag comes as ?tag=)");
	r = api_route_find("HEAD", "/containers/web/archive", buf, sizeof(buf), args, &known);
	ok(r && r->fn == api_container_archive_get && !strcmp(args[0], "web"), "HEAD /containers/ID/archive: the stat");
	r = api_route_find("PUT", "/containers/web/archive", buf, sizeof(buf), args, &known);
	ok(r && r->fn == api_container_archive_put && (r->flags & API_ROUTE_UPLOAD),
	   "PUT /containers/ID/archive: its tar is spooled, not held in memory");
	r = api_route_find("PUT", "/containers/create", buf, sizeof(buf), args, &known);
	ok(!r && known, "a known path with another method: 405, not 404");
	r = api_route_find("GET", "/swarm", buf, sizeof(buf), args, &known);
	ok(!r && !known, "an unknown path: 404");
	r = api_route_find("HEAD", "/_ping", buf, sizeof(buf), args, &known);
	ok(r && r->fn == api_ping, "HEAD /_ping (the CLI's first request)");
}

static json_object *parse(const char *s)
{
	struct error e = { 0 };
	json_object *o = json_parse_object(s, strlen(s), &e);

	if (!o)
		ok(0, "parse: %s", e.msg);
	return o;
}

static int decode(const char *body, struct api_create *a, struct error *e)
{
	json_object *o = parse(body);
	int ret;

	memset(a, 0, sizeof(*a));
	ret = o ? api_decode_create(o, NULL, a, e) : -EINVAL;

	json_object_put(o);
	return ret;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);

	if (f && buf)
		buf[fread(buf, 1, (1 << 16) - 1, f)] = 0;
	if (f)
		fclose(f);
	return buf;
}

/* What `docker create --name web -e A=1 -e B -p 127.0.0.1:8080:80 -p 9000 -v /data
 * -v /tmp:/host:ro --tmpfs /run:size=1m -m 64m --cpus 1.5 --pids-limit 50 --entrypoint sh
 * busybox -c 'echo hi'` sends (docker CLI 28). */
static void test_docker_cli_body(void)
{
	char *body = slurp("tests/fuzz/seeds/api_request/docker-cli-create.json");
	json_object *o = parse(body);
	struct error e = { 0 };
	struct api_create a;
	int ret;

	ret = o ? api_decode_create(o, "web", &a, &e) : -1;
	ok(ret == 0, "the docker CLI's create body decodes: %s", e.msg);
	if (!ret) {
		ok(!strcmp(a.c.image, "busybox") && !strcmp(a.c.name, "web"), "Image and ?name");
		ok(!strcmp(a.c.entrypoint, "sh") && a.c.cmd && !strcmp(a.c.cmd[0], "-c") &&
		   !strcmp(a.c.cmd[1], "echo hi") && !a.c.cmd[2], "Entrypoint and Cmd");
		ok(a.c.env && !strcmp(a.c.env[0], "A=1") && !a.c.env[1],
		   "Env: A=1 kept; a bare B (unset at the client) dropped, never read from the service");
		ok(a.c.memory == 64 << 20 && a.c.cpus == 1.5 && a.c.pids_limit == 50, "Memory, NanoCpus, PidsLimit");
		ok(a.c.net->nports == 2 && a.c.net->ports[0].host_port == 8080 &&
		   !strcmp(a.c.net->ports[0].host_ip, "127.0.0.1") && a.c.net->ports[0].container_port == 80,
		   "PortBindings: 127.0.0.1:8080:80 and 9000 (%zu ports)", (size_t)a.c.net->nports);
		ok(a.c.nmounts == 3, "Volumes /data, Binds /tmp:/host:ro and Tmpfs /run: %u mounts", a.c.nmounts);
		ok(!a.c.workdir && !a.c.user && !a.c.hostname, "empty strings are docker's 'not set'");
		api_create_free(&a);
	}
	json_object_put(o);
	free(body);
}

static void expect_refused(const char *body, const char *want)
{
	struct error e = { 0 };
	struct api_create a;
	int ret = decode(body, &a, &e);

	ok(ret == -EINVAL && strstr(e.msg, want), "%s: refused, naming %s (%s)", body, want, e.msg);
	api_create_free(&a);
}

static void test_hostile_bodies(void)
{
	expect_refused("{}", "Image");
	expect_refused("{\"Image\":\"\"}", "Image");
	expect_refused("{\"Image\":5}", "Image");
	expect_refused("{\"Image\":\"b\",\"Cmd\":5}", "Cmd");
	expect_refused("{\"Image\":\"b\",\"Cmd\":[\"a\",7]}", "Cmd");
	expect_refused("{\"Image\":\"b\",\"Env\":\"A=1\"}", "Env");
	expect_refused("{\"Image\":\"b\",\"Tty\":\"yes\"}", "Tty");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":[]}", "HostConfig");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":{\"Memory\":-1}}", "Memory");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":{\"Memory\":1.5}}", "Memory");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":{\"Privileged\":true}}", "Privileged");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":{\"PidMode\":\"host\"}}", "PidMode");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":{\"NetworkMode\":\"host\"}}", "NetworkMode");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":{\"NetworkMode\":\"container:x\"}}", "NetworkMode");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":{\"Devices\":[{\"PathOnHost\":\"/dev/sda\"}]}}", "Devices");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":{\"Binds\":[\"relative:/x:zz\"]}}", "Binds[0]");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":{\"PortBindings\":{\"80/tcp\":[{\"HostPort\":\"99999\"}]}}}",
		       "PortBindings");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":{\"PortBindings\":{\"80/tcp\":{}}}}", "PortBindings");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Target\":\"/x\","
		       "\"Source\":\"/a,readonly=false\"}]}}", "Mounts[0]");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":{\"Dns\":[\"not-an-ip\"]}}", "Dns");
	{	/* a Source that would not fit the spec is refused, never cut (the Target would go) */
		char body[12000];
		int n = snprintf(body, sizeof(body), "{\"Image\":\"b\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\","
				 "\"Target\":\"/x\",\"Source\":\"/");

		memset(body + n, 'a', 9000);
		snprintf(body + n + 9000, sizeof(body) - n - 9000, "\"}]}}");
		expect_refused(body, "too long");
	}
	expect_refused("{\"Image\":\"b\",\"MacAddress\":\"zz\"}", "MacAddress");
	expect_refused("{\"Image\":\"b\",\"NetworkingConfig\":{\"EndpointsConfig\":{\"n1\":{},\"n2\":"
		       "{\"IPAMConfig\":{\"IPv4Address\":\"10.1.0.300\"}}}}}", "n2.IPAMConfig.IPv4Address");
	expect_refused("{\"Image\":\"b\",\"HostConfig\":{\"NetworkMode\":\"n1\"},\"NetworkingConfig\":"
		       "{\"EndpointsConfig\":{\"n1\":{},\"bridge\":{}}}}", "bridge");
	expect_refused("{\"Image\":\"b\",\"NetworkingConfig\":{\"EndpointsConfig\":{\"n1\":{\"Aliases\":[\"a b\"]}}}}",
		       "Aliases");
	expect_refused("{\"Image\":\"b\",\"NetworkingConfig\":{\"EndpointsConfig\":{\"n1\":{\"Aliases\":[3]}}}}",
		       "Aliases[0]");
	expect_refused("{\"Image\":\"b\",\"NetworkingConfig\":{\"EndpointsConfig\":{\"n1\":{\"IPAMConfig\":"
		       "{\"IPv4Address\":\"1.2.3\"}}}}}", "IPAMConfig");
}

/* API 1.44: several EndpointsConfig entries put the container on several networks. */
static void test_networks(void)
{
	struct error e = { 0 };
	struct api_create a;
	int ret = decode("{\"Image\":\"b\",\"NetworkingConfig\":{\"EndpointsConfig\":{\"n1\":{\"Aliases\":[\"web\"]},"
			 "\"n2\":{\"Aliases\":[\"api\"],\"IPAMConfig\":{\"IPv4Address\":\"10.1.0.5\"}}}}}", &a, &e);

	ok(ret == 0 && a.c.net->network && !strcmp(a.c.net->network, "n1") && a.c.net->more &&
	   !strcmp(a.c.net->more[0], "n2=10.1.0.5") && !a.c.net->more[1] && !a.c.net->ip,
	   "two endpoints: the first network, then n2 with its address (%s)", ret ? e.msg : "");
	ok(ret == 0 && strv_len(a.c.net->aliases) == 2, "... with both endpoints' aliases");
	api_create_free(&a);
}

static void test_entrypoint_forms(void)
{
	struct error e = { 0 };
	struct api_create a;

	ok(decode("{\"Image\":\"b\",\"Entrypoint\":\"/bin/sh\",\"Cmd\":\"-c\"}", &a, &e) == 0 &&
	   !strcmp(a.c.entrypoint, "/bin/sh") && !strcmp(a.c.cmd[0], "-c"), "Entrypoint and Cmd as strings");
	api_create_free(&a);
	ok(decode("{\"Image\":\"b\",\"Entrypoint\":[\"\"]}", &a, &e) == 0 && !strcmp(a.c.entrypoint, ""),
	   "Entrypoint [\"\"] clears the image's (docker --entrypoint '')");
	api_create_free(&a);
	ok(decode("{\"Image\":\"b\",\"Entrypoint\":null,\"Cmd\":null}", &a, &e) == 0 && !a.c.entrypoint && !a.c.cmd,
	   "null Entrypoint and Cmd: the image's");
	api_create_free(&a);
	ok(decode("{\"Image\":\"b\",\"Volumes\":{\"/data/\":{},\"/anon\":{}},\"HostConfig\":{\"Binds\":[\"vol:/data\"]}}",
		  &a, &e) == 0 && a.c.nmounts == 2, "Volumes: a path Binds mounts on is the bind's (compose sends both): %s",
	   e.msg);
	api_create_free(&a);
	ok(decode("{\"Image\":\"b\",\"OpenStdin\":true,\"StdinOnce\":true,\"HostConfig\":{\"Mounts\":[{\"Type\":"
		  "\"volume\",\"Source\":\"vol\",\"Target\":\"/d\",\"VolumeOptions\":{\"NoCopy\":true}}]}}", &a, &e) == 0 &&
	   a.c.interactive && a.c.stdin_once && a.mounts.nspecs == 1 && a.mounts.specs[0].nocopy,
	   "OpenStdin, StdinOnce, and a volume's VolumeOptions.NoCopy (docker run -i, --mount ...,volume-nocopy): %s",
	   e.msg);
	api_create_free(&a);
	ok(decode("{\"Image\":\"b\",\"HostConfig\":{\"NetworkMode\":\"none\",\"PidsLimit\":-1}}", &a, &e) == 0 &&
	   a.c.net->mode == NET_MODE_NONE && a.c.pids_limit == 0, "NetworkMode none; PidsLimit -1 is no limit");
	api_create_free(&a);
}

int main(void)
{
	test_versions();
	test_routes();
	test_docker_cli_body();
	test_hostile_bodies();
	test_networks();
	test_entrypoint_forms();
	return tap_done();
}
