#!/bin/sh
# images/rootfs diff: the layer between a parent ext4 image and a child modified through a
# loop mount, applied back over the parent's layers with `vmm rootfs build`, must give the
# child's tree exactly (rootfs_tree.py); the same through a qcow2 overlay; journals left
# unrecovered are replayed in memory (checked against debugfs' own replay); corrupted
# images are refused with one line; vmm diff and vmm export on a created container.
. tests/integration/lib.sh

TREE="python3 $TESTS_DIR/integration/rootfs_tree.py"
LAYERS="python3 $TESTS_DIR/integration/rootfs_layers.py"
MNT=$T/mnt
mkdir -p "$MNT"
cleanup_hook() { umount "$MNT" 2>/dev/null || true; }
v() { "$VMM" "$@"; }

# dump_img IMG OUT: the image's tree, directory mtimes included (loop mount: root only)
dump_img() {
	mount -o loop,ro "$1" "$MNT" 2>"$T/mount.err" || return 1
	$TREE "$MNT" --skip lost+found >"$2"
	rc=$?
	umount "$MNT"
	return $rc
}
# same_tree NAME WANT.img GOT.img
same_tree() {
	if ! dump_img "$2" "$T/want.txt" || ! dump_img "$3" "$T/got.txt"; then
		fail "$1" "loop mount failed: $(cat "$T/mount.err")"
	elif diff -u "$T/want.txt" "$T/got.txt" >"$T/tree.diff"; then
		pass "$1 ($(wc -l <"$T/want.txt") entries)"
	else
		fail "$1" "$(head -20 "$T/tree.diff" | tr '\n' ' ')"
	fi
}
fsck_ok() { e2fsck -fn "$1" >"$T/fsck.out" 2>&1; }

if [ "$(id -u)" -ne 0 ]; then
	skip "rootfs diff" "needs root (mknod, chown, loop mounts)"
	exit 0
fi

# ---- the parent: one layer made with GNU tar ----------------------------------------
P=$T/p
LONG=$(python3 -c 'print("L" * 253)')
mkdir -p "$P/etc" "$P/bin" "$P/usr/bin" "$P/usr/lib/deep/a/b/c" "$P/d-del/sub" "$P/dir2file" \
	"$P/recreate" "$P/longdel" "$P/var" "$P/dev" "$P/run" "$P/café" "$P/space dir" "$P/hl" \
	"$P/hl2" "$P/tmp" "$P/shared" "$P/mvdir" "$P/hl3"
echo 'root:x:0:0:root:/root:/bin/sh' >"$P/etc/passwd"
echo 'root:x:0:' >"$P/etc/group"
echo keep >"$P/etc/keep"
echo m >"$P/etc/chmod-me"
echo o >"$P/etc/chown-me"
echo x >"$P/etc/xattr" && python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.old", b"1")' "$P/etc/xattr"
echo n >"$P/etc/noxattr"
printf 'busybox-binary' >"$P/bin/busybox" && chmod 755 "$P/bin/busybox"
ln "$P/bin/busybox" "$P/bin/ls" && ln "$P/bin/busybox" "$P/bin/cat"
ln -s busybox "$P/bin/sh"
echo su >"$P/usr/bin/su" && chmod 755 "$P/usr/bin/su"
echo deep >"$P/usr/lib/deep/a/b/c/unchanged"
echo x >"$P/d-del/x" && echo y >"$P/d-del/sub/y"
echo gone >"$P/f-del"
echo inner >"$P/dir2file/inner"
echo f >"$P/file2dir"
echo f >"$P/file2link"
ln -s etc/keep "$P/link2file"
echo a >"$P/recreate/a" && echo b >"$P/recreate/b"
echo long >"$P/longdel/$LONG" && echo stay >"$P/longdel/stay"
truncate -s 100M "$P/var/sparse" && echo mid | dd of="$P/var/sparse" bs=1 seek=50000000 conv=notrunc 2>/dev/null
mknod "$P/dev/null" c 1 3 && mkfifo "$P/run/fifo"
echo naive >"$P/café/naïve.txt"
echo sp >"$P/space dir/a file"
echo one >"$P/hl/one" && ln "$P/hl/one" "$P/hl/two"
echo x >"$P/hl2/x" && ln "$P/hl2/x" "$P/hl2/y"
echo g >"$P/hl3/g" && ln "$P/hl3/g" "$P/mvdir/f"
chmod 1777 "$P/tmp"
touch -d '2001-02-03 04:05:06' "$P/etc/keep"
if ! tar --xattrs --xattrs-include='*' --format=pax --numeric-owner -S -C "$P" -cf "$T/l1.tar" . ||
	! v rootfs build -q -s 512M "$T/parent.img" "$T/l1.tar" 2>"$T/err"; then
	fail "rootfs diff: build the parent" "$(cat "$T/err")"
	exit 0
