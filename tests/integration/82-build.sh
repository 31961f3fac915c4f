#!/bin/sh
# vmm build checked against a real builder: each Dockerfile below is built with
# `vmm build` and with `buildah bud` (vfs storage), both results are unpacked with
# umoci and compared tree by tree (paths, types, modes, owners, content, link
# targets, xattrs, hard links; mtimes may differ) and config by config (Entrypoint,
# Cmd, Env, WorkingDir, User, ExposedPorts, Labels, Volumes, StopSignal).
# Then what only vmm is asked: the cache, progress lines, history, refusals.
. tests/integration/lib.sh

for tool in buildah umoci skopeo python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip "build" "$tool not installed (scripts/install-deps.sh)"
		exit 0
	fi
done

export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	fail "build: busybox image" "$(tail -2 "$T/img.log")"
	exit 0
fi
BH="buildah --root $T/bh --runroot $T/bhrun --storage-driver vfs"
BUD="$BH bud --isolation chroot --format docker --pull-never -q"	# chroot: RUN needs no runtime
cleanup_hook() { $BH rm --all >/dev/null 2>&1; rm -rf "$T/bh" 2>/dev/null; }
# buildah's busybox is ours, copied from vmm's store (an OCI layout)
if ! skopeo copy -q "oci:$VMM_ROOT/oci:docker.io/library/busybox:latest" \
	"containers-storage:[vfs@$T/bh+$T/bhrun]docker.io/library/busybox:latest" >"$T/sk.log" 2>&1; then
	fail "build: busybox for buildah" "$(tail -2 "$T/sk.log")"
	exit 0
fi
TREE="python3 $TESTS_DIR/integration/rootfs_tree.py"

# image_config LAYOUT REF: the config fields both builders must agree on, one per line
image_config() {
	python3 - "$1" "$2" <<'PY'
import json, sys
root, ref = sys.argv[1], sys.argv[2]
idx = json.load(open(root + "/index.json"))
m = [d for d in idx["manifests"] if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref][0]
blob = lambda d: json.load(open("%s/blobs/%s" % (root, d.replace(":", "/"))))
cfg = blob(blob(m["digest"])["config"]["digest"]).get("config", {})
for k in ["Entrypoint", "Cmd", "Env", "WorkingDir", "User", "ExposedPorts", "Labels", "Volumes", "StopSignal"]:
    v = cfg.get(k)
    if v in ({}, [], ""):
        v = None
    if k == "Labels" and v:	# buildah adds its own
        v = {a: b for a, b in v.items() if a != "io.buildah.version"} or None
    print(k, json.dumps(v, sort_keys=True))
PY
}

# same_as_buildah NAME CONTEXT [BUILD FLAGS...]: build with both, compare trees and configs
same_as_buildah() {
	name=$1 ctx=$2
	shift 2
	if ! "$VMM" build -q -t "vmm/$name" "$@" "$ctx" >"$T/$name.vmm" 2>&1; then
		fail "$name: vmm build" "$(tail -2 "$T/$name.vmm")"
		return
	fi
	if ! $BUD -t "bh/$name" "$@" "$ctx" >"$T/$name.bh" 2>&1 ||
	   ! $BH push -q "bh/$name" "oci:$T/bhout:$name" >>"$T/$name.bh" 2>&1; then
		fail "$name: buildah bud" "$(tail -2 "$T/$name.bh")"
		return
	fi
	rm -rf "$T/u-vmm" "$T/u-bh"
	if ! umoci unpack --image "$VMM_ROOT/oci:docker.io/vmm/$name:latest" "$T/u-vmm" >"$T/umoci.log" 2>&1 ||
	   ! umoci unpack --image "$T/bhout:$name" "$T/u-bh" >>"$T/umoci.log" 2>&1; then
		fail "$name: umoci unpack" "$(tail -2 "$T/umoci.log")"
		return
	fi
	$TREE "$T/u-vmm/rootfs" --no-mtime >"$T/$name.tree-vmm"
	$TREE "$T/u-bh/rootfs" --no-mtime >"$T/$name.tree-bh"
	if diff "$T/$name.tree-bh" "$T/$name.tree-vmm" >"$T/$name.tree-diff"; then
		pass "$name: same tree as buildah ($(wc -l <"$T/$name.tree-vmm") entries)"
	else
		fail "$name: same tree as buildah" "$(head -6 "$T/$name.tree-diff" | tr '\n' ' ')"
	fi
	image_config "$VMM_ROOT/oci" "docker.io/vmm/$name:latest" >"$T/$name.cfg-vmm"
	image_config "$T/bhout" "$name" >"$T/$name.cfg-bh"
	if diff "$T/$name.cfg-bh" "$T/$name.cfg-vmm" >"$T/$name.cfg-diff"; then
		pass "$name: same config as buildah"
	else
		fail "$name: same config as buildah" "$(head -6 "$T/$name.cfg-diff" | tr '\n' ' ')"
	fi
	if skopeo inspect "oci:$VMM_ROOT/oci:docker.io/vmm/$name:latest" >/dev/null 2>"$T/skopeo.err"; then
		pass "$name: skopeo inspects vmm's image"
	else
		fail "$name: skopeo inspects vmm's image" "$(tail -1 "$T/skopeo.err")"
	fi
}

