#!/bin/sh
# Disk-format layer against qemu-img, same files, same run:
#   - vmm disk convert vs qemu-img convert: raw -> qcow2 and qcow2 -> raw of a 1 GiB
#     image about 40% filled (random and text extents, zero runs, holes)
#   - 4 KiB reads/writes through our backend (vmm disk bench, synchronous, one
#     request at a time) vs qemu-img bench (its default queue depth 64, writeback
#     cache) on the same qcow2 image, with a large odd step so offsets jump around
# Prints seconds and the ratio qemu-img/vmm (above 1: vmm is faster). Best of 3.
# Usage: tests/bench/disk.sh [BUILD_DIR]   (DISK_BENCH_MB=1024 sets the image size)
set -u
BUILD=${1:-build}
VMM="$PWD/$BUILD/vmm"
MB=${DISK_BENCH_MB:-1024}
COUNT=${DISK_BENCH_COUNT:-200000}
T=$(mktemp -d "${TMPDIR:-/tmp}/vmm-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
command -v qemu-img >/dev/null || { echo "bench: qemu-img not installed"; exit 1; }

now() { date +%s.%N; }
# best3 CMD...: best wall time of three runs, in seconds.
best3() {
	best=""
	for _ in 1 2 3; do
		t0=$(now); "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; echo 0; return; }; t1=$(now)
		best=$(echo "$t0 $t1 ${best:-999999}" | awk '{d = $2 - $1; print (d < $3) ? d : $3}')
	done
	echo "$best"
}
row() {	# label qemu_s vmm_s
	echo "$1 $2 $3" | awk '{ r = ($3 > 0) ? $2 / $3 : 0;
		printf "%-38s qemu-img %7.3fs   vmm %7.3fs   ratio %5.2fx\n", $1, $2, $3, r }'
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

q=$(best3 qemu-img convert -O qcow2 src.raw q.qcow2)
v=$(best3 "$VMM" disk convert -O qcow2 src.raw v.qcow2)
row "convert raw -> qcow2" "$q" "$v"
qemu-img compare -q src.raw v.qcow2 || echo "MISMATCH: vmm raw -> qcow2"
q=$(best3 qemu-img convert -O raw src.qcow2 q.raw)
v=$(best3 "$VMM" disk convert -O raw src.qcow2 v.raw)
row "convert qcow2 -> raw" "$q" "$v"
cmp -s src.raw v.raw || echo "MISMATCH: vmm qcow2 -> raw"
rm -f q.raw v.raw q.qcow2 v.qcow2

STEP=$((4096 * 7919))
qemu-img create -q -f qcow2 -o preallocation=falloc bench.qcow2 "${MB}M"
q=$(best3 qemu-img bench -q -f qcow2 -t writeback -c "$COUNT" -s 4k -S "$STEP" bench.qcow2)
v=$(best3 "$VMM" disk bench -f qcow2 -c "$COUNT" -s 4k -S "$STEP" bench.qcow2)
row "4K reads, allocated qcow2" "$q" "$v"
q=$(best3 qemu-img bench -q -f qcow2 -t writeback -w -c "$COUNT" -s 4k -S "$STEP" bench.qcow2)
v=$(best3 "$VMM" disk bench -f qcow2 -w -c "$COUNT" -s 4k -S "$STEP" bench.qcow2)
row "4K writes, allocated qcow2" "$q" "$v"
q=$(best3 qemu-img bench -q -f qcow2 -t writeback -c "$COUNT" -s 4k -S "$STEP" src.qcow2)
v=$(best3 "$VMM" disk bench -f qcow2 -c "$COUNT" -s 4k -S "$STEP" src.qcow2)
row "4K reads, 40% filled qcow2" "$q" "$v"
# Allocating writes: a fresh empty image for every run.
fresh() { qemu-img create -q -f qcow2 e.qcow2 "${MB}M" && "$@" e.qcow2; }
q=$(best3 fresh qemu-img bench -q -f qcow2 -t writeback -w -c "$COUNT" -s 4k -S "$STEP")
v=$(best3 fresh "$VMM" disk bench -f qcow2 -w -c "$COUNT" -s 4k -S "$STEP")
row "4K writes, allocating (empty qcow2)" "$q" "$v"
qemu-img check -q e.qcow2 || echo "qemu-img check FAILED after vmm allocating writes"
q=$(best3 qemu-img bench -q -f qcow2 -t writeback -d 1 -c "$COUNT" -s 4k -S "$STEP" bench.qcow2)
v=$(best3 "$VMM" disk bench -f qcow2 -c "$COUNT" -s 4k -S "$STEP" bench.qcow2)
row "4K reads, qemu-img at depth 1" "$q" "$v"