fi
pass "rootfs diff: parent image built from a GNU tar layer"

# ---- the child: a copy changed through a loop mount ---------------------------------
cp --sparse=always "$T/parent.img" "$T/child.img"
mount -o loop "$T/child.img" "$MNT" || { fail "rootfs diff: loop mount" "mount failed"; exit 0; }
(
	cd "$MNT" || exit 1
	echo new >etc/new
	echo 'daemon:x:1:1::/:/bin/false' >>etc/passwd
	chmod 600 etc/chmod-me
	chown 1000:1000 etc/chown-me
	chmod 4755 usr/bin/su
	python3 -c 'import os; os.setxattr("etc/xattr", "user.new", b"2"); os.removexattr("etc/xattr", "user.old"); os.setxattr("etc/noxattr", "user.added", b"yes")'
	ln -s busybox bin/newlink
	ln bin/busybox bin/grep
	rm hl2/y
	mkdir -p opt/app/sub && echo x >opt/app/x && ln opt/app/x opt/app/y && echo d >opt/app/sub/deep
	truncate -s 1G opt/big && echo data | dd of=opt/big bs=4096 seek=131072 conv=notrunc 2>/dev/null
	mknod dev/newdev c 10 200 && mkfifo run/newfifo
	rm f-del && rm -rf d-del
	rm -rf dir2file && echo now-a-file >dir2file
	rm file2dir && mkdir file2dir && echo inner >file2dir/inner
	rm file2link && ln -s etc/keep file2link
	rm link2file && echo now-a-file >link2file
	rm -rf recreate && mkdir recreate && echo b2 >recreate/b && echo c >recreate/c
	rm "longdel/$LONG"
	mv mvdir mvdir2
	chown 1000:1000 shared && chmod 2775 shared
	echo touched >"space dir/a file" && touch -d '2010-01-01 00:00:00' "space dir/a file"
)
rc=$?
umount "$MNT"
[ $rc -eq 0 ] && pass "rootfs diff: child changed through a loop mount" || fail "rootfs diff: child changed through a loop mount" "rc $rc"

# ---- the diff, applied back ---------------------------------------------------------
if v rootfs diff -l -o "$T/diff.tar" "$T/parent.img" "$T/child.img" >"$T/changes" 2>"$T/err"; then
	pass "rootfs diff: diff written"
else
	fail "rootfs diff: diff written" "$(cat "$T/err")"
fi
tar -tf "$T/diff.tar" >"$T/members" 2>&1
expect_eq "rootfs diff: docker diff's list" "C /bin
C /bin/busybox
C /bin/cat
A /bin/grep
C /bin/ls
A /bin/newlink
D /d-del
C /dev
A /dev/newdev
C /dir2file
C /etc
C /etc/chmod-me
C /etc/chown-me
A /etc/new
C /etc/noxattr
C /etc/passwd
C /etc/xattr
D /f-del
C /file2dir
A /file2dir/inner
C /file2link
C /hl2
D /hl2/y
C /link2file
C /longdel
D /longdel/$LONG
D /mvdir
A /mvdir2
A /mvdir2/f
A /opt
A /opt/app
A /opt/app/sub
A /opt/app/sub/deep
A /opt/app/x
A /opt/app/y
A /opt/big
C /recreate
D /recreate/a
C /recreate/b
A /recreate/c
C /run
A /run/newfifo
C /shared
C /space dir
C /space dir/a file
C /usr
C /usr/bin
C /usr/bin/su" "$(grep -v ': ' "$T/changes")"
for m in etc/keep var/sparse usr/lib/deep/a/b/c/unchanged dev/null run/fifo hl/one "café/naïve.txt"; do
	if grep -qx "$m" "$T/members"; then fail "rootfs diff: unchanged $m left out" "it is in the tar"; fi
done
pass "rootfs diff: unchanged files are not in the tar"
for m in .wh.f-del .wh.d-del hl2/.wh.y recreate/.wh..wh..opq recreate/b recreate/c longdel/.wh..wh..opq longdel/stay; do
	grep -qx "$m" "$T/members" || fail "rootfs diff: $m in the tar" "missing: $(tr '\n' ' ' <"$T/members")"
