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
