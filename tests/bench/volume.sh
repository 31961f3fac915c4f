#!/bin/sh
# Shared folders and volumes inside the guest (docs/volumes.md), in one run:
# sequential write and read of 64 MiB, then creating and stat-ing 2,000 small
# files, on the container's root disk, a bind mount, a named volume and a
# tmpfs. Prints each against the root disk, and the host's own figures for the
# bind mount's folder. Usage: tests/bench/volume.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
VMM=$PWD/$BUILD/vmm
MB=${MB:-64}
FILES=${FILES:-2000}
T=$(mktemp -d)
export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
trap '"$VMM" volume rm benchvol >/dev/null 2>&1; rm -rf "$T"' EXIT
scripts/build-busybox-image.sh "$VMM" >/dev/null 2>&1 || { echo "volume bench: busybox image failed"; exit 1; }
mkdir -p "$T/bind" "$T/script"

# The same script runs in the guest (busybox) and on the host (/bin/sh): times in
# seconds, from date's nanoseconds where it has them, else /proc/uptime (10 ms).
cat >"$T/script/io.sh" <<EOF
d=\$1
t() { n=\$(date +%s.%N 2>/dev/null); case \$n in *N* | '') cut -d' ' -f1 /proc/uptime ;; *) echo \$n ;; esac; }
mkdir -p "\$d/small"
t0=\$(t)
dd if=/dev/zero of="\$d/big" bs=1M count=$MB conv=fsync 2>/dev/null
t1=\$(t)
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || cached=" (reads may hit the page cache)"
t2=\$(t)
dd if="\$d/big" of=/dev/null bs=1M 2>/dev/null
t3=\$(t)
i=0; while [ \$i -lt $FILES ]; do echo \$i > "\$d/small/f\$i"; i=\$((i + 1)); done; sync
t4=\$(t)
ls -l "\$d/small" >/dev/null
t5=\$(t)
rm -rf "\$d/big" "\$d/small"
echo "BENCH \$2 \$t0 \$t1 \$t2 \$t3 \$t4 \$t5\${cached:-}"
EOF

out=$("$VMM" run --rm -m 1g -v "$T/script:/script:ro" -v "$T/bind:/bind" -v benchvol:/vol \
	--tmpfs /scratch:size=256m busybox sh -c \
	"sh /script/io.sh /root-disk root; sh /script/io.sh /bind bind; sh /script/io.sh /vol volume;
	 sh /script/io.sh /scratch tmpfs" 2>&1)
host=$(sh "$T/script/io.sh" "$T/bind" host 2>&1)	# the bind mount's own folder, from the host

# Warm start (a restore from the snapshot) without and with a shared folder: with one, guest
# RAM is a memfd that the snapshot's data is copied into (docs/volumes.md). One run of each
# first makes the snapshots; then the median of RUNS whole runs of `vmm run --rm busybox true`.
RUNS=${RUNS:-3}
. tests/bench/lib.sh
"$VMM" run --rm busybox true >/dev/null 2>&1
"$VMM" run --rm -v "$T/bind:/x" busybox true >/dev/null 2>&1
plain=$(median "$VMM" run --rm busybox true)
shared=$(median "$VMM" run --rm -v "$T/bind:/x" busybox true)
compare "warm start with a bind mount" "without" "$shared" "$plain"

python3 - "$MB" "$FILES" <<EOF2
import sys
mb, files = int(sys.argv[1]), int(sys.argv[2])
rows = {}
for line in """$out
$host""".splitlines():
    if line.startswith("BENCH "):
        f = line.split()
        t = [float(x) for x in f[2:8]]
        note = " ".join(f[8:])
        rows[f[1]] = (mb / max(t[1] - t[0], 0.01), mb / max(t[3] - t[2], 0.01),
                      files / max(t[4] - t[3], 0.01), files / max(t[5] - t[4], 0.01), note)
if "root" not in rows:
    print("volume bench: the guest run failed:\n" + """$out"""[-500:])
    sys.exit(1)
root = rows["root"]
print(f"{'':8s} {'write MB/s':>11s} {'read MB/s':>10s} {'creates/s':>10s} {'stats/s':>9s}   vs root disk (w r c s)")
for k in ("root", "bind", "volume", "tmpfs", "host"):
    if k not in rows:
        print(f"{k:8s} missing")
        continue
    r = rows[k]
    ratios = " ".join(f"{r[i] / root[i]:.2f}" for i in range(4))
    print(f"{k:8s} {r[0]:11.1f} {r[1]:10.1f} {r[2]:10.0f} {r[3]:9.0f}   {ratios}  {r[4]}")
EOF2
