/*
 * config.json of an OCI bundle (vmm/oci/spec.c): runc's own default spec (from `runc spec`,
 * when runc is installed) and a full one map to what vmm honours; then one malformed or refused
 * input per field kind, each an error that names its field.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "vmm/base/error.h"
#include "vmm/base/strv.h"
#include "vmm/base/util.h"
#include "vmm/oci/spec.h"
#include "tests/unit/tap.h"

/* A full spec; %s is spliced into "linux" (namespaces and the rest come after it). */
static const char full[] =
	"{\"ociVersion\": \"1.1.0\", \"hostname\": \"box\","
	" \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
	" \"process\": {\"terminal\": true, \"user\": {\"uid\": 1000, \"gid\": 100, \"umask\": 18,"
	"   \"additionalGids\": [10, 20]}, \"args\": [\"sh\", \"-c\", \"echo hi\"],"
	"   \"env\": [\"PATH=/bin\", \"TERM=xterm\"], \"cwd\": \"/work\","
	"   \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"], \"effective\": [\"CAP_KILL\"]},"
	"   \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 4096, \"soft\": 1024}],"
	"   \"noNewPrivileges\": true, \"apparmorProfile\": \"docker-default\"},"
	" \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
	"   {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/srv/data\", \"options\": [\"rbind\", \"ro\"]},"
	"   {\"destination\": \"/cache\", \"source\": \"/var/cache/x\", \"options\": [\"bind\"]},"
	"   {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", \"size=64m\"]}],"
	" \"hooks\": {\"prestart\": [{\"path\": \"/usr/bin/netns-hook\", \"args\": [\"netns-hook\", \"up\"], \"timeout\": 5}],"
	"   \"poststop\": [{\"path\": \"/bin/true\"}]},"
	" \"linux\": {%s \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\", \"path\": \"/var/run/netns/cni-1\"},"
	"   {\"type\": \"mount\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}],"
	"   \"sysctl\": {\"net.ipv4.ip_forward\": \"1\", \"kernel.shmmax\": \"65536\"},"
	"   \"resources\": {\"memory\": {\"limit\": 268435456, \"swap\": 268435456}, \"cpu\": {\"quota\": 150000, \"period\": 100000,"
	"     \"shares\": 1024}, \"pids\": {\"limit\": 100}, \"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},"
	"   \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\"}, \"maskedPaths\": [\"/proc/kcore\"]}}";

static int parse_with(const char *linux_extra, const char *from, const char *to, struct oci_spec *s, struct error *e)
{
	char buf[8192], *at;
	int n = snprintf(buf, sizeof(buf), full, linux_extra);

	if (from && (at = strstr(buf, from))) {
		char rest[8192];

		snprintf(rest, sizeof(rest), "%s", at + strlen(from));
		snprintf(at, sizeof(buf) - (size_t)(at - buf), "%s%s", to, rest);
		n = (int)strlen(buf);
	}
	return oci_spec_parse(buf, (size_t)n, s, e);
}

static bool has(char **v, const char *s)
{
	for (; v && *v; v++)
		if (!strcmp(*v, s))
			return true;
	return false;
}

