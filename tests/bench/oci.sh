#!/bin/sh
# vmm as an OCI runtime under podman, against runc in the same run, as whole-process wall
# times (median of RUNS): `podman run --rm --network none busybox true` with --runtime
# vmm-runtime and with --runtime runc, the same image and store; and what vmm adds (the
# difference: the micro-VM's start from its warm-start snapshot, its shared root, its exit).
set -u
BUILD=${1:-build}
RUNS=${RUNS:-11}
VMM=$PWD/$BUILD/vmm
T=$(mktemp -d)
trap 'p rm -af -t 0 >/dev/null 2>&1; rm -rf "$T"' EXIT
export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
. tests/bench/lib.sh

p() { podman --root "$T/storage" --runroot "$T/runroot" --storage-driver vfs --cgroup-manager cgroupfs \
	--events-backend file "$@"; }
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
	echo "oci bench: skipped: podman or runc not installed (scripts/install-deps.sh installs them)"
	exit 0
fi
if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ] || [ "$(id -u)" -ne 0 ]; then
	echo "oci bench: skipped: /dev/kvm and root are needed (a bundle's root is a shared folder)"
	exit 0
fi
ln -s "$VMM" "$T/vmm-runtime"
# every call with the bench's --root, podman's cleanup after --rm included (it drops --runtime-flag)
printf '#!/bin/sh\nexec "%s" --root "%s" "$@"\n' "$T/vmm-runtime" "$T/state" >"$T/vmm-rt"
chmod +x "$T/vmm-rt"
scripts/build-busybox-image.sh "$VMM" >/dev/null && "$VMM" save -o "$T/busybox.tar" busybox &&
	p load -i "$T/busybox.tar" >/dev/null || { echo "oci bench: the busybox image did not load"; exit 1; }
VMMRT="--runtime $T/vmm-rt"
# shellcheck disable=SC2086
p $VMMRT run --rm --network none busybox true	# the warm-start snapshot
# shellcheck disable=SC2086
a=$(median podman --root "$T/storage" --runroot "$T/runroot" --storage-driver vfs --cgroup-manager cgroupfs \
	--events-backend file $VMMRT run --rm --network none busybox true)
b=$(median podman --root "$T/storage" --runroot "$T/runroot" --storage-driver vfs --cgroup-manager cgroupfs \
	--events-backend file --runtime runc run --rm --network none busybox true)
compare "podman run --rm busybox true (vmm-runtime)" "(runc)" "$a" "$b"
python3 -c 'import sys; print(f"vmm adds {(float(sys.argv[1]) - float(sys.argv[2])) * 1000:.0f} ms per container: its own kernel behind KVM")' "$a" "$b"
