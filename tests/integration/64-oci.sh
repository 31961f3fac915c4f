#!/bin/sh
# vmm oci / vmm-runtime, the OCI runtime command line (docs/oci-runtime.md), as far as it is built:
# the version with the spec's, features as the runtime spec defines them, argv[0] dispatch, and
# errors in the log format an engine asks for. Host-side only.
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

out=$("$T/vmm-runtime" --root "$T/state" --log "$T/log.json" --log-format json --systemd-cgroup create --bundle "$T" c1 2>&1); rc=$?
expect_eq "create (not built yet): exit 1, one line" "1 vmm: error: vmm oci create: not built yet: vmm runs no OCI bundle so far (docs/oci-runtime.md)" "$rc $out"
expect_eq "... and the same error in --log as JSON (logrus's fields)" "error vmm oci create: not built yet: vmm runs no OCI bundle so far (docs/oci-runtime.md) true" \
	"$(jq -r '"\(.level) \(.msg) \(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))"' "$T/log.json" 2>&1)"
"$VMM" oci --log "$T/log.txt" state c1 >/dev/null 2>&1
expect_match "--log in text: logrus's line" '^time="[0-9T:Z-]+" level=error msg="vmm oci state: not built yet' \
	"$(cat "$T/log.txt")"
out=$("$VMM" oci --log-format xml features 2>&1); rc=$?
expect_eq "a bad --log-format: exit 1, named" "1 vmm: error: --log-format xml: want text or json" "$rc $out"
out=$("$VMM" oci frobnicate 2>&1); rc=$?
expect_eq "an unknown command" "1 vmm: error: unknown command 'frobnicate' (see 'vmm oci --help')" "$rc $out"
out=$("$VMM" oci --bogus features 2>&1); rc=$?
expect_eq "an unknown global option" "1 vmm: error: --bogus: unknown option (see 'vmm oci --help')" "$rc $out"
