#!/bin/sh
# vmm import (a rootfs tarball as a one-layer image) and vmm commit (a container's
# changes as an image), checked through what real tools read back: umoci unpacks,
# skopeo inspects, and vmm export gives the tree that went in.
. tests/integration/lib.sh

for tool in umoci skopeo python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip "commit/import" "$tool not installed (scripts/install-deps.sh)"
		exit 0
	fi
done
export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	fail "commit/import: busybox image" "$(tail -2 "$T/img.log")"
	exit 0
fi
TREE="python3 $TESTS_DIR/integration/rootfs_tree.py"

# --- import: a tree with owners, modes, links and an empty folder ---
R="$T/rootfs"
mkdir -p "$R/etc" "$R/bin" "$R/empty" "$R/srv/deep"
echo hello >"$R/etc/hello"
echo data >"$R/srv/deep/file"
ln -s /etc/hello "$R/bin/link"
ln "$R/etc/hello" "$R/etc/hello-hard"
chmod 4750 "$R/srv/deep/file"
chown 123:456 "$R/srv/deep/file"
mkfifo "$R/fifo"
tar -C "$R" -cf "$T/r.tar" .
gzip -c "$T/r.tar" >"$T/r.tgz"
xz -c "$T/r.tar" >"$T/r.txz"

id=$("$VMM" import -c 'CMD ["/bin/sh"]' -c 'ENV A=1 B="two words"' -c 'EXPOSE 8080' -m imported \
	"$T/r.tgz" test/imported:1 2>"$T/imp.err")
expect_match "import prints the image ID" "^sha256:[0-9a-f]{64}$" "$id"
expect_eq "the image is named" "$id" "$("$VMM" inspect --format '{{.Id}}' test/imported:1 2>&1)"
expect_eq "import -c: Cmd" "[/bin/sh]" "$("$VMM" inspect --format '{{.Config.Cmd}}' test/imported:1 2>&1)"
expect_eq "import -c: Env" "[A=1 B=two words]" "$("$VMM" inspect --format '{{.Config.Env}}' test/imported:1 2>&1)"
expect_match "import -m: the history comment" "imported" "$("$VMM" history test/imported:1 2>&1)"
check "skopeo inspects the imported image" skopeo inspect "oci:$VMM_ROOT/oci:docker.io/test/imported:1"
rm -rf "$T/u"
if umoci unpack --image "$VMM_ROOT/oci:docker.io/test/imported:1" "$T/u" >"$T/umoci.log" 2>&1; then
	$TREE "$R" >"$T/want"
	$TREE "$T/u/rootfs" >"$T/got"
	if diff "$T/want" "$T/got" >"$T/d"; then pass "import: umoci unpacks exactly the tarball's tree"
	else fail "import: umoci unpacks exactly the tarball's tree" "$(head -4 "$T/d" | tr '\n' ' ')"; fi
else
	fail "import: umoci unpacks it" "$(tail -2 "$T/umoci.log")"
fi
id2=$(cat "$T/r.txz" | "$VMM" import - 2>&1)
expect_match "import - reads stdin (xz), untagged" "^sha256:[0-9a-f]{64}$" "$id2"
expect_eq "the same tree makes the same layer, whatever the compression" \
	"$("$VMM" inspect --format '{{.RootFS.Layers}}' test/imported:1)" "$("$VMM" inspect --format '{{.RootFS.Layers}}' "$id2")"

# export of a container of the imported image gives the same tree back
"$VMM" create --name imp test/imported:1 >/dev/null 2>&1
mkdir -p "$T/x"
if "$VMM" export -o "$T/x.tar" imp 2>"$T/x.err" && tar -C "$T/x" -xf "$T/x.tar"; then
	$TREE "$T/x" >"$T/got-x"
	if diff "$T/want" "$T/got-x" >"$T/d"; then pass "import, create, export: the same tree"
	else fail "import, create, export: the same tree" "$(head -4 "$T/d" | tr '\n' ' ')"; fi
else
	fail "export of the imported image's container" "$(tail -1 "$T/x.err")"
fi