static void test_full(void)
{
	struct oci_spec s;
	struct error e = { 0 };

	ok(parse_with("", NULL, NULL, &s, &e) == 0, "a full spec parses (%s)", e.msg);
	ok(!strcmp(s.root, "rootfs") && s.root_readonly && !strcmp(s.hostname, "box"), "root and hostname");
	ok(strv_len(s.args) == 3 && !strcmp(s.args[2], "echo hi") && strv_len(s.env) == 2 && !strcmp(s.cwd, "/work") &&
	   s.terminal, "process: args, env, cwd, terminal");
	ok(s.uid == 1000 && s.gid == 100 && s.ngids == 2 && s.gids[1] == 20, "process.user");
	ok(s.caps[0] == ((1ULL << 5) | (1ULL << 10)) && s.caps[1] == (1ULL << 5) && !s.caps[2], "capabilities by set");
	ok(s.nrlimits == 1 && s.rlimits[0].resource == RLIMIT_NOFILE && s.rlimits[0].soft == 1024 &&
	   s.rlimits[0].hard == 4096 && s.no_new_privileges, "rlimits, noNewPrivileges");
	ok(s.nmounts == 4 && s.mounts[1].bind && s.mounts[1].readonly && !strcmp(s.mounts[1].source, "/srv/data") &&
	   s.mounts[2].bind && !strcmp(s.mounts[2].type, "bind") && !s.mounts[3].bind && !strcmp(s.mounts[3].type, "tmpfs"),
	   "mounts: binds (by type or by option) with ro, and tmpfs");
	ok(s.nhooks[OCI_HOOK_PRESTART] == 1 && s.hooks[OCI_HOOK_PRESTART][0].timeout == 5 &&
	   !strcmp(s.hooks[OCI_HOOK_PRESTART][0].args[1], "up") && s.nhooks[OCI_HOOK_POSTSTOP] == 1 &&
	   !s.nhooks[OCI_HOOK_POSTSTART], "hooks by kind");
	ok(s.netns && !strcmp(s.netns, "/var/run/netns/cni-1"), "the network namespace to join");
	ok(has(s.sysctl, "net.ipv4.ip_forward=1") && has(s.sysctl, "kernel.shmmax=65536"), "the guest's sysctls");
	ok(s.memory == 256ULL << 20 && s.cpus > 1.49 && s.cpus < 1.51 && s.pids == 100, "resources: memory, cpus, pids");
	ok(has(s.ignored, "linux.seccomp") && has(s.ignored, "linux.maskedPaths") && has(s.ignored, "process.apparmorProfile") &&
	   has(s.ignored, "linux.resources.devices") && has(s.ignored, "linux.resources.cpu.shares/cpus") &&
	   has(s.ignored, "linux.resources.memory.swap/reservation") &&
	   has(s.ignored, "linux.namespaces (no cgroup: the VM's own)"), "what is ignored is listed");
	oci_spec_free(&s);
}

/* `runc spec`'s default config.json: what podman and containerd build on. */
static void test_runc_default(void)
{
	char dir[] = "/tmp/vmm-oci-spec.XXXXXX", cmd[200], path[100], *data;
	struct oci_spec s;
	struct error e = { 0 };
	size_t len;

	if (system("command -v runc >/dev/null 2>&1")) {
		ok(1, "# SKIP runc is not installed (scripts/install-deps.sh installs it)");
		return;
	}
	if (!mkdtemp(dir))
		return;
	snprintf(cmd, sizeof(cmd), "runc spec --bundle %s", dir);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (system(cmd) || read_file(AT_FDCWD, path, OCI_SPEC_MAX, &data, &len)) {
		ok(0, "runc spec wrote a config.json");
		return;
	}
	ok(oci_spec_parse(data, len, &s, &e) == 0, "runc's default spec parses (%s)", e.msg);
	ok(!strcmp(s.root, "rootfs") && s.root_readonly && strv_len(s.args) == 1 && !strcmp(s.args[0], "sh") &&
	   s.terminal && !strcmp(s.cwd, "/") && s.uid == 0, "... root, process");
	ok(s.nmounts >= 6 && !strcmp(s.mounts[0].type, "proc") && !s.netns && s.nrlimits >= 1 && s.no_new_privileges,
	   "... its mounts, its own network namespace, rlimits");
	oci_spec_free(&s);
	free(data);
	unlink(path);
	rmdir(dir);
}

/* One bad or refused field per kind: FROM in the full spec becomes TO, the error names WANT. */
static void bad(const char *from, const char *to, const char *want, const char *what)
{
	struct oci_spec s;
	struct error e = { 0 };
	int ret = parse_with("", from, to, &s, &e);

	ok(ret < 0 && strstr(e.msg, want) && !s.args, "%s: refused (%s)", what, e.msg);
}

