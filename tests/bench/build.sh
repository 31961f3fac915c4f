#!/bin/sh
# vmm build against buildah bud (vfs storage) in the same run, as whole-process wall times:
#  - a five-step Dockerfile (FROM busybox, COPY of a CTX_MB context, ENV, WORKDIR, CMD;
#    with /dev/kvm also a variant with a RUN step in place of ENV), cold (vmm --no-cache;
#    buildah --layers --no-cache, both starting from a store holding only busybox) and warm
#    (the same context again, every step from the cache: vmm's cache; buildah --layers);
#  - the per-step overhead: the same Dockerfile cut after 1, 2, ... 5 steps, each built the
#    same way; a step's cost is what it adds to the median of the build one step shorter,
#    and the mean over the four steps after FROM is (T5 - T1) / 4;
#  - the layer diff for a CHANGE_MB change: two ext4 root disks made by `vmm rootfs build`
#    from a BASE_FILES / BASE_MB tree, the child a copy loop-mounted read-write (root; else
#    built with one more layer) with CHANGE_MB of new files written into it, then
#    `vmm rootfs diff PARENT CHILD -o OUT.tar` against `tar -cf` of the same files from the
#    host (the least that unpacking to the host and tarring the change would cost).
# Each figure is the median of RUNS runs after one uncounted run, the two commands taken in
# turn (vmm, peer, vmm, peer, ...), with an untimed reset before each run where the figure
# needs one; ratio = vmm / peer (median of the pairs' ratios; below 1: vmm is faster).
# Everything is in the page cache: these are CPU and syscall figures, not disk speed.
# Usage: tests/bench/build.sh [BUILD_DIR]   env: RUNS CTX_MB CTX_FILES BASE_FILES BASE_MB
#        CHANGE_MB CHANGE_FILES
set -u
BUILD=${1:-build}
RUNS=${RUNS:-7}
CTX_MB=${CTX_MB:-20}
CTX_FILES=${CTX_FILES:-100}
BASE_FILES=${BASE_FILES:-10000}
BASE_MB=${BASE_MB:-100}
CHANGE_MB=${CHANGE_MB:-100}
CHANGE_FILES=${CHANGE_FILES:-2000}
VMM=$PWD/$BUILD/vmm

for tool in buildah skopeo python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "build bench: skipped: $tool not installed (scripts/install-deps.sh)"
		exit 0
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/vmm-bench-build.XXXXXX")
BH="buildah --root $T/bh --runroot $T/bhrun --storage-driver vfs"
# shellcheck disable=SC2317
cleanup() {
	mountpoint -q "$T/mnt" 2>/dev/null && umount "$T/mnt"
	$BH rm --all >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"

if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	echo "build bench: busybox image failed: $(tail -1 "$T/img.log")"
	exit 0
fi
# buildah's busybox is vmm's, copied from vmm's store (an OCI layout): the same base
if ! skopeo copy -q "oci:$VMM_ROOT/oci:docker.io/library/busybox:latest" \
	"containers-storage:[vfs@$T/bh+$T/bhrun]docker.io/library/busybox:latest" >"$T/sk.log" 2>&1; then
	echo "build bench: busybox for buildah failed: $(tail -1 "$T/sk.log")"
	exit 0
fi

# pair RUNS PREP_A CMD_A PREP_B CMD_B: shell strings; PREP (untimed, may be empty) before
# each run of CMD. Prints "median_a median_b median_ratio", or "FAIL what" on a failed run.
cat >"$T/pair.py" <<'EOF'
import statistics, subprocess, sys, time
runs = int(sys.argv[1])
prep_a, cmd_a, prep_b, cmd_b, log = sys.argv[2:7]
def once(prep, cmd):
    if prep:
        subprocess.run(prep, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(log, "w") as out:
        t = time.monotonic()
        rc = subprocess.run(cmd, shell=True, stdout=out, stderr=subprocess.STDOUT).returncode
        wall = time.monotonic() - t
    if rc != 0:
        tail = open(log).read().strip().splitlines()[-1:] or [""]
        print("FAIL exit %d: %s: %s" % (rc, cmd.split()[1] if cmd.startswith("exec ") else cmd, tail[0]))
        sys.exit(0)
    return wall
a, b = [], []
for i in range(runs + 1):
    wa = once(prep_a, cmd_a)
    wb = once(prep_b, cmd_b)
    if i:	# the first pair is not counted
        a.append(wa)
        b.append(wb)
print("%.4f %.4f %.4f" % (statistics.median(a), statistics.median(b),
                          statistics.median(x / y for x, y in zip(a, b))))
EOF
# steps.py LABEL <lines "median_a median_b ratio<TAB>step" of the builds of 1..N steps:
# the whole build, then what each step adds to the build one step shorter, then the mean
# of the steps after the first
cat >"$T/steps.py" <<'EOF'
import sys
label = sys.argv[1]
rows = [l.rstrip("\n").split("\t") for l in sys.stdin if l.strip()]
meds = [tuple(map(float, r[0].split())) for r in rows]
steps = [r[1] for r in rows]
n = len(rows)
def ratio(a, b):
    return "%.2f" % (a / b) if a > 0 and b > 0 else "n/a"
a, b, r = meds[-1]
print("%s, %d steps: vmm %.3f s, buildah %.3f s, ratio %.2f" % (label, n, a, b, r))
a, b, r = meds[0]
print("%s, step 1 alone (%s): vmm %.3f s, buildah %.3f s, ratio %.2f" % (label, steps[0], a, b, r))
for k in range(1, n):
    da, db = meds[k][0] - meds[k - 1][0], meds[k][1] - meds[k - 1][1]
    print("%s, step %d (%s): vmm %+.3f s, buildah %+.3f s, ratio %s" % (label, k + 1, steps[k], da, db, ratio(da, db)))
if n > 1:
    da, db = (meds[-1][0] - meds[0][0]) / (n - 1), (meds[-1][1] - meds[0][1]) / (n - 1)
    print("%s, per step after the first, (T%d - T1) / %d: vmm %.3f s, buildah %.3f s, ratio %s"
          % (label, n, n - 1, da, db, ratio(da, db)))
EOF
pair() { python3 "$T/pair.py" "$RUNS" "$1" "$2" "$3" "$4" "$T/pair.log"; }
fmt() {	# LABEL A-NAME B-NAME "ma mb ratio"
	case $4 in
	FAIL*) echo "$1: $4"; return 1 ;;
	esac
	# shellcheck disable=SC2086
	set -- "$1" "$2" "$3" $4
	printf '%s: %s %.3f s, %s %.3f s, ratio %.2f\n' "$1" "$2" "$4" "$3" "$5" "$6"
}

# The context: CTX_FILES incompressible files, CTX_MB in all, in two folders
mkdir -p "$T/ctx/data/a" "$T/ctx/data/b" "$T/df"
size=$((CTX_MB * 1048576 / CTX_FILES))
i=0
while [ $i -lt "$CTX_FILES" ]; do
	head -c "$size" /dev/urandom >"$T/ctx/data/$([ $((i % 2)) = 0 ] && echo a || echo b)/f$i"
	i=$((i + 1))
done

# bench NAME STEP... : the Dockerfile of those steps and its prefixes, cold then warm
bench() {
	name=$1
	shift
	k=0
	for step in "$@"; do
		k=$((k + 1))
		{ [ $k -gt 1 ] && cat "$T/df/$name.$((k - 1))"; echo "$step"; } >"$T/df/$name.$k"
	done
	for mode in cold warm; do
		if [ $mode = cold ]; then
			vflags=--no-cache bflags="--layers --no-cache"
		else
			vflags='' bflags=--layers
		fi
		: >"$T/medians"
		k=0
		for step in "$@"; do
			k=$((k + 1))
			tag=bench/$name-$k
			vcmd="exec $VMM build -q $vflags -t $tag -f $T/df/$name.$k $T/ctx"
			bcmd="exec $BH bud -q --format docker --pull-never $bflags -t $tag -f $T/df/$name.$k $T/ctx"
			vprep='' bprep=''
			if [ $mode = cold ]; then	# a store with busybox alone
				vprep="$VMM rmi $tag"
				bprep="$BH rmi $tag; $BH rmi --prune"
			fi
			r=$(pair "$vprep" "$vcmd" "$bprep" "$bcmd")
			case $r in
			FAIL*) echo "build $mode, $name, $k steps: $r"; continue 2 ;;
			esac
			printf '%s\t%s\n' "$r" "$step" >>"$T/medians"
		done
		python3 "$T/steps.py" "build $mode, $name" <"$T/medians"
	done
}

