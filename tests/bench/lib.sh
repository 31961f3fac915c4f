# Shared by the benchmarks: medians, ratios, and an OCI bundle for runc.

# median WALL_SECONDS of RUNS runs of a command (its output discarded)
median() {
	python3 - "$RUNS" "$@" <<'PY'
import statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
walls = []
for _ in range(runs):
    t = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    walls.append(time.monotonic() - t)
print(f"{statistics.median(walls):.4f}")
PY
}

compare() {	# LABEL-A LABEL-B A-median B-median
	python3 -c 'import sys; a, b = float(sys.argv[3]), float(sys.argv[4]); print(f"{sys.argv[1]}: {a*1000:.1f} ms   {sys.argv[2]}: {b*1000:.1f} ms   ratio {a/b:.2f}")' "$@"
}

# runc_bundle DIR ARG...: the store's busybox layer as an OCI bundle running ARGs, no terminal
runc_bundle() {
	dir=$1; shift
	mkdir -p "$dir/rootfs"
	layer=$(ls -S "$VMM_ROOT"/oci/blobs/sha256/* | head -1)
	tar -xf "$layer" -C "$dir/rootfs" 2>/dev/null || tar -xzf "$layer" -C "$dir/rootfs"
	(cd "$dir" && runc spec && python3 - "$@" <<'PY'
import json, sys
s = json.load(open("config.json"))
s["process"]["args"] = sys.argv[1:]
s["process"]["terminal"] = False
json.dump(s, open("config.json", "w"))
PY
	)
}
