#!/bin/sh
# Listing many containers stays instant: `vmm ps` and `vmm stats --no-stream`
# with N (20) running containers, against `runc list` with N runc containers,
# in the same run, as whole-process wall times (median of RUNS). stats asks
# every container's agent at once; on a PVM host each answer costs the
# emulated guest kernel real time.
set -u
BUILD=${1:-build}
RUNS=${RUNS:-11}
N=${N:-20}
VMM=$PWD/$BUILD/vmm
T=$(mktemp -d)
export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
cleanup() {
	for id in $("$VMM" ps -aq 2>/dev/null); do "$VMM" rm -f "$id" >/dev/null 2>&1; done
	for i in $(seq "$N"); do runc --root "$T/runc" delete -f "r$i" >/dev/null 2>&1; done
	rm -rf "$T"
}
trap cleanup EXIT
scripts/build-busybox-image.sh "$VMM" >/dev/null
. tests/bench/lib.sh

if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "ps bench: skipped: /dev/kvm not accessible on this host"
	exit 0
fi
for i in $(seq "$N"); do
	"$VMM" run -d --name "s$i" busybox sleep 1000000 >/dev/null || { echo "ps bench: vmm run -d s$i failed"; exit 0; }
done
echo "running: $("$VMM" ps -q | wc -l) vmm containers"
if command -v runc >/dev/null; then
	runc_bundle "$T/bundle" sleep 1000000
	for i in $(seq "$N"); do
		runc --root "$T/runc" create --bundle "$T/bundle" "r$i" </dev/null >/dev/null 2>&1
	done
	echo "created: $(runc --root "$T/runc" list -q | wc -l) runc containers"
	runc_list=$(median runc --root "$T/runc" list)
	compare "vmm ps ($N running)" "runc list ($N)" "$(median "$VMM" ps)" "$runc_list"
	compare "vmm stats --no-stream ($N running)" "runc list ($N)" "$(median "$VMM" stats --no-stream)" "$runc_list"
else
	echo "runc list: skipped: runc not installed"
	echo "vmm ps ($N running): $(median "$VMM" ps) s; vmm stats --no-stream: $(median "$VMM" stats --no-stream) s"
fi
