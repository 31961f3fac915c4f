/*
 * A bundle's config.json as the engine container vmm runs (vmm/oci/bundle.c), on a real bundle
 * folder: the root folder, the process and its privileges, the engine's /etc files read into
 * the guest's own, folder binds and tmpfs kept, what the guest makes dropped; then one refused
 * input per mount kind, each an error that names it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/engine/container.h"
#include "vmm/oci/oci.h"
#include "tests/unit/tap.h"

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The bundle with mounts (a JSON array's inside) spliced in: 0 or the error, with cfg filled. */
static int convert(const char *mounts, struct container_config *cfg, struct error *e)
{
	char json[4096];
	struct oci_spec s;
	int n, ret;

	n = snprintf(json, sizeof(json),
		     "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
		     " \"hostname\": \"box\","
		     " \"process\": {\"args\": [\"sh\", \"-c\", \"true\"], \"cwd\": \"/srv\", \"env\": [\"A=1\"],"
		     "  \"user\": {\"uid\": 7, \"gid\": 8, \"additionalGids\": [9, 10]},"
		     "  \"capabilities\": {\"bounding\": [\"CAP_KILL\"], \"ambient\": [\"CAP_CHOWN\"]},"
		     "  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": 20}],"
		     "  \"noNewPrivileges\": true},"
		     " \"mounts\": [%s],"
		     " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}],"
		     "  \"resources\": {\"memory\": {\"limit\": 67108864}, \"pids\": {\"limit\": 50}}}}", mounts);
	err_clear(e);
	if ((ret = oci_spec_parse(json, (size_t)n, &s, e)))
		return ret;
	ret = oci_bundle_config(dir, &s, cfg, e);
	oci_spec_free(&s);
	return ret;
}

static void test_good(void)
{
	struct container_config c;
	struct error e = { 0 };
	char want[256];
	int ret;

	ret = convert("{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
		      "{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"},"
		      "{\"destination\": \"/dev/shm\", \"type\": \"bind\", \"source\": \"data\"},"
		      "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"data\", \"options\": [\"rbind\", \"ro\"]},"
		      "{\"destination\": \"/run/.containerenv\", \"type\": \"bind\", \"source\": \"hosts\"},"
		      "{\"destination\": \"/etc/hosts\", \"type\": \"bind\", \"source\": \"hosts\"},"
		      "{\"destination\": \"/etc/resolv.conf\", \"type\": \"bind\", \"source\": \"resolv\"},"
		      "{\"destination\": \"/scratch\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"size=1m\", \"mode=700\"]}",
		      &c, &e);
	ok(ret == 0, "a bundle with every mount kind converts (%s)", e.msg);
	if (ret)
		return;
	snprintf(want, sizeof(want), "%s/rootfs", dir);
	ok(c.rootfs && !strcmp(c.rootfs, want) && c.read_only && !strcmp(c.image_name, dir),
	   "the root folder, resolved, read-only; the bundle kept for state");
	ok(!strcmp(c.argv[2], "true") && !strcmp(c.env[0], "A=1") && !strcmp(c.workdir, "/srv") &&
	   !strcmp(c.user, "7:8") && !strcmp(c.groups[0], "9") && !strcmp(c.groups[1], "10") && !c.groups[2] &&
	   !strcmp(c.hostname, "box"), "the process: args, env, cwd, uid:gid, additional groups, hostname");
	ok(c.caps_set && c.caps[0] == 1ULL << 5 && c.caps[4] == 1ULL << 0 && c.caps[1] == 0 &&
	   c.rlimits && !strcmp(c.rlimits[0], "7 10 20") && c.no_new_privs,
	   "capability sets, rlimits as RESOURCE SOFT HARD, no_new_privs");
	ok(c.memory == 64 << 20 && c.vm_memory > c.memory && c.pids_limit == 50 && c.tty == false && c.interactive,
	   "memory limit and the guest's RAM above it, pids, stdin forwarded");
	ok(c.nmounts == 2 && c.mounts[0].type == MOUNT_BIND && !strcmp(c.mounts[0].target, "/data") &&
	   c.mounts[0].read_only && c.mounts[1].type == MOUNT_TMPFS && c.mounts[1].tmpfs_size == 1 << 20 &&
	   c.mounts[1].tmpfs_mode == 0700, "a folder bind and a tmpfs kept; /proc, /dev, /dev/shm and the marker dropped");
	ok(c.net.mode == NET_MODE_NONE && c.net.extra_hosts && !strcmp(c.net.extra_hosts[0], "web:10.1.2.3") &&
	   !strcmp(c.net.extra_hosts[1], "web.example:10.1.2.3") && !c.net.extra_hosts[2],
	   "/etc/hosts: a line per name, loopback and IPv6 left to the guest, a bad address or name dropped");
	ok(c.net.dns && !strcmp(c.net.dns[0], "10.1.2.1") && !c.net.dns[1] && c.net.dns_search &&
	   !strcmp(c.net.dns_search[0], "example.test") && !c.net.dns_search[1],
	   "/etc/resolv.conf: nameservers and search domains; a loopback or bad nameserver and a bad domain dropped");
	container_config_free(&c);
}

static void bad(const char *mounts, const char *want, const char *what)
{
	struct container_config c;
	struct error e = { 0 };
	int ret = convert(mounts, &c, &e);

	ok(ret < 0 && strstr(e.msg, want), "%s: refused (%s)", what, e.msg);
	if (!ret)
		container_config_free(&c);
}

static void test_bad(void)
{
	char many[2048] = "";

	bad("{\"destination\": \"/etc/app.conf\", \"type\": \"bind\", \"source\": \"hosts\"}",
	    "mounts[0]: hosts is a file: a micro-VM shares folders only", "a single-file bind elsewhere");
	bad("{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"nothing\"}", "mounts[0]: source ",
	    "a bind of a missing source");
	bad("{\"destination\": \"/x\", \"type\": \"sysfs\", \"source\": \"sysfs\"}",
	    "mounts[0]: sysfs at /x: the guest makes its own sysfs only at its usual place", "sysfs away from /sys");
	bad("{\"destination\": \"/t\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"mode=99\"]}",
	    "mounts[0].options: mode=99: want an octal mode", "a tmpfs mode that is not octal");
	bad("{\"destination\": \"/t\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"size=0\"]}",
	    "mounts[0].options: size=0: want a size", "a tmpfs of size 0");
	for (int i = 0; i < 9; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 "%s{\"destination\": \"/t%d\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}", i ? "," : "", i);
	bad(many, "mounts[8]: at most 8 bind and tmpfs mounts", "a ninth mount");
}

int main(void)
{
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/vmm-oci-bundle.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/rootfs", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/data", dir);
	mkdir(path, 0755);
	put("hosts", "127.0.0.1 localhost\n::1 localhost\n10.1.2.3\tweb web.example # the app\n"
	    "999.1.1.1 badip\n10.1.2.4 bad/name\n");
	put("resolv", "search example.test bad/domain\nnameserver 10.1.2.1\nnameserver 127.0.0.53\n"
	    "nameserver not-an-address\noptions ndots:2\n");
	test_good();
	test_bad();
	remove_tree(AT_FDCWD, dir);
	return tap_done();
}