done
pass "rootfs diff: whiteouts and opaque markers in the tar"
expect_match "rootfs diff: a second name of a new inode is a hard link in the tar" \
	'^h.* opt/app/y link to opt/app/x' "$(tar -tvf "$T/diff.tar")"
expect_match "rootfs diff: a renamed directory keeps its hard link to an unchanged name" \
	'^h.* mvdir2/f link to hl3/g' "$(tar -tvf "$T/diff.tar")"
size=$(stat -c %s "$T/diff.tar")
[ "$size" -lt 1000000 ] && pass "rootfs diff: 1 GiB sparse file stays sparse (a $size-byte tar)" ||
	fail "rootfs diff: 1 GiB sparse file stays sparse" "a $size-byte tar"
if v rootfs build -q -s 512M "$T/rebuilt.img" "$T/l1.tar" "$T/diff.tar" 2>"$T/err"; then
	same_tree "rootfs diff: parent layer + diff = the child's tree" "$T/child.img" "$T/rebuilt.img"
	fsck_ok "$T/rebuilt.img" && pass "rootfs diff: rebuilt image e2fsck clean" ||
		fail "rootfs diff: rebuilt image e2fsck clean" "$(tail -3 "$T/fsck.out")"
else
	fail "rootfs diff: parent layer + diff = the child's tree" "$(cat "$T/err")"
fi
v rootfs diff -o "$T/same.tar" "$T/child.img" "$T/child.img" >/dev/null 2>&1
expect_eq "rootfs diff: an image against itself is an empty tar" "" "$(tar -tf "$T/same.tar")"

# ---- the same through a qcow2 overlay, and the whole tree ------------------------------
if (cd "$T" && qemu-img convert -q -f raw -O qcow2 -B parent.img -F raw child.img child.qcow2) 2>"$T/err"; then
	v rootfs diff -o "$T/diff-q.tar" "$T/parent.img" "$T/child.qcow2" >/dev/null 2>"$T/err"
	check "rootfs diff: through the qcow2 overlay, the same tar" cmp "$T/diff.tar" "$T/diff-q.tar"
	v rootfs diff -o "$T/all.tar" "$T/child.img" >/dev/null 2>&1
	v rootfs diff -o "$T/all-q.tar" "$T/child.qcow2" >/dev/null 2>&1
	check "rootfs diff: the whole tree, raw and qcow2 alike" cmp "$T/all.tar" "$T/all-q.tar"
	if v rootfs build -q -s 512M "$T/all.img" "$T/all.tar" 2>"$T/err"; then
		same_tree "rootfs diff: the whole tree rebuilds the child" "$T/child.img" "$T/all.img"
	else
		fail "rootfs diff: the whole tree rebuilds the child" "$(cat "$T/err")"
	fi
else
	fail "rootfs diff: qemu-img convert -B" "$(cat "$T/err")"