images_before=$("$VMM" images -a -q | sort | tr '\n' ' ')
echo "not a tar" >"$T/bad.tar"
refused "import of a non-tar" "import $T/bad.tar: $T/bad.tar: not a tar archive" "$VMM" import "$T/bad.tar"
head -c 3000 "$T/r.tar" >"$T/trunc.tar"
refused "import of a truncated tar" "truncated or corrupt tar" "$VMM" import "$T/trunc.tar"
python3 -c 'import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("big"); i.size = 8192; t.addfile(i, io.BytesIO(b"b" * 8192))' "$T/one.tar"
head -c 4608 "$T/one.tar" >"$T/cut.tar"
refused "import of a tar cut inside a member's data" "truncated or corrupt tar: member 'big'" "$VMM" import "$T/cut.tar"
python3 - "$T/climb.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("../../etc/evil"); data = b"x"; i.size = len(data)
    t.addfile(i, io.BytesIO(data))
PY
refused "import of a member climbing out" "member '../../etc/evil' is outside the archive's root" \
	"$VMM" import "$T/climb.tar"
refused "import -c RUN" "RUN is not a change commit and import can apply" "$VMM" import -c 'RUN true' "$T/r.tar"
refused "import -c of a bad instruction" "--change 'NOPE x'" "$VMM" import -c 'NOPE x' "$T/r.tar"
refused "import of a missing file" "import $T/nope.tar" "$VMM" import "$T/nope.tar"
expect_eq "refused imports leave no image behind" "$images_before" "$("$VMM" images -a -q | sort | tr '\n' ' ')"

# --- commit ---
"$VMM" create --name c1 -e X=1 -w /tmp -u nobody -l lab=1 busybox sh -c 'echo hi' >/dev/null 2>&1
cid=$("$VMM" commit -c 'EXPOSE 80' -c 'LABEL more=2' -m "a message" -a "Ann <ann@x>" c1 test/committed 2>&1)
expect_match "commit prints the image ID" "^sha256:[0-9a-f]{64}$" "$cid"
cfg() { "$VMM" inspect --format "$1" test/committed 2>&1; }
expect_eq "commit: the container's command as Cmd" "[sh -c echo hi]" "$(cfg '{{.Config.Cmd}}')"
expect_match "commit: the container's environment" "X=1" "$(cfg '{{.Config.Env}}')"
expect_eq "commit: working folder and user" "/tmp nobody" "$(cfg '{{.Config.WorkingDir}} {{.Config.User}}')"
expect_eq "commit: labels, -c LABEL too" "map[lab:1 more:2]" "$(cfg '{{.Config.Labels}}')"
expect_eq "commit -c EXPOSE" "map[80/tcp:map[]]" "$(cfg '{{.Config.ExposedPorts}}')"
expect_eq "commit -a" "Ann <ann@x>" "$(cfg '{{.Author}}')"
expect_match "commit -m: the history comment" "a message" "$("$VMM" history test/committed)"
expect_eq "commit: one layer on the image's" "2" "$(cfg '{{len .RootFS.Layers}}')"
expect_eq "a container never started: an empty layer (docker's empty tar)" \
	"sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef" \
	"$("$VMM" inspect --format '{{index .RootFS.Layers 1}}' test/committed)"
check "skopeo inspects the committed image" skopeo inspect "oci:$VMM_ROOT/oci:docker.io/test/committed:latest"
refused "commit of a missing container" "nosuch" "$VMM" commit nosuch
refused "commit to a digest" "a digest cannot be a tag" "$VMM" commit c1 "x@sha256:$(printf '%064d' 0)"

if have_kvm; then
	"$VMM" run --name changed busybox sh -c 'echo new >/etc/new; rm /bin/ls; mkdir -p /srv/d; chmod 4755 /srv/d' \
		>/dev/null 2>"$T/run.err"
	"$VMM" diff changed >"$T/diff.out" 2>&1
	expect_eq "diff after a run: docker's A/C/D lines" "C /bin
D /bin/ls
C /etc
A /etc/new
A /srv
A /srv/d" "$(grep -v '^C /$' "$T/diff.out")"
	"$VMM" commit changed test/changed >/dev/null 2>&1
	out=$("$VMM" run --rm test/changed sh -c 'cat /etc/new; ls /bin/ls 2>&1; stat -c %a /srv/d' 2>&1)
	expect_eq "commit after a run: its changes in the new image" "new
ls: /bin/ls: No such file or directory
4755" "$out"
else
	skip "commit of a container that ran" "/dev/kvm not accessible on this host"
fi