static void test_bad(void)
{
	struct oci_spec s;
	struct error e = { 0 };
	char big[OCI_SPEC_MAX + 2];

	bad("\"1.1.0\"", "\"2.0.0\"", "ociVersion 2.0.0", "another major spec version");
	bad("\"ociVersion\": \"1.1.0\",", "", "ociVersion", "no ociVersion");
	bad("\"path\": \"rootfs\"", "\"path\": \"\"", "root.path", "an empty root");
	bad("\"readonly\": true}", "\"readonly\": \"yes\"}", "root.readonly", "a string for a boolean");
	bad("\"hostname\": \"box\"", "\"hostname\": \"a b\"", "hostname", "a bad hostname");
	bad("[\"sh\", \"-c\", \"echo hi\"]", "[]", "process.args", "no command");
	bad("[\"sh\", \"-c\", \"echo hi\"]", "[\"sh\", 3]", "process.args", "a number among the args");
	bad("\"cwd\": \"/work\"", "\"cwd\": \"work\"", "process.cwd", "a relative cwd");
	bad("\"cwd\": \"/work\"", "\"cwd\": \"/a/../b\"", "process.cwd", "a cwd with ..");
	bad("\"TERM=xterm\"", "\"TERM\"", "process.env[1]", "an env entry without =");
	bad("\"uid\": 1000", "\"uid\": -1", "process.user.uid", "a negative uid");
	bad("\"uid\": 1000", "\"uid\": 4294967296", "process.user.uid", "a uid past 32 bits");
	bad("[10, 20]", "[10, \"x\"]", "additionalGids[1]", "a bad group");
	bad("\"CAP_NET_BIND_SERVICE\"", "\"CAP_ROOT\"", "unknown capability CAP_ROOT", "an unknown capability");
	bad("\"RLIMIT_NOFILE\"", "\"RLIMIT_FOO\"", "unknown resource RLIMIT_FOO", "an unknown rlimit");
	bad("\"soft\": 1024", "\"soft\": 8192", "soft 8192 above hard 4096", "soft above hard");
	bad("\"destination\": \"/data\"", "\"destination\": \"data\"", "mounts[1].destination", "a relative mount point");
	bad("\"type\": \"tmpfs\"", "\"type\": \"nfs\"", "mounts[3]: type 'nfs' cannot be mounted", "an nfs mount");
	bad("\"source\": \"/srv/data\"", "\"source\": \"\"", "mounts[1].source", "a bind without a source");
	bad("\"path\": \"/usr/bin/netns-hook\"", "\"path\": \"netns-hook\"", "hooks.prestart[0].path", "a relative hook");
	bad("\"timeout\": 5", "\"timeout\": 0", "timeout: want at least 1 second", "a zero hook timeout");
	bad("{\"type\": \"pid\"}, ", "", "no pid namespace asks for the host's", "the host's pid namespace");
	bad("{\"type\": \"network\", \"path\": \"/var/run/netns/cni-1\"},", "", "no network namespace asks for the host's",
	    "the host's network");
	bad("{\"type\": \"ipc\"}", "{\"type\": \"ipc\", \"path\": \"/proc/1/ns/ipc\"}", "joining the ipc namespace",
	    "joining another ipc namespace");
	bad("{\"type\": \"uts\"}", "{\"type\": \"bogus\"}", "unknown namespace bogus", "an unknown namespace");
	bad("\"net.ipv4.ip_forward\"", "\"vm.swappiness\"", "linux.sysctl.vm.swappiness: not a sysctl of the container's own",
	    "a host-wide sysctl");
	bad("\"limit\": 268435456", "\"limit\": 1024", "memory.limit: the least is 6 MiB", "too little memory");
	bad("\"period\": 100000", "\"period\": 10", "cpu.period: the least is 1000", "a tiny cpu period");
	bad("\"quota\": 150000", "\"quota\": 15000000", "above 64 CPUs", "a quota of 150 CPUs");
	bad("\"limit\": 100", "\"limit\": \"many\"", "pids.limit: want an integer", "a string pids limit");
	ok(parse_with("\"devices\": [{\"path\": \"/dev/kvm\", \"type\": \"c\", \"major\": 10, \"minor\": 232}],", NULL, NULL,
		      &s, &e) < 0 && strstr(e.msg, "linux.devices: a micro-VM passes no host device through"),
	   "device passthrough: refused (%s)", e.msg);
	ok(oci_spec_parse("{\"ociVersion\": \"1.0.0\"", 22, &s, &e) < 0 && strstr(e.msg, "config.json"), "malformed JSON");
	ok(oci_spec_parse("[1]", 3, &s, &e) < 0, "not an object");
	memset(big, ' ', sizeof(big));
	ok(oci_spec_parse(big, sizeof(big), &s, &e) == -E2BIG, "over 1 MiB: refused before parsing");
}

int main(void)
{
	test_full();
	test_runc_default();
	test_bad();
	return tap_done();
}
