#!/bin/sh
# `vmm run --rm busybox true` end to end: cold boot vs warm start (snapshot
# restore) vs runc (no VM, same root filesystem), median of RUNS, and the memory
# each vmm process adds. QEMU cannot boot our guest on PVM hosts (tests/bench/boot.sh).
set -u
BUILD=${1:-build}
RUNS=${RUNS:-5}
VMM=$PWD/$BUILD/vmm
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
scripts/build-busybox-image.sh "$VMM" >/dev/null
. tests/bench/lib.sh

med() { python3 -c 'import json,statistics,sys; print(round(statistics.median(json.loads(sys.argv[1])[sys.argv[2]]),2))' "$1" "$2"; }
show() {	# label json
	echo "$1: wall $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["wall"])' "$2") s, median $(med "$2" wall) s;" \
	     "rc $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["rc"])' "$2");" \
	     "RSS beyond guest RAM median $(med "$2" rss_extra_kib) KiB; private (USS) median $(med "$2" uss_kib) KiB"
}

"$VMM" run --rm busybox true >/dev/null 2>&1	# saves the snapshot
cold=$(python3 tests/bench/runtime.py "$RUNS" 128 -- "$VMM" run --rm --cold busybox true)
show "vmm run --cold (boot from scratch)" "$cold"
warm=$(python3 tests/bench/runtime.py "$RUNS" 128 -- "$VMM" run --rm busybox true)
show "vmm run (warm: snapshot restore)" "$warm"
python3 -c 'import json,statistics,sys; c=statistics.median(json.loads(sys.argv[1])["wall"]); w=statistics.median(json.loads(sys.argv[2])["wall"]); print("warm vs cold: %.1fx faster" % (c / w))' "$cold" "$warm"

if command -v runc >/dev/null; then
	# The same root filesystem as an OCI bundle for runc.
	runc_bundle "$T/bundle" true
	i=0
	cat >"$T/runc.sh" <<EOF2
#!/bin/sh
exec runc --root "$T/runc" run --bundle "$T/bundle" "bench\$\$"
EOF2
	chmod +x "$T/runc.sh"
	rc=$(python3 tests/bench/runtime.py "$RUNS" 0 -- "$T/runc.sh")
	show "runc run (no VM)" "$rc"
	python3 -c 'import json,statistics,sys; r=statistics.median(json.loads(sys.argv[1])["wall"]); w=statistics.median(json.loads(sys.argv[2])["wall"]); c=statistics.median(json.loads(sys.argv[3])["wall"]); print("cost of isolation: warm vmm / runc = %.0fx, cold vmm / runc = %.0fx" % (w / r, c / r))' "$rc" "$warm" "$cold"
fi
