#!/bin/sh
# containerd (Debian's 1.6) with ctr run --runc-binary vmm-runtime: its runc shim
# (containerd-shim-runc-v2), the path Kubernetes takes, drives vmm as it drives runc. run,
# exit codes, exec, kill and delete on a containerd of its own (no CRI plugin, a scratch root).
. tests/integration/lib.sh

oci_guest_suite "containerd"
if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null || ! command -v containerd-shim-runc-v2 >/dev/null; then
	skip "containerd: containers" "containerd, ctr or its runc shim not installed (apt-get install containerd)"
	exit 0
fi
busybox_archive "containerd"
SOCK="$T/cd/containerd.sock"
mkdir -p "$T/cd"
cat >"$T/cd/config.toml" <<CONF
version = 2
root = "$T/cd/root"
state = "$T/cd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
CONF
containerd --config "$T/cd/config.toml" >"$T/cd/log" 2>&1 &
CD=$!
cleanup_hook() {
	c rm -f d1 >/dev/null 2>&1
	kill "$CD" 2>/dev/null
	wait "$CD" 2>/dev/null
	# the shims outlive their daemon by design: theirs are ours to end
	pkill -f "containerd-shim-runc-v2 -namespace vmmtest" 2>/dev/null
}
c() { timeout 600 ctr --address "$SOCK" --namespace vmmtest "$@"; }
if ! timeout 60 sh -c 'until ctr --address "$1" version >/dev/null 2>&1; do :; done' - "$SOCK"; then
	fail "containerd: its daemon" "$(tail -3 "$T/cd/log")"
	exit 0
fi
out=$(c images import --snapshotter native "$T/busybox.tar" 2>&1); rc=$?
IMG=$(c images ls -q | grep busybox | head -1)
expect_match "ctr images import of vmm's busybox" "busybox" "$rc $IMG"

run() { c run --rm --snapshotter native --runc-binary "$RT" "$IMG" "$@"; }
out=$(run r1 echo hi from containerd 2>&1); rc=$?
expect_eq "ctr run --rm: the output, exit 0" "0 hi from containerd" "$rc $out"
out=$(run r2 sh -c 'cat /proc/version; exit 3' 2>&1); rc=$?
expect_match "ctr run: the guest's kernel, and the exit code through the shim" "^3 Linux version 6\\.1" "$rc $out"

c run -d --snapshotter native --runc-binary "$RT" "$IMG" d1 sh -c 'trap "exit 9" TERM; while :; do sleep 1; done' >/dev/null 2>&1
expect_eq "ctr run -d: the task runs" "RUNNING" "$(c task ls | awk '$1 == "d1" { print $3 }')"
out=$(c task exec --exec-id e1 d1 sh -c 'echo in-exec; exit 6' 2>&1); rc=$?
expect_eq "ctr task exec: its output and exit code" "6 in-exec" "$rc $out"
check "ctr task kill (TERM)" c task kill d1
out=$(timeout 120 sh -c 'until [ "$(ctr --address "$1" --namespace vmmtest task ls | awk "\$1 == \"d1\" { print \$3 }")" = STOPPED ]; do :; done; echo stopped' - "$SOCK")
expect_eq "the task stops after the trap" "stopped" "$out"
check "ctr task delete" c task delete d1
check "ctr container rm" c container rm d1
