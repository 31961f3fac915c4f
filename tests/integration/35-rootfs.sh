#!/bin/sh
# images/rootfs: layers built with umoci (and crafted with python where umoci cannot),
# applied with `vmm rootfs build`, checked with e2fsck and compared, entry by entry,
# with the tree `umoci unpack` produces; hostile layers stay inside the image.
. tests/integration/lib.sh

TREE="python3 $TESTS_DIR/integration/rootfs_tree.py"
LAYERS="python3 $TESTS_DIR/integration/rootfs_layers.py"
MNT=$T/mnt
mkdir -p "$MNT"
cleanup_hook() { umount "$MNT" 2>/dev/null || true; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# dump_img IMG OUT: the image's tree as rootfs_tree.py lines (loop mount: root only).
# Directory mtimes are left out: umoci leaves a lower directory that a layer changed
# at the time of unpacking, where the image keeps the layer's time.
dump_img() {
	mount -o loop,ro "$1" "$MNT" 2>"$T/mount.err" || return 1
	$TREE "$MNT" --skip lost+found --no-dir-mtime >"$2"
	rc=$?
	umount "$MNT"
	return $rc
}

# the ordered layer blobs of an OCI layout's first manifest
oci_blobs() {
	python3 - "$1" <<'PY'
import json, sys
root = sys.argv[1]
idx = json.load(open(root + "/index.json"))
d = idx["manifests"][0]["digest"].split(":")
man = json.load(open("%s/blobs/%s/%s" % (root, d[0], d[1])))
for l in man["layers"]:
    a, h = l["digest"].split(":")
    print("%s/blobs/%s/%s" % (root, a, h))
PY
}

fsck_ok() { e2fsck -fn "$1" >"$T/fsck.out" 2>&1; }

# ---- an image made by umoci, three layers ------------------------------------------
umoci_image() {
	OCI=$T/oci
	umoci init --layout "$OCI" && umoci new --image "$OCI:t" &&
	umoci unpack --image "$OCI:t" "$T/b" >/dev/null || return 1
	R=$T/b/rootfs
	mkdir -p "$R/etc" "$R/bin" "$R/usr/bin" "$R/usr/lib/modules" "$R/usr/share/doc/pkg" \
		"$R/dev" "$R/run" "$R/tmp" "$R/data" "$R/opt/app/sub" "$R/var" "$R/home/user" "$R/empty"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$R/etc/passwd"
	echo old >"$R/etc/passwd-old"
	touch -d '2001-02-03 04:05:06' "$R/etc/passwd-old"
	: >"$R/etc/empty"
	printf cafe >"$R/etc/café.txt"
	printf busybox >"$R/bin/busybox"
	ln -s busybox "$R/bin/sh"
	ln -s /usr/lib "$R/lib"
	ln -s "$(printf 'x%.0s' $(seq 1 100))" "$R/bin/longlink"
	printf su >"$R/bin/su" && chmod 4755 "$R/bin/su"
	printf sg >"$R/usr/bin/sg" && chmod 2755 "$R/usr/bin/sg"
	chmod 1777 "$R/tmp"
	chmod 2775 "$R/data" && chown 1000:1000 "$R/data"
	printf big >"$R/home/user/bigid" && chown 100000:200000 "$R/home/user/bigid"
	printf a >"$R/usr/bin/a" && ln "$R/usr/bin/a" "$R/usr/bin/b"
	mknod "$R/dev/null" c 1 3 && mknod "$R/dev/sda" b 8 0 && mknod "$R/dev/big" c 300 70000
	mkfifo "$R/run/fifo"
	printf ping >"$R/usr/bin/ping"
	if command -v setcap >/dev/null; then setcap cap_net_raw+ep "$R/usr/bin/ping"; fi
	printf u >"$R/etc/withxattr"
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.foo", b"bar"); os.setxattr(sys.argv[1], "user.empty", b"")' "$R/etc/withxattr"
	truncate -s 100M "$R/var/sparse"
	printf data | dd of="$R/var/sparse" bs=1 seek=50000000 conv=notrunc 2>/dev/null
	printf doc >"$R/usr/share/doc/pkg/README"
	printf t >"$R/opt/app/sub/file"
	printf tool >"$R/usr/bin/tool"
	ln -s modules "$R/usr/lib/mods"
	umoci repack --refresh-bundle --image "$OCI:t" "$T/b" >/dev/null || return 1

	# layer 2: whiteouts, file<->dir and symlink->dir replacements, metadata changes
	rm "$R/etc/passwd-old"
	rm -rf "$R/usr/share/doc"
	rm "$R/usr/bin/tool" && mkdir "$R/usr/bin/tool" && printf x >"$R/usr/bin/tool/inside"
	rm -rf "$R/opt/app" && printf app >"$R/opt/app"
	rm "$R/usr/lib/mods" && mkdir "$R/usr/lib/mods" && printf m >"$R/usr/lib/mods/m"
	chmod 0700 "$R/data" && chown 0:0 "$R/data"
	echo more >>"$R/etc/passwd"
	rm "$R/usr/bin/b"
	umoci repack --refresh-bundle --image "$OCI:t" "$T/b" >/dev/null || return 1

	# layer 3 (python): opaque dir, hardlink to a lower layer, whiteout order, big dir
	$LAYERS opaque "$T/l3.tar" && umoci raw add-layer --image "$OCI:t" "$T/l3.tar" >/dev/null
}

if ! is_root; then
	skip "rootfs: umoci image vs umoci unpack" "needs root (mknod, chown, loop mount)"
elif ! command -v umoci >/dev/null; then
	skip "rootfs: umoci image vs umoci unpack" "umoci missing (scripts/install-deps.sh)"
elif ! out=$(umoci_image 2>&1); then
	fail "rootfs: make an image with umoci" "$(echo "$out" | tail -3 | tr '\n' ' ')"
else
	pass "rootfs: make a 4-layer image with umoci (whiteouts, devices, xattrs, sparse)"
	# shellcheck disable=SC2046
	if out=$($VMM rootfs build "$T/img.img" $(oci_blobs "$T/oci") 2>&1); then
		pass "rootfs: build the image's layers"
	else
		fail "rootfs: build the image's layers" "$out"
	fi
	if fsck_ok "$T/img.img"; then pass "rootfs: e2fsck -fn clean"; else
		fail "rootfs: e2fsck -fn clean" "$(tail -5 "$T/fsck.out" | tr '\n' ' ')"; fi
	umoci unpack --image "$T/oci:t" "$T/oracle" >/dev/null 2>&1
	$TREE "$T/oracle/rootfs" --no-dir-mtime >"$T/want.txt"
	if ! dump_img "$T/img.img" "$T/got.txt"; then
		skip "rootfs: tree matches umoci unpack" "loop mount failed: $(cat "$T/mount.err")"
	else
		if diff -u "$T/want.txt" "$T/got.txt" >"$T/diff.txt"; then
			pass "rootfs: tree matches umoci unpack ($(wc -l <"$T/want.txt") entries: types, modes, owners, contents, links, devices, xattrs, mtimes, hardlinks)"
		else
			fail "rootfs: tree matches umoci unpack" "$(head -20 "$T/diff.txt" | tr '\n' ' ')"
		fi
		expect_match "rootfs: security.capability kept" 'usr/bin/ping f .*security.capability=' "$(cat "$T/got.txt")"
		expect_match "rootfs: opaque dir keeps only its layer" '^etc/fresh f' "$(grep '^etc/' "$T/got.txt")"
		expect_eq "rootfs: opaque dir hides lower entries" "" "$(grep -E '^etc/(passwd|empty|withxattr)' "$T/got.txt")"
		expect_match "rootfs: hardlink to a lower layer" 'usr/bin/d f .* usr/bin/a$' "$(cat "$T/got.txt")"
		expect_match "rootfs: file replaced by a directory" '^usr/bin/tool/inside f' "$(cat "$T/got.txt")"
		expect_match "rootfs: large device numbers" '^dev/big c 0644 0:0 300,70000' "$(cat "$T/got.txt")"
		expect_eq "rootfs: 100 MB sparse file takes one block" "1" \
			"$(debugfs -R 'blocks /var/sparse' "$T/img.img" 2>/dev/null | wc -w)"
	fi

	# the same layers, compressed otherwise: gzip -> plain tar and zstd
	i=0; set --
	for b in $(oci_blobs "$T/oci"); do
		i=$((i + 1))
		case $i in
		1) gzip -dc "$b" >"$T/l$i.tar"; set -- "$@" "$T/l$i.tar" ;;
		2) gzip -dc "$b" | zstd -q -o "$T/l$i.tar.zst"; set -- "$@" "$T/l$i.tar.zst" ;;
		*) set -- "$@" "$b" ;;
		esac
	done
	if $VMM rootfs build -q "$T/img2.img" "$@" 2>"$T/err" && dump_img "$T/img2.img" "$T/got2.txt"; then
		expect_eq "rootfs: plain, zstd and gzip layers give the same tree" "" \
			"$(diff "$T/got.txt" "$T/got2.txt" | head -5)"
	else
		fail "rootfs: plain, zstd and gzip layers give the same tree" "$(cat "$T/err")"
	fi
	rm -rf "$T/b" "$T/oracle" "$T"/*.img
fi

# ---- hostile layers: contained in the image or refused, the host untouched ------------
# hostile KIND [ARG]: a crafted one-layer image in $T/h.img; stderr in $T/h.err
hostile() {
	rm -f "$T/h.img"
	$LAYERS "$1" "$T/h.tar" ${2:+"$2"} && $VMM rootfs build -q --size "${HSIZE:-64M}" "$T/h.img" "$T/h.tar" 2>"$T/h.err"
}
img_cat() { debugfs -R "cat $2" "$1" 2>/dev/null; }
# refused NAME KIND ERROR-REGEX: the build fails with that message and leaves nothing
refused() {
	if hostile "$2"; then fail "$1" "build succeeded"; return; fi
	if [ -e "$T/h.img" ] || ls -a "$T" | grep -q '\.tmp\.'; then
		fail "$1" "files left behind: $(ls -a "$T" | tr '\n' ' ')"; return; fi
	expect_match "$1" "^vmm: error: layer .*h\.tar: .*$3" "$(cat "$T/h.err")"
}

CANARY=/tmp/vmm-rootfs-host-canary.$$
passwd_sum=$(cksum </etc/passwd)
if hostile dotdot; then
	expect_eq "rootfs: ../../x lands at /x in the image" "x" "$(img_cat "$T/h.img" /dotdot-escape)"
else fail "rootfs: ../../x lands at /x in the image" "$(cat "$T/h.err")"; fi
[ ! -e /dotdot-escape ] && [ ! -e "$T/../dotdot-escape" ] && [ ! -e "$PWD/../dotdot-escape" ] &&
	pass "rootfs: ../../x created nothing on the host" || fail "rootfs: ../../x created nothing on the host" "found"
if hostile absolute; then
	expect_eq "rootfs: /etc/passwd lands in the image" "in-image" "$(img_cat "$T/h.img" /etc/passwd)"
else fail "rootfs: /etc/passwd lands in the image" "$(cat "$T/h.err")"; fi
expect_eq "rootfs: host /etc/passwd untouched" "$passwd_sum" "$(cksum </etc/passwd)"
if hostile symlink-out "$CANARY"; then
	expect_eq "rootfs: write through a symlink out stays inside" "through" \
		"$(img_cat "$T/h.img" "$CANARY/file")"
else fail "rootfs: write through a symlink out stays inside" "$(cat "$T/h.err")"; fi
if [ -e "$CANARY" ]; then fail "rootfs: symlink target on the host not created" "$CANARY exists"
else pass "rootfs: symlink target on the host not created"; fi
if hostile symlink-dotdot; then
	expect_eq "rootfs: .. chains through symlinks stop at the image root" "chain" \
		"$(img_cat "$T/h.img" /escape)"
else fail "rootfs: .. chains through symlinks stop at the image root" "$(cat "$T/h.err")"; fi
if hostile hardlink-dotdot; then
	expect_match "rootfs: hardlink to ../../etc/passwd links inside" "Links: 2" \
		"$(debugfs -R 'stat /pw' "$T/h.img" 2>/dev/null)"
else fail "rootfs: hardlink to ../../etc/passwd links inside" "$(cat "$T/h.err")"; fi
if hostile deep && fsck_ok "$T/h.img"; then
	expect_eq "rootfs: 1500 nested directories" "deep" \
		"$(img_cat "$T/h.img" "/$(python3 -c 'print("/".join(["d"] * 1500))')/leaf")"
else fail "rootfs: 1500 nested directories" "$(cat "$T/h.err" "$T/fsck.out" | tail -3)"; fi
refused "rootfs: symlink loop refused" symlink-loop "too many levels of symbolic links"
refused "rootfs: hardlink to a host path refused" hardlink-host "hardlink target /etc/shadow does not exist in the image"
refused "rootfs: hardlink to a directory refused" hardlink-dir "hardlink to directory"
refused "rootfs: 256-byte name refused" long-name "name too long"
refused "rootfs: root replaced by a symlink refused" replace-root "cannot replace the root directory"
head -c 20000 /dev/urandom >"$T/h.tar"
if $VMM rootfs build -q "$T/h.img" "$T/h.tar" 2>"$T/h.err"; then fail "rootfs: random bytes refused" "built"
else expect_match "rootfs: random bytes refused" "not a tar layer" "$(cat "$T/h.err")"; fi
head -c 30000 /dev/urandom >"$T/rand" && tar -C "$T" -cf "$T/full.tar" rand && head -c 12000 "$T/full.tar" >"$T/h.tar"
if $VMM rootfs build -q "$T/h.img" "$T/h.tar" 2>"$T/h.err"; then fail "rootfs: truncated tar refused" "built"
else expect_match "rootfs: truncated tar refused" "layer .*h.tar: rand: .*[Tt]runcated" "$(cat "$T/h.err")"; fi
head -c 40000000 /dev/zero | tr '\0' 'z' >"$T/rand" && tar -C "$T" -cf "$T/h.tar" rand && rm "$T/rand"
if $VMM rootfs build -q --size 16M "$T/h.img" "$T/h.tar" 2>"$T/h.err"; then fail "rootfs: file larger than the image" "built"
else expect_match "rootfs: file larger than the image" "rand: the image is full" "$(cat "$T/h.err")"; fi

# 200k empty files (1M would only take longer: the cost is linear)
start=$(date +%s)
if HSIZE=4G hostile many 200000 && fsck_ok "$T/h.img"; then
	expect_match "rootfs: 200000 empty files in $(( $(date +%s) - start ))s, e2fsck clean" \
		" 2002[0-9][0-9]/[0-9]+ files" "$(tail -1 "$T/fsck.out")"
else fail "rootfs: 200000 empty files" "$(cat "$T/h.err" "$T/fsck.out" | tail -3)"; fi

# a 10 GiB sparse file (GNU sparse format) into a 4 GiB filesystem
mkdir -p "$T/sp" && truncate -s 10G "$T/sp/big" && echo end >>"$T/sp/big"
if tar -C "$T/sp" -S -cf "$T/sp.tar" big && rm -rf "$T/sp" &&
	$VMM rootfs build -q "$T/sp.img" "$T/sp.tar" 2>"$T/h.err" && fsck_ok "$T/sp.img"; then
	expect_match "rootfs: 10 GiB sparse file kept sparse" "Size: 10737418244" \
		"$(debugfs -R 'stat /big' "$T/sp.img" 2>/dev/null)"
	expect_eq "rootfs: 10 GiB sparse file tail" "end" "$(debugfs -R 'dump /big /dev/stdout' "$T/sp.img" 2>/dev/null | tail -c 4)"
	used=$(du -k "$T/sp.img" | cut -f1)
	[ "$used" -lt 65536 ] && pass "rootfs: 4 GiB image is sparse on the host (${used} KiB)" ||
		fail "rootfs: 4 GiB image is sparse on the host" "${used} KiB"
else fail "rootfs: 10 GiB sparse file" "$(cat "$T/h.err" "$T/fsck.out" | tail -3)"; fi
rm -f "$T/sp.img" "$T/sp.tar"

# the filesystem can grow with its disk (the guest does it online, resize2fs offline here)
if command -v resize2fs >/dev/null; then
	$LAYERS deep "$T/g.tar"
	if $VMM rootfs build -q --size 64M "$T/g.img" "$T/g.tar" && truncate -s 256M "$T/g.img" &&
		resize2fs "$T/g.img" >"$T/h.err" 2>&1 && fsck_ok "$T/g.img"; then
		expect_match "rootfs: image grows to 256M with resize2fs" "/65536 blocks" "$(tail -1 "$T/fsck.out")"
	else fail "rootfs: image grows with resize2fs" "$(cat "$T/h.err" "$T/fsck.out" | tail -3)"; fi
	rm -f "$T/g.img" "$T/g.tar"
else skip "rootfs: image grows with resize2fs" "resize2fs missing"; fi

leftover=$(ls -a "$T" | grep '\.tmp\.' || true)
expect_eq "rootfs: no temp files left by failed builds" "" "$leftover"
[ -e "$CANARY" ] && rm -rf "$CANARY"

# ---- a killed build leaves no output; the next build removes its temp file ------------
mkfifo "$T/slow.tar"
(head -c 30720 "$T/full.tar"; sleep 20) >"$T/slow.tar" &
writer=$!
$VMM rootfs build -q "$T/k.img" "$T/slow.tar" 2>/dev/null &
builder=$!
sleep 1
kill -9 "$builder" 2>/dev/null; wait "$builder" 2>/dev/null
kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null
if [ ! -e "$T/k.img" ] && ls -a "$T" | grep -q '^\.k\.img\.tmp\.'; then
	pass "rootfs: killed build leaves only a temp file"
else fail "rootfs: killed build leaves only a temp file" "$(ls -a "$T" | tr '\n' ' ')"; fi
$LAYERS dotdot "$T/ok.tar"
if $VMM rootfs build -q "$T/k.img" "$T/ok.tar" && [ -e "$T/k.img" ] &&
	! ls -a "$T" | grep -q '^\.k\.img\.tmp\.'; then
	pass "rootfs: next build replaces the stale temp file"
else fail "rootfs: next build replaces the stale temp file" "$(ls -a "$T" | tr '\n' ' ')"; fi