echo "build bench: median of $RUNS, whole-process wall times; ratio = vmm / buildah; context $CTX_FILES files, $CTX_MB MB"
bench config "FROM busybox" "COPY data /app/data" "ENV APP_HOME=/app MODE=bench" "WORKDIR /app" \
	'CMD ["ls", "-l", "/app/data"]'
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	bench run "FROM busybox" "COPY data /app/data" "RUN du -sk /app/data >/app/size" "WORKDIR /app" \
		'CMD ["cat", "/app/size"]'
else
	echo "build, a RUN step: skipped: /dev/kvm not accessible on this host"
fi
$BH rm --all >/dev/null 2>&1
$BH rmi --all --force >/dev/null 2>&1
rm -rf "$T/bh" "$T/ctx"

# --- the layer diff of a CHANGE_MB change ---
python3 tests/bench/rootfs_gentree.py "$T/base" "$BASE_FILES" "$BASE_MB"
tar --numeric-owner -C "$T/base" -cf "$T/base.tar" .
rm -rf "$T/base"
python3 tests/bench/rootfs_gentree.py "$T/chg/opt/change" "$CHANGE_FILES" "$CHANGE_MB"
"$VMM" rootfs build -q --size 2G "$T/parent.img" "$T/base.tar"
how="loop-mounted copy of the parent"
mkdir -p "$T/mnt"
if cp --sparse=always "$T/parent.img" "$T/child.img" && mount -o loop "$T/child.img" "$T/mnt" 2>/dev/null; then
	cp -a "$T/chg/opt" "$T/mnt/"
	umount "$T/mnt"
else
	how="built with the change as one more layer"
	rm -f "$T/child.img"
	tar --numeric-owner -C "$T/chg" -cf "$T/chg.tar" .
	"$VMM" rootfs build -q --size 2G "$T/child.img" "$T/base.tar" "$T/chg.tar"
fi
if ! "$VMM" rootfs diff -q "$T/parent.img" "$T/child.img" -o "$T/diff.tar" >"$T/diff.log" 2>&1; then
	echo "layer diff: FAIL: $(tail -1 "$T/diff.log")"
	exit 0
fi
summary=$("$VMM" rootfs diff "$T/parent.img" "$T/child.img" -o "$T/diff.tar" 2>&1 | sed 's/^[^:]*: //')
echo "layer diff: parent $BASE_FILES files, $BASE_MB MB; child: $how, $CHANGE_MB MB of new files in $CHANGE_FILES files; the layer: $summary"
r=$(pair "rm -f $T/diff.tar" "exec $VMM rootfs diff -q $T/parent.img $T/child.img -o $T/diff.tar" \
	"rm -f $T/peer.tar" "exec tar -cf $T/peer.tar -C $T/chg .")
fmt "layer diff, $CHANGE_MB MB change: vmm rootfs diff" "vmm" "tar -cf of the same files" "$r"
exit 0