# --- config instructions ---
C="$T/cfg"
mkdir -p "$C"
cat >"$C/Dockerfile" <<'EOF'
# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE AS base
ARG VER=1.0
ARG UNSET
ENV APP=/srv/app \
    VER=${VER} GREETING="hello world"
ENV LEGACY value with spaces
LABEL org.example.version="$VER" "quoted key"=v2 empty=
EXPOSE 80 53/udp
VOLUME /data ["/logs", "/cache"]
USER nobody:nogroup
STOPSIGNAL SIGQUIT
WORKDIR $APP
WORKDIR sub/../child
ENTRYPOINT exec /bin/echo "${GREETING:-none}" ${UNSET:-dflt}
CMD echo $VER
EOF
same_as_buildah config "$C" --build-arg VER=2.5

# --- COPY: files, folders, globs, links, owners, modes, .dockerignore ---
K="$T/copy"
mkdir -p "$K/sub/deep" "$K/empty" "$K/logs"
echo hello >"$K/a.txt"
echo bee >"$K/b.txt"
echo deep >"$K/sub/deep/d.txt"
echo sub >"$K/sub/s.txt"
printf 'x' >"$K/sub/deep/.hidden"
chmod 0640 "$K/sub/s.txt"
chmod 0755 "$K/sub/deep/d.txt"
ln -s a.txt "$K/link"
ln -s ../a.txt "$K/sub/rel-link"
ln "$K/sub/s.txt" "$K/sub/s-hard.txt"
echo log >"$K/logs/x.log"
echo keep >"$K/logs/keep.log"
echo secret >"$K/secret.key"
printf '%s\n' '*.key' 'logs/*.log' '!logs/keep.log' >"$K/.dockerignore"
cat >"$K/Dockerfile" <<'EOF'
FROM busybox
WORKDIR /app
COPY a.txt b.txt ./
COPY link link-copied
COPY sub /opt/sub/
COPY sub/ /opt/sub2
COPY *.txt /globbed/
COPY sub/*/d.txt /deepglob/
COPY logs /logs/
COPY --chown=1000:1001 a.txt /owned/numeric
COPY --chown=nobody a.txt /owned/by-name
COPY --chown=nobody:nogroup sub /owned/tree/
COPY --chmod=0600 b.txt /modes/b600
COPY --chmod=755 sub /modes/tree/
COPY a.txt /etc
COPY a.txt /new/dir/file
COPY empty /emptydir/
COPY . /whole/
EOF
same_as_buildah copy "$K"

# --- ADD: local archives unpack, other files copy, URLs download ---
A="$T/add"
mkdir -p "$A/tree/in" "$T/www"
echo inside >"$A/tree/in/f"
ln -s in/f "$A/tree/l"
tar -C "$A/tree" --owner=123 --group=456 -czf "$A/t.tgz" .
tar -C "$A/tree" -cJf "$A/t.txz" in
cp "$A/t.tgz" "$A/plain-copy.tgz"
echo notatar >"$A/n.txt"
echo served >"$T/www/dl.txt"
python3 -m http.server --bind 127.0.0.1 0 --directory "$T/www" >"$T/http.log" 2>&1 &
HTTP_PID=$!
port=""
for _ in $(seq 1 100); do
	port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$T/http.log" | head -1)
	[ -n "$port" ] && break
	python3 -c 'import time; time.sleep(0.1)'
done
cat >"$A/Dockerfile" <<EOF
FROM busybox
ADD t.tgz /unpacked/
ADD t.txz /xz
ADD n.txt /notes/
COPY plain-copy.tgz /copied/
ADD http://127.0.0.1:$port/dl.txt /downloads/
ADD --chmod=644 http://127.0.0.1:$port/dl.txt /downloads/renamed.txt
EOF
same_as_buildah add "$A"
kill $HTTP_PID 2>/dev/null

# --- scratch, stages, --target ---
S="$T/stages"
mkdir -p "$S"
echo one >"$S/one"
echo two >"$S/two"
cat >"$S/Dockerfile" <<'EOF'
FROM scratch AS files
COPY one /one
ENV STAGE=files
FROM busybox AS base
COPY one /base-one
FROM base AS second
COPY two /second-two
CMD ["cat", "/second-two"]
FROM files
COPY two /two
EOF
same_as_buildah stages "$S"
same_as_buildah target "$S" --target second

# --- COPY --from: an earlier stage's files, or an image's ---
F="$T/from"
mkdir -p "$F"
echo one >"$F/one"
cat >"$F/Dockerfile" <<'EOF'
FROM busybox AS tools
COPY one /stage-one
WORKDIR /made/here
FROM scratch
COPY --from=tools /bin/sh /bin/busybox-sh
COPY --from=tools /bin/sh /bin/cat /two/
COPY --from=tools /etc/ /etc-copy/
COPY --from=tools /made /made-copy
COPY --from=tools /stage-one /
COPY --from=busybox /bin/ls /ls
COPY --from=0 --chown=1:2 /etc/passwd /passwd
COPY --from=tools /etc/pass* /globbed/
EOF
same_as_buildah from "$F"

# --- ONBUILD: a child build runs its parent's triggers ---
O="$T/onbuild"
mkdir -p "$O/parent" "$O/child"
printf 'FROM busybox\nONBUILD COPY trig.txt /from-trigger\nONBUILD ENV TRIGGERED=yes\n' >"$O/parent/Dockerfile"
echo trig >"$O/child/trig.txt"
printf 'FROM vmm/onbuild-parent\nCOPY trig.txt /plain\n' >"$O/child/Dockerfile"
if "$VMM" build -q -t vmm/onbuild-parent "$O/parent" >/dev/null 2>"$T/ob.err" &&
   $BUD -t vmm/onbuild-parent "$O/parent" >/dev/null 2>>"$T/ob.err"; then
	same_as_buildah onbuild "$O/child"
else
	fail "onbuild: parent image" "$(tail -2 "$T/ob.err")"
fi

# vmm's images load into buildah
if skopeo copy -q "oci:$VMM_ROOT/oci:docker.io/vmm/copy:latest" \
	"containers-storage:[vfs@$T/bh+$T/bhrun]localhost/from-vmm:1" >"$T/load.log" 2>&1 &&
   $BH inspect --type image localhost/from-vmm:1 >"$T/load.json" 2>>"$T/load.log"; then
	expect_match "buildah loads an image vmm built" '"WorkingDir": "/app"' "$(cat "$T/load.json")"
else
	fail "buildah loads an image vmm built" "$(tail -2 "$T/load.log")"
fi

# --- what only vmm is asked ---
out=$("$VMM" build -t vmm/copy "$K" 2>&1)
steps=$(printf '%s\n' "$out" | grep -c '^Step ')
cached=$(printf '%s\n' "$out" | grep -c '^ ---> Using cache')
expect_eq "a second build of the same context: every step after FROM from the cache" "$((steps - 1))" "$cached"
expect_match "progress in docker's style" "^Step 1/18 : FROM busybox" "$out"
expect_match "Successfully tagged" "Successfully tagged vmm/copy" "$out"
id1=$(cat "$T/copy.vmm")
id2=$("$VMM" build -q "$K")
expect_eq "a fully cached build gives the same image ID" "$id1" "$id2"
echo changed >"$K/b.txt"
out=$("$VMM" build -t vmm/copy2 "$K" 2>&1)
expect_match "a changed file in the context: its COPY runs again" \
	"Step 3/18 : COPY a.txt b.txt ./
 ---> [0-9a-f]{12}" "$out"
expect_match "... and the steps after it too" "Step 18/18 : COPY . /whole/
 ---> [0-9a-f]{12}" "$out"
out=$("$VMM" build --no-cache -t vmm/copy3 "$K" 2>&1)
expect_eq "--no-cache: nothing from the cache" "0" "$(printf '%s\n' "$out" | grep -c 'Using cache')"

hist=$("$VMM" history --no-trunc vmm/config | tail -n +2)
expect_match "history: each step's created_by" '/bin/sh -c #\(nop\) EXPOSE 80 53/udp' "$hist"
expect_eq "history: one entry per step (FROM aside) and the base's" \
	"$(($(grep -c '^[A-Z]' "$C/Dockerfile") - 2 + 1))" "$(printf '%s\n' "$hist" | wc -l)"

# where vmm follows docker and buildah does not (docs/build.md)
mkdir -p "$T/dk"
chmod 4755 "$K/a.txt"
printf 'FROM busybox\nEXPOSE 8000-8002\nSHELL ["/bin/sh", "-ec"]\nCMD echo hi\nCOPY a.txt /suid\n' >"$T/dk/Dockerfile"
cp "$K/a.txt" "$T/dk/a.txt"
"$VMM" build -q -t vmm/docker-rules -f "$T/dk/Dockerfile" "$K" >/dev/null 2>"$T/dk.err"
image_config "$VMM_ROOT/oci" "docker.io/vmm/docker-rules:latest" >"$T/dk.cfg"
expect_match "EXPOSE of a range: one port each, as docker" '"8000/tcp": \{\}, "8001/tcp": \{\}, "8002/tcp": \{\}' \
	"$(cat "$T/dk.cfg")"
expect_match "CMD's shell form through SHELL, as docker" 'Cmd \["/bin/sh", "-ec", "echo hi"\]' "$(cat "$T/dk.cfg")"
rm -rf "$T/u-dk"
umoci unpack --image "$VMM_ROOT/oci:docker.io/vmm/docker-rules:latest" "$T/u-dk" >/dev/null 2>&1
expect_eq "COPY keeps a setuid bit, as docker" "4755" "$(stat -c %a "$T/u-dk/rootfs/suid" 2>/dev/null)"
chmod 0644 "$K/a.txt"

out=$(printf 'FROM busybox\nENV FROM_STDIN=1\nCMD ["true"]\n' | "$VMM" build -t vmm/stdin - 2>&1)
expect_match "a Dockerfile on stdin, no context" "Successfully tagged vmm/stdin" "$out"
expect_match "... its config" "FROM_STDIN=1" "$("$VMM" inspect --format '{{.Config.Env}}' vmm/stdin)"
"$VMM" build -q --iidfile "$T/iid" -f "$C/Dockerfile" --label extra=yes --build-arg VER=9 "$T/www" >/dev/null 2>&1
expect_match "--iidfile, -f outside the context, --label" "^sha256:[0-9a-f]{64}$" "$(cat "$T/iid" 2>/dev/null)"
expect_eq "--label lands in the image" "yes" \
	"$("$VMM" inspect --format '{{index .Config.Labels "extra"}}' "$(cat "$T/iid" 2>/dev/null)")"
expect_eq "unused build args are not an error; no intermediate images are left" \
	"$( "$VMM" images -q | sort -u | wc -l)" "$("$VMM" images -q | sort -u | wc -l)"

# COPY here-documents (buildah 1.28 has none: checked on their own, against docker's rules)
printf 'FROM busybox\nARG WHO=world\nCOPY <<EOF /greeting\nhello "$WHO"\nEOF\nCOPY --chmod=755 <<"EOT" /scripts/\necho $HOME\nEOT\n' |
	"$VMM" build -q -t vmm/heredoc - >/dev/null 2>"$T/hd.err"
rm -rf "$T/u-hd"
umoci unpack --image "$VMM_ROOT/oci:docker.io/vmm/heredoc:latest" "$T/u-hd" >/dev/null 2>&1
expect_eq "COPY <<EOF: the document, variables substituted, quotes kept" 'hello "world"' \
	"$(cat "$T/u-hd/rootfs/greeting" 2>&1)"
expect_eq "COPY <<\"EOT\" DIR/: named after the delimiter, not substituted, --chmod" 'echo $HOME 755' \
	"$(cat "$T/u-hd/rootfs/scripts/EOT" 2>&1) $(stat -c %a "$T/u-hd/rootfs/scripts/EOT" 2>&1)"

# refusals: one line naming the input, non-zero exit, nothing left behind
before=$("$VMM" images -a -q 2>/dev/null | sort | tr '\n' ' ')
refused() {	# NAME WANT DOCKERFILE-TEXT [FLAGS...]
	name=$1 want=$2 text=$3
	shift 3
	mkdir -p "$T/bad"
	printf '%s\n' "$text" >"$T/bad/Dockerfile"
	out=$("$VMM" build "$@" "$T/bad" 2>&1 >/dev/null); rc=$?
	if [ $rc -ne 0 ] && printf '%s' "$out" | grep -qF -- "$want"; then pass "refused: $name"
	else fail "refused: $name" "rc=$rc: $out"; fi
}
refused "unknown instruction" "line 2: unknown instruction: FOO" "$(printf 'FROM busybox\nFOO bar')"
refused "no FROM" "the first instruction must be FROM" "COPY a b"
refused "missing base image" "line 1: FROM 127.0.0.1:9/nosuch/image: not in the store, and pulling it failed" \
	"FROM 127.0.0.1:9/nosuch/image"
refused "COPY outside the context" "forbidden path outside the build context: ../x" \
	"$(printf 'FROM busybox\nCOPY ../x /x')"
refused "COPY of a missing file" "file not found in build context or excluded by .dockerignore: nope" \
	"$(printf 'FROM busybox\nCOPY nope /x')"
refused "two sources to a file" "must be a directory and end with a /" \
	"$(printf 'FROM busybox\nCOPY Dockerfile Dockerfile /x')"
refused "unknown target" "target stage nope could not be found" "FROM busybox" --target nope
refused "bad --chown user" "no such user or group in the image: nosuchuser" \
	"$(printf 'FROM busybox\nCOPY --chown=nosuchuser Dockerfile /x')"
refused "bad EXPOSE" "EXPOSE: invalid port 'http'" "$(printf 'FROM busybox\nEXPOSE http')"
refused "bad STOPSIGNAL" "STOPSIGNAL: unknown signal 'SIGNOPE'" "$(printf 'FROM busybox\nSTOPSIGNAL SIGNOPE')"
refused "bad substitution" "line 2" "$(printf 'FROM busybox\nENV A=${B:?must be set}')"
refused "--network host" "a micro-VM has its own network stack" "FROM busybox" --network host
refused "RUN --mount (not ignored)" "line 2: RUN --mount is not supported" \
	"$(printf 'FROM busybox\nRUN --mount=type=cache,target=/c true')"
refused "an unknown COPY flag" "line 2: COPY --parents is not supported" \
	"$(printf 'FROM busybox\nCOPY --parents Dockerfile /x')"
out=$("$VMM" build -t 'Bad:Tag' "$T/bad" 2>&1); rc=$?
expect_match "refused: an invalid -t" "invalid reference format" "$out"
after=$("$VMM" images -a -q 2>/dev/null | sort | tr '\n' ' ')
expect_eq "refused builds leave no image behind" "$before" "$after"

# symlinks in the context resolve inside it: a link to a host file copies nothing of the host
mkdir -p "$T/esc/etc"
echo "host secret" >"$T/host-secret"
ln -s "$T/host-secret" "$T/esc/abs-link"
ln -s ../../../../../../../../../.."$T/host-secret" "$T/esc/rel-link"
echo "inside" >"$T/esc/etc/inside"
ln -s /etc/inside "$T/esc/root-link"
printf 'FROM busybox\nCOPY abs-link /x\n' >"$T/esc/Dockerfile"
out=$("$VMM" build -q "$T/esc" 2>&1); rc=$?
expect_match "COPY of a symlink to a host file: refused, nothing copied" "file not found in build context.*abs-link" "$out"
printf 'FROM busybox\nCOPY rel-link /x\n' >"$T/esc/Dockerfile"
out=$("$VMM" build -q "$T/esc" 2>&1); rc=$?
expect_match "... a relative one climbing out too" "file not found in build context.*rel-link" "$out"
printf 'FROM busybox\nCOPY root-link /x\n' >"$T/esc/Dockerfile"
id=$("$VMM" build -q -t vmm/inroot "$T/esc" 2>&1)
rm -rf "$T/u-in"
umoci unpack --image "$VMM_ROOT/oci:docker.io/vmm/inroot:latest" "$T/u-in" >/dev/null 2>&1
expect_eq "... an absolute link resolves in the context, as docker resolves it" "inside" "$(cat "$T/u-in/rootfs/x" 2>&1)"
rm -f "$T/esc/root-link"
ln -s "$T/host-secret" "$T/esc/.dockerignore"
printf 'FROM busybox\nCOPY etc /etc2\n' >"$T/esc/Dockerfile"
out=$("$VMM" build -q "$T/esc" 2>&1)
expect_match "a .dockerignore linked to a host file is not read" "^sha256:" "$out"

# RUN boots a micro-VM per step
if have_kvm; then
	out=$(printf 'FROM busybox\nRUN echo "hello world"\n' | "$VMM" build -t vmm/run - 2>&1)
	expect_match "RUN in a micro-VM (the seed's example)" "hello world" "$out"
	# what RUN leaves behind, layer by layer, against buildah running the same commands:
	# whiteouts, a folder replaced by a file and the reverse, a folder emptied and
	# refilled (opaque), hard links, setuid from chmod, owners other than root, symlinks
	R="$T/run-ctx"
	mkdir -p "$R"
	cat >"$R/Dockerfile" <<'EOF2'
FROM busybox
RUN mkdir -p /d/sub /e /opq && echo one > /d/f && ln /d/f /d/hard && ln -s f /d/sym && \
    echo two > /e/file && echo keep > /opq/old && chmod 4755 /d/f && \
    chown 1000:1000 /d/sub && touch /d/sub/owned && chown 1000:100 /d/sub/owned
RUN rm -rf /etc/group /home /e && echo now-a-file > /e && rm /d/sym && \
    rm -rf /var && mkdir -p /var/new && echo v > /var/new/x && \
    rm -rf /opq && mkdir /opq && echo fresh > /opq/new && \
    ln /d/hard /d/hard2 && chmod 2711 /d/sub && chmod u+s /opq/new
EOF2
	same_as_buildah run "$R"
else
	skip "RUN in a micro-VM" "/dev/kvm not accessible on this host"
	# the failure path still runs: the step's container is made, cannot start, and goes
	disks=$(ls "$VMM_ROOT/disks" | sort | tr '\n' ' ')
	imgs=$("$VMM" images -a -q 2>/dev/null | sort | tr '\n' ' ')
	out=$(printf 'FROM busybox\nENV A=1\nRUN echo "hello world"\n' | "$VMM" build -t vmm/run - 2>&1); rc=$?
	expect_match "RUN without /dev/kvm: the build stops, saying why" \
		"/dev/kvm.*The command '/bin/sh -c echo \"hello world\"' returned a non-zero code: 125" \
		"$(printf '%s' "$out" | tr '\n' ' ')"
	expect_eq "... with the step's exit status" "125" "$rc"
	expect_eq "... and leaves no container behind" "" "$("$VMM" ps -a -q)"
	expect_eq "... nor an image" "$imgs" "$("$VMM" images -a -q 2>/dev/null | sort | tr '\n' ' ')"
	expect_eq "... nor a disk" "$disks" "$(ls "$VMM_ROOT/disks" | sort | tr '\n' ' ')"
fi
