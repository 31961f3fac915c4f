#!/bin/sh
# vmm disk against qemu-img (the oracle): images we write pass `qemu-img check`
# and compare equal; images qemu-img writes read back byte for byte through our
# backend; info/check/resize agree with qemu-img; backing files outside the
# image's directory are refused; malformed images give one error, never a crash.
. tests/integration/lib.sh

if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
	skip "disk tests" "qemu-img/qemu-io not installed (scripts/install-deps.sh installs qemu-utils)"
	exit 0
fi
cd "$T" || exit 1

# put_be FILE OFFSET BYTES VALUE: patch a big-endian integer into a file.
put_be() {
	s="" i=$(($3 - 1))
	while [ $i -ge 0 ]; do
		s="$s$(printf '\\%03o' $(( ($4 >> (8 * i)) & 255 )))"
		i=$((i - 1))
	done
	printf "$s" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# get_be FILE OFFSET BYTES: read a big-endian integer.
get_be() { echo $((0x$(od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'))); }
# jval KEY < json: the first scalar value of KEY.
jval() { sed -n "s/^ *\"$1\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\} *\$/\1/p" | head -1; }
# readback NAME IMAGE: our reading of IMAGE equals qemu-img's.
readback() {
	rm -f mine.raw ref.raw
	if ! out=$("$VMM" disk convert -O raw "$2" mine.raw 2>&1); then fail "$1" "convert: $out"; return; fi
	qemu-img convert -O raw "$2" ref.raw
	if cmp -s mine.raw ref.raw; then pass "$1"; else fail "$1" "$(cmp mine.raw ref.raw 2>&1 | head -1)"; fi
}
# one_error NAME CMD...: fails with exit 1..125 and exactly one "vmm: error:" line.
one_error() {
	name=$1; shift
	"$@" >out.txt 2>err.txt; rc=$?
	n=$(grep -c '^vmm: error:' err.txt)
	if [ $rc -ge 1 ] && [ $rc -lt 126 ] && [ "$n" -eq 1 ]; then pass "$name"
	else fail "$name" "exit $rc, $n error lines: $(head -3 err.txt | tr '\n' ' ')"; fi
}

# Some data: text (compresses), random extents, holes.
seq 1 200000 > text.txt
head -c 3000000 /dev/urandom > rnd.bin
cp text.txt data.raw
dd if=rnd.bin of=data.raw bs=64k seek=100 conv=notrunc 2>/dev/null
dd if=rnd.bin of=data.raw bs=1k seek=50001 count=7 conv=notrunc 2>/dev/null
truncate -s 64M data.raw

# --- create ---------------------------------------------------------------
check "create qcow2 (default 64K, v3)" "$VMM" disk create a.qcow2 1G
check "qemu-img check of a new image" qemu-img check -q a.qcow2
qemu-img info --output=json a.qcow2 > q.json
"$VMM" disk info --json a.qcow2 > v.json
for k in format virtual-size cluster-size compat refcount-bits dirty-flag corrupt compression-type; do
	expect_eq "info --json $k as qemu-img" "$(jval $k < q.json)" "$(jval $k < v.json)"
done
expect_match "info text" "virtual size: 1 GiB \(1073741824 bytes\)" "$("$VMM" disk info a.qcow2)"
check "create v2 with 512 B clusters" "$VMM" disk create -o cluster_size=512,compat=0.10 b.qcow2 100M
expect_eq "v2 compat as qemu-img sees it" "0.10" "$(qemu-img info --output=json b.qcow2 | jval compat)"
check "qemu-img check of the v2 image" qemu-img check -q b.qcow2
check "create raw" "$VMM" disk create -f raw r.raw 10M
expect_eq "raw size" "10485760" "$(stat -c %s r.raw)"
check "create with a relative raw backing file (size from it)" "$VMM" disk create -b data.raw -F raw ov.qcow2
qemu-img info --output=json ov.qcow2 > q.json
expect_eq "backing name stored as given" "data.raw" "$(jval backing-filename < q.json)"
expect_eq "backing format extension" "raw" "$(jval backing-filename-format < q.json)"
expect_eq "size defaults to the backing size" "67108864" "$(jval virtual-size < q.json)"
"$VMM" disk info --json ov.qcow2 > v.json
expect_eq "info full-backing-filename as qemu-img" "$(jval full-backing-filename < q.json)" \
	"$(jval full-backing-filename < v.json)"
readback "overlay reads its raw backing" ov.qcow2
check "create with a probed qcow2 backing" "$VMM" disk create -b ov.qcow2 ov2.qcow2 128M
expect_eq "probed backing format" "qcow2" "$(qemu-img info --output=json ov2.qcow2 | jval backing-filename-format)"
one_error "create: bad size" "$VMM" disk create x.qcow2 12Q
one_error "create: bad cluster size" "$VMM" disk create -o cluster_size=1000 x.qcow2 1M

# --- what we write: convert -------------------------------------------------
for cs in 512 65536 2M; do
	check "convert raw -> qcow2 ($cs clusters)" "$VMM" disk convert -O qcow2 -o cluster_size=$cs data.raw c$cs.qcow2
	check "qemu-img check ($cs)" qemu-img check -q c$cs.qcow2
	check "qemu-img compare ($cs)" qemu-img compare -q data.raw c$cs.qcow2
done
check "convert -c (compressed)" "$VMM" disk convert -c -O qcow2 data.raw cz.qcow2
check "qemu-img check of compressed" qemu-img check -q cz.qcow2
check "qemu-img compare of compressed" qemu-img compare -q data.raw cz.qcow2
expect_match "compressed clusters present" "compressed" "$(qemu-img check cz.qcow2)"
sz_c=$(stat -c %s cz.qcow2); sz_u=$(stat -c %s c65536.qcow2)
if [ "$sz_c" -lt "$sz_u" ]; then pass "compressed image is smaller ($sz_c < $sz_u)"; else fail "compressed image is smaller" "$sz_c >= $sz_u"; fi
check "convert compat 0.10 target" "$VMM" disk convert -O qcow2 -o compat=0.10 data.raw v2.qcow2
check "qemu-img compare v2 target" qemu-img compare -q data.raw v2.qcow2
check "convert qcow2 -> raw" "$VMM" disk convert c65536.qcow2 back.raw
check "raw round trip is identical" cmp data.raw back.raw
alloc=$(du -k back.raw | cut -f1)
if [ "$alloc" -lt 20000 ]; then pass "raw target is sparse (${alloc} KiB)"; else fail "raw target is sparse" "${alloc} KiB allocated"; fi
check "convert overlay + backing -> qcow2" "$VMM" disk convert -O qcow2 ov.qcow2 flat.qcow2
check "flattened overlay compares equal" qemu-img compare -q ov.qcow2 flat.qcow2

# --- what qemu-img writes: read back byte for byte --------------------------
for cs in 512 65536 2M; do
	for compat in 0.10 1.1; do
		qemu-img create -q -f qcow2 -o cluster_size=$cs,compat=$compat q.qcow2 16M
		qemu-io -c 'write -P 0x11 0 1M' -c 'write -P 0x22 3M 5000' -c 'write -z 256k 512k' \
			-c 'discard 4M 2M' -c 'write -P 0x33 4200k 3k' -c 'write -z -u 8M 4M' \
			-c 'write -P 0x44 15M 1M' q.qcow2 >/dev/null
		readback "qemu-img image, $cs clusters, compat $compat" q.qcow2
	done
done
qemu-img convert -c -O qcow2 data.raw qz.qcow2
readback "qemu-img convert -c (compressed) image" qz.qcow2
qemu-img convert -c -O qcow2 -o cluster_size=4k data.raw qz4.qcow2
readback "qemu-img compressed image, 4K clusters" qz4.qcow2
if qemu-img convert -c -O qcow2 -o compression_type=zstd data.raw qzs.qcow2 2>/dev/null; then
	readback "qemu-img zstd-compressed image" qzs.qcow2
else
	skip "qemu-img zstd-compressed image" "this qemu-img has no zstd"
fi
head -c 8M /dev/urandom > base.raw
qemu-img create -q -f qcow2 -b base.raw -F raw ch1.qcow2
qemu-io -c 'write -P 1 1M 100k' -c 'write -z 2M 64k' ch1.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o cluster_size=512 -b ch1.qcow2 -F qcow2 ch2.qcow2
qemu-io -c 'write -P 2 1050k 3k' -c 'discard 2M 4k' ch2.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o cluster_size=2M -b ch2.qcow2 -F qcow2 ch3.qcow2 12M
qemu-io -c 'write -P 3 3M 10k' -c 'write -P 4 10M 10k' ch3.qcow2 >/dev/null
readback "backing chain 3 deep over raw" ch3.qcow2
expect_eq "info --backing-chain lists 4 images" "4" "$("$VMM" disk info --backing-chain ch3.qcow2 | grep -c '^image:')"
qemu-img snapshot -c snap1 ch1.qcow2
qemu-io -c 'write -P 9 1M 64k' ch1.qcow2 >/dev/null
readback "image with an internal snapshot reads its active layer" ch1.qcow2
check "check counts snapshot references" "$VMM" disk check ch1.qcow2
one_error "writing an image with internal snapshots is refused" "$VMM" disk resize ch1.qcow2 +1M
expect_match "refusal names internal snapshots" "internal snapshots" "$(cat err.txt)"

# --- check ------------------------------------------------------------------
qemu-img create -q -f qcow2 leak.qcow2 16M
qemu-io -c 'write -P 5 1M 64k' -c 'write -P 6 9M 64k' leak.qcow2 >/dev/null
l1=$(get_be leak.qcow2 40 8)
put_be leak.qcow2 "$l1" 8 0		# drop the only L2 table: it and 2 data clusters leak
"$VMM" disk check leak.qcow2 >out.txt 2>&1; rc=$?
expect_eq "check exit code for leaks only" "3" "$rc"
expect_match "check counts 3 leaked clusters" "^3 leaked clusters" "$(cat out.txt)"
qemu-img check leak.qcow2 >/dev/null 2>&1; expect_eq "qemu-img agrees (leaks)" "3" "$?"
check "check -r leaks" "$VMM" disk check -r leaks leak.qcow2
check "qemu-img check clean after repair" qemu-img check -q leak.qcow2

qemu-img create -q -f qcow2 bad.qcow2 16M
qemu-io -c 'write -P 5 1M 64k' bad.qcow2 >/dev/null
put_be bad.qcow2 $((0x20000 + 5 * 2)) 2 0	# refcount of the data cluster -> 0
"$VMM" disk check bad.qcow2 >/dev/null 2>&1; expect_eq "check exit code for corruption" "2" "$?"
qemu-img check bad.qcow2 >/dev/null 2>&1; expect_eq "qemu-img agrees (corruption)" "2" "$?"
check "check -r all" "$VMM" disk check -r all bad.qcow2
check "qemu-img check clean after -r all" qemu-img check -q bad.qcow2
qemu-io -c 'read -P 5 1M 64k' bad.qcow2 >/dev/null 2>&1; expect_eq "data intact after rebuild" "0" "$?"
check "check of a clean image" "$VMM" disk check c512.qcow2
one_error "check of a raw image" "$VMM" disk check data.raw

# --- resize -----------------------------------------------------------------
"$VMM" disk create -o cluster_size=512 rs.qcow2 1M >/dev/null
qemu-io -c 'write -P 7 100k 200k' rs.qcow2 >/dev/null
check "resize grows past the L1 table" "$VMM" disk resize rs.qcow2 300M
expect_eq "new size as qemu-img sees it" "314572800" "$(qemu-img info --output=json rs.qcow2 | jval virtual-size)"
check "qemu-img check after resize" qemu-img check -q rs.qcow2
qemu-io -c 'read -P 7 100k 200k' rs.qcow2 >/dev/null 2>&1; expect_eq "data kept across resize" "0" "$?"
check "resize +1G" "$VMM" disk resize a.qcow2 +1G
expect_eq "relative resize" "2147483648" "$(qemu-img info --output=json a.qcow2 | jval virtual-size)"
one_error "shrinking refused" "$VMM" disk resize a.qcow2 1G
expect_match "shrink message" "shrinking is not supported" "$(cat err.txt)"
check "resize raw" "$VMM" disk resize r.raw 20M
expect_eq "raw resized" "20971520" "$(stat -c %s r.raw)"

# --- backing-file policy ----------------------------------------------------
qemu-img create -q -f qcow2 -u -b /etc/passwd -F raw evil.qcow2 1M
one_error "absolute backing path (/etc/passwd) refused" "$VMM" disk convert evil.qcow2 x.raw
expect_match "refusal names the path and the flag" "/etc/passwd.*--allow-unsafe-backing" "$(cat err.txt)"
check "followed with --allow-unsafe-backing" "$VMM" disk convert --allow-unsafe-backing evil.qcow2 x.raw
check "info does not follow backing files" "$VMM" disk info evil.qcow2
mkdir -p sub
qemu-img create -q -f qcow2 -u -b ../data.raw -F raw sub/esc.qcow2 64M
one_error "'../' escape refused" "$VMM" disk convert sub/esc.qcow2 x.raw
expect_match "refusal for ../ names the flag" "--allow-unsafe-backing" "$(cat err.txt)"
check "'../' followed with --allow-unsafe-backing" "$VMM" disk convert --allow-unsafe-backing sub/esc.qcow2 x.raw
mkdir -p store/disks
cp base.raw store/disks/base.raw
qemu-img create -q -f qcow2 -u -b "$T/store/disks/base.raw" -F raw sub/ct.qcow2 8M
check "absolute path in the store's disks/ is trusted" "$VMM" --root "$T/store" disk convert sub/ct.qcow2 x.raw
one_error "the same without that store is refused" "$VMM" --root "$T/other" disk convert sub/ct.qcow2 x.raw
ln -s /etc/passwd sneaky.raw
qemu-img create -q -f qcow2 -u -b sneaky.raw -F raw sym.qcow2 1M
one_error "symlink leading outside refused" "$VMM" disk convert sym.qcow2 x.raw

# --- malformed images: one error, no crash -----------------------------------
mal() {	# NAME OFFSET BYTES VALUE [command]
	qemu-img create -q -f qcow2 m.qcow2 16M
	qemu-io -c 'write -P 1 0 128k' m.qcow2 >/dev/null
	put_be m.qcow2 "$2" "$3" "$4"
	one_error "malformed: $1 (info)" "$VMM" disk info -f qcow2 m.qcow2
	one_error "malformed: $1 (convert)" "$VMM" disk convert -f qcow2 m.qcow2 x.raw
	"$VMM" disk check m.qcow2 >/dev/null 2>&1; rc=$?
	if [ $rc -ge 1 ] && [ $rc -le 3 ]; then pass "malformed: $1 (check exit $rc)"; else fail "malformed: $1 (check)" "exit $rc"; fi
}
mal "cluster_bits 30" 20 4 30
mal "L1 offset past the end" 40 8 $((1 << 40))
mal "virtual size 2^62" 24 8 $((1 << 62))
mal "refcount table 2^31 clusters" 56 4 $((1 << 31))
mal "L1 overlaps the refcount table" 40 8 65536
mal "unknown incompatible feature" 72 8 32
qemu-img create -q -f qcow2 -b data.raw -F raw m.qcow2
put_be m.qcow2 16 4 5000
one_error "malformed: backing name too long (info)" "$VMM" disk info m.qcow2
one_error "malformed: backing name too long (convert)" "$VMM" disk convert m.qcow2 x.raw
qemu-img create -q -f qcow2 m.qcow2 16M
qemu-io -c 'write -P 1 0 128k' m.qcow2 >/dev/null
put_be m.qcow2 $((0x40000)) 8 $(( (1 << 50) | (1 << 63) ))	# L2 entry far past the end
one_error "malformed: data cluster past the end (convert)" "$VMM" disk convert m.qcow2 x.raw
"$VMM" disk check m.qcow2 >/dev/null 2>&1; expect_eq "malformed: data cluster past the end (check)" "2" "$?"
qemu-img create -q -f qcow2 loopa.qcow2 1M; qemu-img create -q -f qcow2 loopb.qcow2 1M
qemu-img rebase -q -u -b loopb.qcow2 -F qcow2 loopa.qcow2; qemu-img rebase -q -u -b loopa.qcow2 -F qcow2 loopb.qcow2
one_error "backing loop refused" "$VMM" disk convert loopa.qcow2 x.raw
expect_match "loop named" "loop" "$(cat err.txt)"
qemu-img create -q -f qcow2 -o refcount_bits=1,cluster_size=4k of.qcow2 1M
qemu-io -c 'write -P 1 0 8k' of.qcow2 >/dev/null
l2=$(( $(get_be of.qcow2 $(( $(get_be of.qcow2 40 8) + 1 )) 7) & 0xfffffffffe00 ))
dd if=of.qcow2 of=of.qcow2 bs=1 skip="$l2" seek=$((l2 + 8)) count=8 conv=notrunc 2>/dev/null	# two L2 entries, one cluster
"$VMM" disk check of.qcow2 >/dev/null 2>&1; expect_eq "refcount overflow (1-bit, 2 references) is corruption" "2" "$?"
"$VMM" disk check -r all of.qcow2 >/dev/null 2>err.txt; rc=$?
if [ $rc -ge 1 ] && [ $rc -lt 126 ]; then pass "unrepairable overflow fails cleanly (exit $rc)"; else fail "unrepairable overflow" "exit $rc"; fi
