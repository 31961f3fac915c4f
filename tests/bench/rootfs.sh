#!/bin/sh
# Benchmark: image layer -> ext4 root disk.
#   vmm rootfs build        rootless, straight from the tar into the image
#   tar -x + mke2fs -d      the usual pair (as root, to keep owners), same layer, same size
# A generated tree (default ~50k files / ~500 MB: mixed sizes, nested dirs, one big
# directory, symlinks, hardlinks) packed as one tar layer; best of ROUNDS runs each,
# alternating, with a sync in between. Prints both times and the ratio.
# Usage: tests/bench/rootfs.sh [BUILD_DIR]   env: FILES MB SIZE ROUNDS LAYER_GZIP=1
set -eu
BUILD=${1:-build}
VMM=$PWD/$BUILD/vmm
FILES=${FILES:-50000}
MB=${MB:-500}
SIZE=${SIZE:-4G}
ROUNDS=${ROUNDS:-2}
W=$(mktemp -d "${TMPDIR:-/tmp}/vmm-bench-rootfs.XXXXXX")
trap 'rm -rf "$W"' EXIT

python3 tests/bench/rootfs_gentree.py "$W/src" "$FILES" "$MB"
entries=$(find "$W/src" | wc -l)
tar --numeric-owner -C "$W/src" -cf "$W/layer.tar" .
rm -rf "$W/src"
LAYER=$W/layer.tar
XFLAGS=
if [ "${LAYER_GZIP:-0}" = 1 ]; then
	gzip -1 -c "$LAYER" >"$LAYER.gz"
	rm "$LAYER"
	LAYER=$LAYER.gz
	XFLAGS=z
fi
layer_mb=$(( $(stat -c %s "$LAYER") / 1000000 ))

now() { date +%s.%N; }
best_ours=
best_peer=
r=0
while [ $r -lt "$ROUNDS" ]; do
	r=$((r + 1))
	rm -f "$W/ours.img"; sync
	t0=$(now)
	"$VMM" rootfs build -q --size "$SIZE" "$W/ours.img" "$LAYER"
	t1=$(now)
	rm -rf "$W/x" "$W/peer.img"; sync
	t2=$(now)
	mkdir "$W/x"
	tar -C "$W/x" -x${XFLAGS}f "$LAYER"
	mke2fs -q -F -t ext4 -d "$W/x" "$W/peer.img" "$SIZE" >/dev/null
	t3=$(now)
	ours=$(echo "$t1 - $t0" | bc)
	peer=$(echo "$t3 - $t2" | bc)
	echo "round $r: vmm rootfs build ${ours}s, tar -x + mke2fs -d ${peer}s"
	if [ -z "$best_ours" ] || [ "$(echo "$ours < $best_ours" | bc)" = 1 ]; then best_ours=$ours; fi
	if [ -z "$best_peer" ] || [ "$(echo "$peer < $best_peer" | bc)" = 1 ]; then best_peer=$peer; fi
done
e2fsck -fn "$W/ours.img" >/dev/null 2>&1 && ours_fsck=clean || ours_fsck=ERRORS
e2fsck -fn "$W/peer.img" >/dev/null 2>&1 && peer_fsck=clean || peer_fsck=ERRORS
echo
echo "rootfs bench: $entries entries, ${layer_mb} MB layer$( [ -n "$XFLAGS" ] && echo ' (gzip)'), $SIZE filesystem, best of $ROUNDS"
printf '  %-32s %8.2f s  (e2fsck %s, %s KiB on disk)\n' "vmm rootfs build (rootless)" "$best_ours" \
	"$ours_fsck" "$(du -k "$W/ours.img" | cut -f1)"
printf '  %-32s %8.2f s  (e2fsck %s, %s KiB on disk)\n' "tar -x + mke2fs -t ext4 -d" "$best_peer" \
	"$peer_fsck" "$(du -k "$W/peer.img" | cut -f1)"
printf '  ratio (tar+mke2fs / vmm): %.2fx\n' "$(echo "$best_peer / $best_ours" | bc -l)"