fi
rm -f "$T/rebuilt.img" "$T/all.img" "$T"/*.qcow2 "$T/all-q.tar" "$T/diff-q.tar"

# 1500 nested directories (as deep as a layer can go) export and rebuild
$LAYERS deep "$T/deep.tar"
if v rootfs build -q -s 64M "$T/deep.img" "$T/deep.tar" && v rootfs diff -o "$T/deep-all.tar" "$T/deep.img" >/dev/null 2>"$T/err" &&
	v rootfs build -q -s 64M "$T/deep2.img" "$T/deep-all.tar"; then
	same_tree "rootfs diff: 1500 nested directories" "$T/deep.img" "$T/deep2.img"
else
	fail "rootfs diff: 1500 nested directories" "$(cat "$T/err")"
fi
rm -f "$T"/deep*

# ---- an unrecovered journal is replayed in memory -------------------------------------
# jmod: the parent changed through a mount; jlog: the parent with the changed blocks only
# in its journal (debugfs journal_write), the way a killed guest leaves it.
cp --sparse=always "$T/parent.img" "$T/jmod.img"
mount -o loop "$T/jmod.img" "$MNT" && echo journaled >"$MNT/etc/journaled" && mkdir "$MNT/jdir" &&
	echo in >"$MNT/jdir/f" && rm "$MNT/etc/keep" && umount "$MNT"
debugfs -R "blocks <8>" "$T/parent.img" 2>/dev/null | tr ' ' '\n' | grep . >"$T/jblocks"
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
journal = set(int(x) for x in open(t + "/jblocks").read().split())
a, b = open(t + "/parent.img", "rb"), open(t + "/jmod.img", "rb")
out, changed, i = open(t + "/jdata", "wb"), [], 0
while True:
    x, y = a.read(4096), b.read(4096)
    if not x:
        break
    if x != y and i not in journal:
        changed.append(i)
        out.write(y)
    i += 1
open(t + "/jlist", "w").write(",".join(map(str, changed)))
open(t + "/jrevoke", "w").write(str(changed[-1]))
PY
journal_case() {	# NAME JO-OPTIONS [REVOKE]
	cp --sparse=always "$T/parent.img" "$T/jlog.img"
	{
		echo "jo $2"
		echo "jw -b $(cat "$T/jlist") $T/jdata"
		[ -n "${3:-}" ] && echo "jw -r $(cat "$T/jrevoke")"
		echo "jc"
	} >"$T/jcmds"
	debugfs -w -f "$T/jcmds" "$T/jlog.img" >/dev/null 2>&1
	cp --sparse=always "$T/jlog.img" "$T/jreplayed.img"
	debugfs -w -R jr "$T/jreplayed.img" >/dev/null 2>&1
	if ! dumpe2fs -h "$T/jlog.img" 2>/dev/null | grep -q needs_recovery; then
		fail "$1" "debugfs left no journal to recover"
		return
	fi
	if out=$(v rootfs diff -o "$T/j.tar" "$T/jlog.img" 2>&1) &&
		v rootfs build -q -s 512M "$T/j.img" "$T/j.tar" 2>"$T/err"; then
		expect_match "$1: said so" "journal was replayed" "$out"
		same_tree "$1: the tree debugfs' own replay gives" "$T/jreplayed.img" "$T/j.img"
		[ -z "${3:-}" ] && same_tree "$1: as the filesystem was mounted" "$T/jmod.img" "$T/j.img"
	else
		fail "$1" "$out $(cat "$T/err" 2>/dev/null)"
	fi
	rm -f "$T/j.img" "$T/jlog.img" "$T/jreplayed.img"
}
journal_case "rootfs diff: journal (checksums v3) replayed" "-c"
journal_case "rootfs diff: journal (no checksums) with a revoke replayed" "" revoke
rm -f "$T/jmod.img" "$T/jdata"

# ---- corrupted images: one line naming the disk and the path --------------------------
# corrupt NAME 'DEBUGFS COMMANDS' REGEX [export]
corrupt() {
	cp --sparse=always "$T/child.img" "$T/bad.img"
	printf '%s\n' "$2" | debugfs -w -f - "$T/bad.img" >"$T/debugfs.out" 2>&1
	if [ "${4:-}" = export ]; then
		v rootfs diff -o "$T/bad.tar" "$T/bad.img" >"$T/out" 2>"$T/err"
	else
		v rootfs diff -o "$T/bad.tar" "$T/parent.img" "$T/bad.img" >"$T/out" 2>"$T/err"
	fi
	rc=$?
	if [ $rc -ne 1 ]; then
		fail "$1" "exit status $rc: $(cat "$T/err" | head -3 | tr '\n' ' ')"
	elif [ "$(wc -l <"$T/err")" -ne 1 ]; then
		fail "$1" "not one line: $(cat "$T/err" | head -3 | tr '\n' ' ')"
	else
		expect_match "$1" "^vmm: error: $T/bad.img: $3" "$(cat "$T/err")"
	fi
	[ -e "$T/bad.tar" ] && fail "$1: no tar left" "bad.tar exists"
}
corrupt "rootfs diff: a directory hard link is refused" "link /usr/lib /usr/lib/deep/loop" \
	"/usr/lib/deep/loop: directory inode [0-9]+ reached twice"
corrupt "rootfs diff: a cycle back to the root is refused" "link / /etc/up" \
	"/etc/up: directory inode 2 reached twice"
corrupt "rootfs diff: a name pointing to a reserved inode is refused" "link <7> /etc/resv" \
	"/etc/resv: the name points to inode 7, which is reserved"
corrupt "rootfs diff: an extent outside the filesystem is refused" "sif /etc/keep block[5] 0xfffffff0" \
	"/etc/keep: inode [0-9]+: data block [0-9]+ lies outside the filesystem" export
corrupt "rootfs diff: a bad extent header is refused" "sif /etc/keep block[0] 0x1234" \
	"/etc/keep: inode [0-9]+: bad extent tree" export
corrupt "rootfs diff: a huge size is refused" "sif /etc/keep size 0x100000000000000" \
	"/etc/keep: inode [0-9]+: size [0-9]+ is beyond ext4's limit" export
cp --sparse=always "$T/child.img" "$T/bad.img"
debugfs -w -R "sif /etc/keep size 0x10000000000" "$T/bad.img" >/dev/null 2>&1
if v rootfs diff -o "$T/big.tar" "$T/bad.img" >/dev/null 2>"$T/err"; then
	expect_match "rootfs diff: a 1 TiB sparse file is written sparse" \
		"^-.* 1099511627776 .* etc/keep$" "$(tar -tvf "$T/big.tar" 2>&1 | grep etc/keep)"
	[ "$(stat -c %s "$T/big.tar")" -lt 2000000 ] && pass "rootfs diff: ... and the tar stays small" ||
		fail "rootfs diff: ... and the tar stays small" "$(stat -c %s "$T/big.tar") bytes"
else
	fail "rootfs diff: a 1 TiB sparse file is written sparse" "$(cat "$T/err")"
fi
rm -f "$T/big.tar"
head -c 1M "$T/child.img" >"$T/bad.img"
v rootfs diff -o "$T/bad.tar" "$T/bad.img" >/dev/null 2>"$T/err"
expect_match "rootfs diff: a truncated image is refused" \
	"^vmm: error: $T/bad.img: corrupt superblock: .* do not fit the disk" "$(cat "$T/err")"
head -c 4M /dev/urandom >"$T/bad.img"
v rootfs diff -o "$T/bad.tar" "$T/bad.img" >/dev/null 2>"$T/err"
expect_match "rootfs diff: random bytes are refused" "^vmm: error: $T/bad.img: no ext4 filesystem" "$(cat "$T/err")"
rm -f "$T/bad.img" "$T/bad.tar"

# ---- vmm diff and vmm export on a created container ----------------------------------
export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	fail "diff/export: busybox image" "$(tail -2 "$T/img.log")"
	exit 0
fi
id=$(v create --name c1 busybox true)
out=$(v diff c1 2>&1); rc=$?
expect_eq "vmm diff: a created container has no changes" "0 " "$rc $out"
if v export -o "$T/c1.tar" c1 2>"$T/err"; then
	v export c1 >"$T/c1b.tar"
	check "vmm export: -o and stdout write the same tar" cmp "$T/c1.tar" "$T/c1b.tar"
	expect_match "vmm export: busybox and its applets" '^h.* bin/sh link to bin/' \
		"$(tar -tvf "$T/c1.tar")"
	base=$(ls "$VMM_ROOT"/disks/*.img | head -1)
	v rootfs build -q -s 512M "$T/c1.img" "$T/c1.tar"
	same_tree "vmm export: the tar rebuilds the image's tree" "$base" "$T/c1.img"
else
	fail "vmm export -o" "$(cat "$T/err")"
fi
out=$(script -qec "$VMM export c1" /dev/null 2>&1 | tr -d '\r'); 
expect_match "vmm export: refuses a terminal" "^vmm: error: cowardly refusing" "$out"
# change its disk as a guest would: through a raw copy, back into an overlay of the base
disk=$VMM_ROOT/containers/$id/disk.qcow2
if qemu-img convert -q -O raw "$disk" "$T/m.raw" && mount -o loop "$T/m.raw" "$MNT"; then
	echo hello >"$MNT/hello" && rm "$MNT/etc/group" && umount "$MNT"
	qemu-img convert -q -O qcow2 -B "$base" -F raw "$T/m.raw" "$disk"
	expect_eq "vmm diff: the changes a guest made" "C /etc
D /etc/group
A /hello" "$(v diff c1 2>&1)"
	expect_eq "vmm export: the file a guest made" "hello" "$(v export c1 | tar -xOf - hello)"
else
	fail "vmm diff: change the container's disk" "qemu-img or mount failed"
fi
flock -x "$VMM_ROOT/containers/$id/lock" sleep 3 &
holder=$!
sleep 1
out=$(v diff c1 2>&1); rc=$?
expect_eq "vmm diff: a running container is refused" \
	"1 vmm: error: container c1 is running: stop it first ('vmm stop c1'); its disk is read only while no guest writes it" "$rc $out"
wait "$holder"
out=$(v export -o "$T/x.tar" nosuch 2>&1); rc=$?
expect_eq "vmm export: an unknown container" "1 vmm: error: no such container: nosuch" "$rc $out"
[ ! -e "$T/x.tar" ] && pass "vmm export: no file left after a failure" || fail "vmm export: no file left after a failure" "x.tar exists"
v rm c1 >/dev/null
