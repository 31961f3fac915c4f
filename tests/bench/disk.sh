#!/bin/sh
# Disk-format layer against qemu-img, same files, same run:
#   - vmm disk convert vs qemu-img convert: raw -> qcow2 and qcow2 -> raw of a 1 GiB
#     image about 40% filled (random and text extents, zero runs, holes)
#   - 4 KiB reads/writes through our backend (build/tests/disk-bench, synchronous, one
#     request at a time) vs qemu-img bench (its default queue depth 64, writeback
#     cache) on the same qcow2 image, with a large odd step so offsets jump around
# Prints seconds and the ratio qemu-img/vmm (above 1: vmm is faster): best of 3, interleaved,
# after `sync`. Both converts leave the target to the page cache (qemu-img: cache=unsafe).
# Usage: tests/bench/disk.sh [BUILD_DIR]   (DISK_BENCH_MB=1024 sets the image size)
set -u
BUILD=${1:-build}
VMM="$PWD/$BUILD/vmm"
DISK_BENCH="$PWD/$BUILD/tests/disk-bench"
MB=${DISK_BENCH_MB:-1024}
COUNT=${DISK_BENCH_COUNT:-200000}
T=$(mktemp -d "${TMPDIR:-/tmp}/vmm-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
command -v qemu-img >/dev/null || { echo "bench: qemu-img not installed"; exit 1; }

now() { date +%s.%N; }
# timeit CMD...: wall time of one run (after prep, untimed, and dirty data written out).
prep() { :; }
timeit() {
	prep >/dev/null 2>&1
	sync
	t0=$(now)
	"$@" >/dev/null 2>&1 || echo "FAILED: $*" >&2
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }'
}
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? a : b }'; }
# measure LABEL: best of 3 of the shell functions q (qemu-img) and v (vmm), interleaved.
measure() {
	bq=999999 bv=999999
	for _ in 1 2 3; do
		bq=$(min "$bq" "$(timeit q)")
		bv=$(min "$bv" "$(timeit v)")
	done
	row "$1" "$bq" "$bv"
}
row() {	# label qemu_s vmm_s
	awk -v l="$1" -v q="$2" -v v="$3" 'BEGIN { r = (v > 0) ? q / v : 0;
		printf "%-38s qemu-img %7.3fs   vmm %7.3fs   ratio %5.2fx\n", l, q, v, r }'
}

echo "# preparing a ${MB} MiB image, about 40% filled"
head -c 16M /dev/urandom > rnd.bin
seq 1 2000000 | head -c 16M > text.bin
truncate -s "${MB}M" src.raw
i=0
while [ $i -lt $((MB / 40)) ]; do
	off=$(( (i * 40 + (i * 7) % 13) ))
	dd if=rnd.bin of=src.raw bs=1M seek="$off" count=$((4 + i % 9)) conv=notrunc 2>/dev/null
	dd if=text.bin of=src.raw bs=1M seek=$((off + 16)) count=$((3 + i % 5)) conv=notrunc 2>/dev/null
	dd if=/dev/zero of=src.raw bs=1M seek=$((off + 20)) count=2 conv=notrunc 2>/dev/null
	i=$((i + 1))
done
echo "# source: $(du -h src.raw | cut -f1) allocated of ${MB} MiB"
qemu-img convert -O qcow2 src.raw src.qcow2

prep() { rm -f q.qcow2 v.qcow2 q.raw v.raw; }
q() { qemu-img convert -O qcow2 src.raw q.qcow2; }
v() { "$VMM" disk convert -O qcow2 src.raw v.qcow2; }
measure "convert raw -> qcow2"
qemu-img compare -q src.raw v.qcow2 || echo "MISMATCH: vmm raw -> qcow2"
q() { qemu-img convert -O raw src.qcow2 q.raw; }
v() { "$VMM" disk convert -O raw src.qcow2 v.raw; }
measure "convert qcow2 -> raw"
cmp -s src.raw v.raw || echo "MISMATCH: vmm qcow2 -> raw"
q() { qemu-img convert -c -O qcow2 src.raw q.qcow2; }
v() { "$VMM" disk convert -c -O qcow2 src.raw v.qcow2; }
measure "convert -c raw -> qcow2 (compressed)"
qemu-img compare -q src.raw v.qcow2 || echo "MISMATCH: vmm raw -> compressed qcow2"
rm -f q.raw v.raw q.qcow2 v.qcow2

STEP=$((4096 * 7919))
B="-c $COUNT -s 4k -S $STEP"
qemu-img create -q -f qcow2 -o preallocation=falloc bench.qcow2 "${MB}M"
q() { qemu-img bench -q -f qcow2 -t writeback $B bench.qcow2; }
v() { "$DISK_BENCH" -f qcow2 $B bench.qcow2; }
measure "4K reads, allocated qcow2"
q() { qemu-img bench -q -f qcow2 -t writeback -w $B bench.qcow2; }
v() { "$DISK_BENCH" -f qcow2 -w $B bench.qcow2; }
measure "4K writes, allocated qcow2"
q() { qemu-img bench -q -f qcow2 -t writeback $B src.qcow2; }
v() { "$DISK_BENCH" -f qcow2 $B src.qcow2; }
measure "4K reads, 40% filled qcow2"
# Allocating writes: a fresh empty image for every run.
# (Deleting the previous, fragmented file can take seconds: done untimed in prep.)
prep() { rm -f e.qcow2; sync; qemu-img create -q -f qcow2 e.qcow2 "${MB}M"; }
q() { qemu-img bench -q -f qcow2 -t writeback -w $B e.qcow2; }
v() { "$DISK_BENCH" -f qcow2 -w $B e.qcow2; }
measure "4K writes, allocating (empty qcow2)"
qemu-img check -q e.qcow2 || echo "qemu-img check FAILED after vmm allocating writes"
rm -f e.qcow2
prep() { :; }
q() { qemu-img bench -q -f qcow2 -t writeback -d 1 $B bench.qcow2; }
v() { "$DISK_BENCH" -f qcow2 $B bench.qcow2; }
measure "4K reads, qemu-img at depth 1"
