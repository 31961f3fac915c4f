#!/bin/sh
# vmm oci / vmm-runtime, the OCI runtime command line (docs/oci-runtime.md), host side: the
# version with the spec's, features as the runtime spec defines them, argv[0] dispatch, errors in
# the log format an engine asks for, and bad bundles and verbs refused with one line before any
# VM is made. 65-oci-run.sh runs bundles on guests.
. tests/integration/lib.sh

ln -s "$VMM" "$T/vmm-runtime"
out=$("$VMM" oci --version); rc=$?
expect_match "vmm oci --version: ours and the runtime spec's" "^vmm-runtime version .+
spec: 1\\.1\\.0$" "$rc
$out"
expect_eq "vmm-runtime (a link to vmm) is vmm oci" "$out" "$("$T/vmm-runtime" --version 2>&1)"
"$VMM" oci features >"$T/features.json"
expect_eq "features: the spec versions" "1.0.0 1.1.0" "$(jq -r '"\(.ociVersionMin) \(.ociVersionMax)"' "$T/features.json")"
expect_eq "features: every hook kind" "prestart createRuntime createContainer startContainer poststart poststop" \
	"$(jq -r '.hooks | join(" ")' "$T/features.json")"
expect_eq "features: the namespaces a guest makes, not user or time" "cgroup ipc mount network pid uts" \
	"$(jq -r '.linux.namespaces | join(" ")' "$T/features.json")"
expect_eq "features: capabilities by name, cgroup v2, no seccomp (the VM is the boundary)" "true true false" \
	"$(jq -r '"\(.linux.capabilities | index("CAP_NET_BIND_SERVICE") != null) \(.linux.cgroup.v2) \(.linux.seccomp.enabled)"' "$T/features.json")"

# A bundle whose process is fine; the cases below break one field each.
mkdir -p "$T/b/rootfs"
jq -n '{ociVersion: "1.0.2", root: {path: "rootfs"}, process: {args: ["sh"], cwd: "/", user: {uid: 0, gid: 0}},
	linux: {namespaces: [{type: "pid"}, {type: "network"}]}}' >"$T/b/config.json"
ocibad() {	# NAME WANT JQ-FILTER [create options]: create refuses the edited bundle with one line
	name=$1 want=$2 filter=$3; shift 3
	jq "$filter" "$T/b/config.json" >"$T/bad/config.json"
	out=$("$T/vmm-runtime" --root "$T/state" create --bundle "$T/bad" "$@" x1 2>&1); rc=$?
	expect_eq "create refuses $name: exit 1, one line" "1 vmm: error: $want" "$rc $out"
}
mkdir -p "$T/bad"
ln -s ../b/rootfs "$T/bad/rootfs"
out=$("$T/vmm-runtime" --root "$T/state" --log "$T/log.json" --log-format json --systemd-cgroup create --bundle "$T/none" c1 2>&1); rc=$?
expect_eq "create of a missing bundle: exit 1, one line" "1 vmm: error: bundle $T/none: No such file or directory" "$rc $out"
expect_eq "... and the same error in --log as JSON (logrus's fields)" "error bundle $T/none: No such file or directory true" \
	"$(jq -r '"\(.level) \(.msg) \(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))"' "$T/log.json" 2>&1)"
"$VMM" oci --root "$T/state" --log "$T/log.txt" state c1 >/dev/null 2>&1
expect_match "--log in text: logrus's line" '^time="[0-9T:Z-]+" level=error msg="container c1 does not exist"$' \
	"$(cat "$T/log.txt")"
out=$("$VMM" oci --root "$T/state" create --bundle "$T/b" 'bad/id' 2>&1); rc=$?
expect_eq "create: a bad container ID" "1 vmm: error: container ID bad/id: want [a-zA-Z0-9][a-zA-Z0-9_.-]+, up to 128" "$rc $out"
out=$("$VMM" oci --root relative state c1 2>&1); rc=$?
expect_eq "--root must be absolute" "1 vmm: error: --root relative: want an absolute path" "$rc $out"
ocibad "a relative cwd" "config.json: process.cwd: want an absolute path without '..'" '.process.cwd = "tmp"'
ocibad "a missing root folder" "root.path $T/bad/gone: No such file or directory" '.root.path = "gone"'
ocibad "a terminal without --console-socket" "process.terminal is set: its pty goes to --console-socket, which is missing" \
	'.process.terminal = true'
ocibad "a single-file bind other than the engine's /etc files" \
	"config.json: mounts[0]: $T/b/config.json is a file: a micro-VM shares folders only; bind its folder instead" \
	'.mounts = [{destination: "/etc/app.conf", type: "bind", source: "'"$T/b/config.json"'"}]'
ocibad "a proc mount away from /proc" "config.json: mounts[0]: proc at /mnt: the guest makes its own proc only at its usual place" \
	'.mounts = [{destination: "/mnt", type: "proc", source: "proc"}]'
ocibad "a tmpfs of a bad size" "config.json: mounts[0].options: size=lots: want a size" \
	'.mounts = [{destination: "/t", type: "tmpfs", source: "tmpfs", options: ["size=lots"]}]'
ocibad "the host's network (no network namespace)" "config.json: linux.namespaces: no network namespace asks for the host's (--network host), which a micro-VM cannot share" \
	'.linux.namespaces = [{type: "pid"}]'
ocibad "host file descriptors" "--preserve-fds 3: a micro-VM cannot take host file descriptors; pass 0" '.' --preserve-fds 3
[ -d "$T/state/containers" ] && left=$(ls "$T/state/containers") || left=""
expect_eq "a refused create leaves no container behind" "" "$left"
for verb in start state delete ps pause resume; do
	out=$("$VMM" oci --root "$T/state" $verb nosuch 2>&1); rc=$?
	expect_eq "$verb of an unknown container: one line" "1 vmm: error: container nosuch does not exist" "$rc $out"
done
out=$("$VMM" oci --root "$T/state" kill nosuch KILL 2>&1); rc=$?
expect_eq "kill of an unknown container: one line" "1 vmm: error: container nosuch does not exist" "$rc $out"
out=$("$VMM" oci --log-format xml features 2>&1); rc=$?
expect_eq "a bad --log-format: exit 1, named" "1 vmm: error: --log-format xml: want text or json" "$rc $out"
out=$("$VMM" oci frobnicate 2>&1); rc=$?
expect_eq "an unknown command" "1 vmm: error: unknown command 'frobnicate' (see 'vmm oci --help')" "$rc $out"
out=$("$VMM" oci --bogus features 2>&1); rc=$?
expect_eq "an unknown global option" "1 vmm: error: --bogus: unknown option (see 'vmm oci --help')" "$rc $out"
