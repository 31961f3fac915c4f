#!/bin/sh
# vmm build against buildah bud (vfs storage) in the same run, as whole-process wall times:
#  - a five-step Dockerfile (FROM busybox, COPY of a CTX_MB context, ENV, WORKDIR, CMD;
#    with /dev/kvm also a variant with a RUN step in place of ENV), cold (vmm --no-cache;
#    buildah --layers --no-cache; both from a store holding only busybox) and warm (the same
#    context again, every step from the cache: vmm's cache, buildah's --layers);
#  - the per-step overhead: the Dockerfile cut after 1, 2, ... 5 steps, all built the same
#    way in each round; a step's cost is what it adds to the build one step shorter in the
#    same round, and the mean over the steps after FROM is (T5 - T1) / 4;
#  - the layer diff for a CHANGE_MB change: two ext4 root disks made by `vmm rootfs build`
#    from a BASE_FILES / BASE_MB tree, the child a copy of the parent loop-mounted
#    read-write (as root; else built with one more layer) with CHANGE_MB of new files
#    written into it, then `vmm rootfs diff PARENT CHILD -o OUT.tar` against `tar -cf` of
#    the same files on the host (the least that unpacking the disk and tarring would cost).
# RUNS rounds after one uncounted round; in a round each command runs once, vmm and its peer
# in turn, after an untimed reset where the figure needs one. Figures are medians over the
# rounds; ratio = vmm / peer (for whole commands the median of the rounds' ratios, for steps
# the ratio of the medians; below 1: vmm is faster). Everything is in the page cache: these
# are CPU and syscall costs, not disk speed.
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
case $BUILD in
/*) VMM=$BUILD/vmm ;;
*) VMM=$PWD/$BUILD/vmm ;;
esac

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

# rounds.py RUNS LOG LABEL NAME_A NAME_B < SPEC: SPEC has a line per command pair,
# "what<TAB>prep_a<TAB>cmd_a<TAB>prep_b<TAB>cmd_b" (shell strings; a prep is untimed, may be
# empty). One line: one figure. Several (builds of 1..N steps): the whole build, the first
# step alone, what each later step adds, and the mean of the steps after the first.
cat >"$T/rounds.py" <<'EOF'
import statistics, subprocess, sys, time
runs, log, label, na, nb = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
spec = [l.rstrip("\n").split("\t") for l in sys.stdin if l.strip()]
def once(prep, cmd):
    if prep:
        subprocess.run(prep, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(log, "w") as out:
        t = time.monotonic()
        rc = subprocess.run(cmd, shell=True, stdout=out, stderr=subprocess.STDOUT).returncode
        wall = time.monotonic() - t
    if rc != 0:
        tail = (open(log).read().strip().splitlines() or [""])[-1]
        print("%s: FAIL: exit %d: %s" % (label, rc, tail))
        sys.exit(0)
    return wall
a = [[] for _ in spec]
b = [[] for _ in spec]
for r in range(runs + 1):
    for k, (_, pa, ca, pb, cb) in enumerate(spec):
        wa, wb = once(pa, ca), once(pb, cb)
        if r:	# the first round is not counted
            a[k].append(wa)
            b[k].append(wb)
med = statistics.median
def ratio(x, y):
    return "%.2f" % (x / y) if x > 0 and y > 0 else "n/a"
def whole(lab, k):
    print("%s: %s %.3f s, %s %.3f s, ratio %.2f" % (lab, na, med(a[k]), nb, med(b[k]),
                                                   med(x / y for x, y in zip(a[k], b[k]))))
n = len(spec)
if n == 1:
    whole(label, 0)
    sys.exit(0)
whole("%s, %d steps" % (label, n), n - 1)
whole("%s, step 1 alone (%s)" % (label, spec[0][0]), 0)
for k in range(1, n):
    da = med(x - y for x, y in zip(a[k], a[k - 1]))
    db = med(x - y for x, y in zip(b[k], b[k - 1]))
    print("%s, step %d (%s): %s %+.3f s, %s %+.3f s, ratio %s" % (label, k + 1, spec[k][0], na, da, nb, db, ratio(da, db)))
da = med((x - y) / (n - 1) for x, y in zip(a[-1], a[0]))
db = med((x - y) / (n - 1) for x, y in zip(b[-1], b[0]))
print("%s, per step after the first, (T%d - T1) / %d: %s %.3f s, %s %.3f s, ratio %s"
      % (label, n, n - 1, na, da, nb, db, ratio(da, db)))
EOF
rounds() { python3 "$T/rounds.py" "$RUNS" "$T/cmd.log" "$@"; }

# The context: CTX_FILES incompressible files, CTX_MB in all, in two folders
mkdir -p "$T/ctx/data/a" "$T/ctx/data/b" "$T/df"
size=$((CTX_MB * 1048576 / CTX_FILES))
i=0
while [ $i -lt "$CTX_FILES" ]; do
	head -c "$size" /dev/urandom >"$T/ctx/data/$([ $((i % 2)) = 0 ] && echo a || echo b)/f$i"
	i=$((i + 1))
done

# bench NAME STEP... : the Dockerfile of those steps cut after each step, cold then warm
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
		k=0
		for step in "$@"; do
			k=$((k + 1))
			tag=bench/$name-$k
			vprep='' bprep=''
			if [ $mode = cold ]; then	# back to a store with busybox alone
				vprep="$VMM rmi $tag"
				bprep="$BH rmi $tag; $BH rmi --prune"
			fi
			printf '%s\t%s\t%s\t%s\t%s\n' "$step" \
				"$vprep" "exec $VMM build -q $vflags -t $tag -f $T/df/$name.$k $T/ctx" \
				"$bprep" "exec $BH bud --isolation chroot -q --format docker --pull-never $bflags -t $tag -f $T/df/$name.$k $T/ctx"
		done | rounds "build $mode, $name" vmm buildah
	done
}

echo "build bench: $RUNS rounds, medians of whole-process wall times; ratio = vmm / peer; context $CTX_FILES files, $CTX_MB MB"
bench config "FROM busybox" "COPY data /app/data" "ENV APP_HOME=/app MODE=bench" "WORKDIR /app" \
	'CMD ["ls", "-l", "/app/data"]'
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	bench run "FROM busybox" "COPY data /app/data" "RUN du -sk /app/data >/app/size" "WORKDIR /app" \
		'CMD ["cat", "/app/size"]'
else
	echo "build, with a RUN step: skipped: /dev/kvm not accessible on this host"
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
how="a loop-mounted copy of the parent"
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
if ! "$VMM" rootfs diff "$T/parent.img" "$T/child.img" -o "$T/diff.tar" >"$T/diff.log" 2>&1; then
	echo "layer diff: FAIL: $(tail -1 "$T/diff.log")"
	exit 0
fi
echo "layer diff: parent $BASE_FILES files, $BASE_MB MB; child $how, with $CHANGE_MB MB of new files;" \
	"the layer: $(sed 's/^[^:]*: //' "$T/diff.log")"
printf 'diff\t%s\t%s\t%s\t%s\n' \
	"rm -f $T/diff.tar" "exec $VMM rootfs diff -q $T/parent.img $T/child.img -o $T/diff.tar" \
	"rm -f $T/peer.tar" "exec tar -cf $T/peer.tar -C $T/chg ." |
	rounds "layer diff, $CHANGE_MB MB change" "vmm rootfs diff" "tar -cf of the same files"
exit 0
