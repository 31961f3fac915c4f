#!/bin/sh
# The image store and image commands, against images made by real tools (umoci,
# skopeo): load, save, images, tag, rmi, inspect, history, prune, bad inputs.
. tests/integration/lib.sh

for tool in umoci skopeo jq; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip "images" "$tool not installed (scripts/install-deps.sh)"
		exit 0
	fi
done

export VMM_ROOT="$T/root"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || BUSYBOX=$(command -v busybox)

# --- images built with umoci: "one" (1 layer), "two" (2 layers), "arm" (arm64) ---
L="$T/lay"
umoci init --layout "$L"
umoci new --image "$L:base"
umoci unpack --rootless --image "$L:base" "$T/b" >/dev/null 2>&1
mkdir -p "$T/b/rootfs/bin"
cp "$BUSYBOX" "$T/b/rootfs/bin/busybox"
echo one > "$T/b/rootfs/one"
umoci repack --image "$L:one" "$T/b"
umoci config --image "$L:one" --config.cmd sh --config.env A=1 --config.exposedports 80/tcp
umoci unpack --rootless --image "$L:one" "$T/b2" >/dev/null 2>&1
echo two > "$T/b2/rootfs/two"
umoci repack --image "$L:two" "$T/b2"
umoci config --image "$L:two" --config.entrypoint /bin/busybox --config.cmd echo
umoci config --image "$L:one" --tag arm --architecture arm64
rm -rf "$T/b" "$T/b2"

skopeo copy -q oci:"$L":one docker-archive:"$T/one-docker.tar":one:v1
skopeo copy -q oci:"$L":two oci-archive:"$T/two-oci.tar":two:v1
skopeo copy -q --dest-compress-format zstd docker-archive:"$T/one-docker.tar" oci:"$T/zlay":quay.io/x/zed:1
skopeo copy -q oci:"$L":arm docker-archive:"$T/arm-docker.tar":arm:v1
check "test images built with umoci and skopeo" test -s "$T/two-oci.tar"

inspect() {	# IMAGE JQ-EXPR
	"$VMM" image inspect "$1" 2>/dev/null | jq -r ".[0]$2"
}

# --- load ---
out=$("$VMM" load -i "$T/one-docker.tar" 2>&1)
expect_eq "load docker-archive" "Loaded image: one:v1" "$out"
want=$(skopeo inspect --raw --config docker-archive:"$T/one-docker.tar" | sha256sum | cut -d' ' -f1)
expect_eq "image ID is the config digest" "sha256:$want" "$(inspect one:v1 .Id)"
expect_match "images lists it" "^one +v1 +${want%"${want#????????????}"} " "$("$VMM" images)"

out=$("$VMM" load < "$T/two-oci.tar" 2>&1)
expect_eq "load oci-archive from stdin" "Loaded image: two:v1" "$out"
want=$(skopeo inspect oci-archive:"$T/two-oci.tar" | jq -r .Digest)
expect_eq "oci-archive keeps the manifest digest" "$want" "$(inspect two:v1 .Descriptor.digest)"
expect_eq "two layers" "2" "$(inspect two:v1 '.RootFS.Layers | length')"
expect_eq "config read" '["/bin/busybox"] ["echo"]' \
	"$(inspect two:v1 '.Config.Entrypoint | tojson') $(inspect two:v1 '.Config.Cmd | tojson')"

out=$("$VMM" load -q -i "$T/zlay" 2>&1)
expect_eq "load an OCI layout directory (zstd layers)" "Loaded image: quay.io/x/zed:1" "$out"
mdigest=$(jq -r '.manifests[0].digest' "$T/zlay/index.json")
expect_eq "zstd image keeps its manifest digest" "$mdigest" "$(inspect quay.io/x/zed:1 .Descriptor.digest)"
expect_match "zstd layer stored as it came" "tar\\+zstd" \
	"$(cat "$VMM_ROOT/oci/blobs/sha256/${mdigest#sha256:}")"

# a docker-archive with a gzip layer and no RepoTags (the legacy repositories file names
# it), itself gzip-compressed, from stdin
G="$T/gzd"
mkdir -p "$G"
tar -C "$G" -xf "$T/one-docker.tar"
for f in "$G"/*.tar; do gzip -n "$f" && mv "$f.gz" "$f"; done
sed -i 's/"RepoTags":\[[^]]*\]/"RepoTags":null/' "$G/manifest.json"
(cd "$G" && tar -cf - ./*) | gzip > "$T/gz-docker.tar.gz"
out=$(VMM_ROOT="$T/rootg" "$VMM" load < "$T/gz-docker.tar.gz" 2>&1)
expect_eq "gzip layers in a gzip'd docker-archive, named by repositories" "Loaded image: one:v1" "$out"
expect_eq "same image ID from gzip layers" "$(inspect one:v1 .Id)" \
	"$(VMM_ROOT="$T/rootg" "$VMM" image inspect one:v1 | jq -r '.[0].Id')"
expect_match "gzip layer stored compressed" "tar\\+gzip" \
	"$(VMM_ROOT="$T/rootg" "$VMM" save --format oci-archive one:v1 | tar -xOf - index.json >/dev/null &&
	   cat "$T"/rootg/oci/blobs/sha256/"$(VMM_ROOT="$T/rootg" "$VMM" image inspect one:v1 | jq -r '.[0].Descriptor.digest' | cut -d: -f2)")"

# --- our store, read by skopeo and umoci ---
check "skopeo inspect oci:\$VMM_ROOT/oci:docker.io/library/one:v1" \
	skopeo inspect oci:"$VMM_ROOT/oci":docker.io/library/one:v1
expect_match "umoci ls reads the store" "docker.io/library/two:v1" "$(umoci ls --layout "$VMM_ROOT/oci")"

# --- lookups and listings ---
id=$(inspect one:v1 .Id)
short=$(echo "${id#sha256:}" | cut -c1-12)
expect_eq "lookup by full reference" "$id" "$(inspect docker.io/library/one:v1 .Id)"
expect_eq "lookup by 12-digit ID" "$id" "$(inspect "$short" .Id)"
expect_eq "lookup by 5-digit ID prefix" "$id" "$(inspect "$(echo "$short" | cut -c1-5)" .Id)"
expect_eq "lookup by sha256:ID" "$id" "$(inspect "$id" .Id)"
expect_eq "images -q" "3" "$("$VMM" images -q | wc -l | tr -d ' ')"
expect_eq "images --format json" "one v1" \
	"$("$VMM" images --format json one | jq -r '.Repository + " " + .Tag')"
expect_eq "images --no-trunc" "$id" "$("$VMM" images -q --no-trunc one:v1)"
expect_match "history" "umoci config" "$("$VMM" history two:v1)"
expect_match "image ls is images" "^two +v1 " "$("$VMM" image ls)"

# --- round trips ---
"$VMM" save -o "$T/s-docker.tar" one:v1 2>/dev/null
check "save docker-archive readable by skopeo" skopeo inspect docker-archive:"$T/s-docker.tar"
"$VMM" save --format oci-archive -o "$T/s-oci.tar" two:v1 2>/dev/null
expect_eq "save oci-archive readable by skopeo" "$(inspect two:v1 .Descriptor.digest)" \
	"$(skopeo inspect oci-archive:"$T/s-oci.tar":docker.io/library/two:v1 | jq -r .Digest)"
"$VMM" save -o "$T/s-both.tar" one:v1 two:v1 quay.io/x/zed:1 2>/dev/null
"$VMM" save -o "$T/s-gz-docker.tar" two:v1 2>/dev/null

R2="$T/root2"
out=$(VMM_ROOT="$R2" "$VMM" load -i "$T/s-both.tar" 2>&1)
expect_eq "three images in one archive" "Loaded image: one:v1
Loaded image: two:v1
Loaded image: quay.io/x/zed:1" "$out"
for img in one:v1 two:v1 quay.io/x/zed:1; do
	expect_eq "docker-archive round trip keeps the ID of $img" "$(inspect "$img" .Id)" \
		"$(VMM_ROOT="$R2" "$VMM" image inspect "$img" | jq -r '.[0].Id')"
done
expect_eq "docker-archive round trip keeps one:v1's manifest digest" \
	"$(inspect one:v1 .Descriptor.digest)" \
	"$(VMM_ROOT="$R2" "$VMM" image inspect one:v1 | jq -r '.[0].Descriptor.digest')"
R3="$T/root3"
VMM_ROOT="$R3" "$VMM" load -i "$T/s-oci.tar" >/dev/null 2>&1
expect_eq "oci-archive round trip keeps the manifest digest" "$(inspect two:v1 .Descriptor.digest)" \
	"$(VMM_ROOT="$R3" "$VMM" image inspect two:v1 | jq -r '.[0].Descriptor.digest')"
VMM_ROOT="$R3" "$VMM" load -i "$T/s-gz-docker.tar" >/dev/null 2>&1
expect_eq "gzip image through a docker-archive keeps its ID" "$(inspect two:v1 .Id)" \
	"$(VMM_ROOT="$R3" "$VMM" images -q --no-trunc two:v1 | sort -u | head -1)"
out=$("$VMM" load -i "$T/one-docker.tar" 2>&1)
expect_eq "loading again is a no-op" "Loaded image: one:v1" "$out"
if command -v script >/dev/null 2>&1; then
	expect_match "save refuses a terminal" "refusing" \
		"$(script -qec "VMM_ROOT=$VMM_ROOT $VMM save one:v1" /dev/null 2>&1)"
fi

# --- bad inputs: one error line naming the input, the store untouched ---
flip() {	# FILE OFFSET: change one byte
	b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
	# shellcheck disable=SC2059
	printf "\\$(printf %o $(( b ^ 1 )))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
"$VMM" rmi quay.io/x/zed:1 >/dev/null 2>&1	# so a reload would add blobs

head -c $(( $(wc -c < "$T/two-oci.tar") / 2 )) "$T/two-oci.tar" > "$T/trunc.tar"
refused "truncated archive refused" trunc.tar "$VMM" load -i "$T/trunc.tar"
# No external decompressor ever runs on an archive (an lz4 frame: libarchive would call lz4 -d).
printf '\004\042\115\030\144\100\247garbage' > "$T/frame.lz4"
refused "an archive only an external program could decompress is refused" frame.lz4 "$VMM" load -i "$T/frame.lz4"
# A FIFO planted as index.json in an OCI layout does not hang vmm load.
mkdir -p "$T/fifo-layout/blobs/sha256" && printf '{"imageLayoutVersion":"1.0.0"}' > "$T/fifo-layout/oci-layout"
mkfifo "$T/fifo-layout/index.json"
refused "a FIFO as index.json is refused at once" fifo-layout timeout 60 "$VMM" load -i "$T/fifo-layout"
cp "$T/one-docker.tar" "$T/flip-docker.tar"
flip "$T/flip-docker.tar" 1000000
refused "flipped byte in a docker-archive layer refused" flip-docker.tar "$VMM" load -i "$T/flip-docker.tar"
skopeo copy -q oci:"$L":two oci-archive:"$T/flip-oci.tar":x:1
flip "$T/flip-oci.tar" 1000000
refused "flipped byte in an oci-archive blob refused" flip-oci.tar "$VMM" load -i "$T/flip-oci.tar"
grep -q "does not match\|digest" "$T/err" && pass "digest mismatch named" || fail "digest mismatch named" "$(cat "$T/err")"
cp -r "$T/zlay" "$T/zflip"
layer=$(find "$T/zflip/blobs/sha256" -type f -size +100k | head -1)
flip "$layer" 5000
refused "flipped byte in a layout directory refused" zflip "$VMM" load -i "$T/zflip"
refused "other-platform image refused" arm-docker.tar "$VMM" load -i "$T/arm-docker.tar"
grep -q "arm64" "$T/err" && pass "platform named" || fail "platform named" "$(cat "$T/err")"
refused "empty stdin refused" stdin "$VMM" load < /dev/null
head -c 20000 /dev/urandom > "$T/random.bin"
refused "not an archive refused" random.bin "$VMM" load -i "$T/random.bin"

# a hand-made layout: blob NAME CONTENT -> digest
blob() {
	mkdir -p "$1/blobs/sha256"
	printf '%s' "$2" > "$1/tmpblob"
	d=$(sha256sum "$1/tmpblob" | cut -d' ' -f1)
	mv "$1/tmpblob" "$1/blobs/sha256/$d"
	echo "$d"
}
H="$T/helm"
c=$(blob "$H" '{"name":"chart"}')
m=$(blob "$H" "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.cncf.helm.config.v1+json\",\"digest\":\"sha256:$c\",\"size\":16},\"layers\":[]}")
echo '{"imageLayoutVersion":"1.0.0"}' > "$H/oci-layout"
echo "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$m\",\"size\":$(wc -c < "$H/blobs/sha256/$m")}]}" > "$H/index.json"
refused "unsupported media type refused" helm "$VMM" load -i "$H"
grep -q "unsupported" "$T/err" && pass "media type named" || fail "media type named" "$(cat "$T/err")"
P="$T/platform"
i=$(blob "$P" "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$m\",\"size\":10,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}}]}")
echo '{"imageLayoutVersion":"1.0.0"}' > "$P/oci-layout"
echo "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"sha256:$i\",\"size\":$(wc -c < "$P/blobs/sha256/$i")}]}" > "$P/index.json"
refused "index with only other platforms refused" platform "$VMM" load -i "$P"
grep -q "linux/arm64" "$T/err" && pass "platforms listed" || fail "platforms listed" "$(cat "$T/err")"

# path traversal: a member named ../evil-* is only ever a name
E="$T/evil/sub"
mkdir -p "$E"
echo "[{\"Config\":\"../evil-$$\",\"RepoTags\":[\"evil:1\"],\"Layers\":[]}]" > "$E/manifest.json"
echo '{}' > "$E/payload"
tar -C "$E" -cf "$T/evil.tar" -P --transform "s,^payload,../evil-$$," payload manifest.json
tar -tf "$T/evil.tar" -P | grep -q "^\.\./evil-$$" && pass "evil archive has a ../ member" ||
	fail "evil archive has a ../ member" "$(tar -tf "$T/evil.tar")"
(cd "$E" && refused "../ member refused" evil.tar "$VMM" load -i "$T/evil.tar")
if [ -e "$T/evil/evil-$$" ] || [ -e "$T/evil-$$" ] || [ -e "$VMM_ROOT/evil-$$" ] || [ -e "$VMM_ROOT/oci/blobs/evil-$$" ]; then
	fail "nothing written outside" "found evil-$$"
else pass "nothing written outside"; fi

refused "unknown image refused" nosuch "$VMM" image inspect nosuch:1
refused "invalid reference refused" "Bad" "$VMM" tag one:v1 Bad/Name
refused "tag with a digest refused" "@sha256" "$VMM" tag one:v1 "x@sha256:$(printf '%064d' 0)"
refused "save of an unknown image refused" "nosuch" "$VMM" save -o "$T/x.tar" nosuch
[ ! -e "$T/x.tar" ] && pass "no partial output file" || fail "no partial output file" "x.tar exists"

# --- tag, rmi, prune ---
check "tag" "$VMM" tag one:v1 extra/name:x
expect_match "tag listed" "^extra/name +x +$short" "$("$VMM" images)"
refused "rmi by ID of an image with two names refused" "$short" "$VMM" rmi "$short"
expect_match "rmi a second name only untags" "^Untagged: extra/name:x$" "$("$VMM" rmi extra/name:x 2>&1)"
mkdir -p "$VMM_ROOT/containers/c0ffee"
echo "{\"Image\":\"$id\"}" > "$VMM_ROOT/containers/c0ffee/config.json"
refused "rmi of an image a container uses refused" "c0ffee" "$VMM" rmi one:v1
nblobs=$(ls "$VMM_ROOT/oci/blobs/sha256" | wc -l)
out=$("$VMM" rmi -f one:v1 2>&1)
expect_match "rmi -f deletes" "Deleted: $id" "$out"
expect_eq "its blobs are gone (config, layer, manifest)" "$((nblobs - 3))" "$(ls "$VMM_ROOT/oci/blobs/sha256" | wc -l)"
mkdir -p "$VMM_ROOT/disks"
two=$(inspect two:v1 .Id)
orphan=$(printf 'orphan' | sha256sum | cut -d' ' -f1)
printf 'orphan' > "$VMM_ROOT/oci/blobs/sha256/$orphan"
: > "$VMM_ROOT/disks/${two#sha256:}.img"
: > "$VMM_ROOT/disks/${id#sha256:}.img"
: > "$VMM_ROOT/disks/$(printf '%064d' 7).img"
out=$(echo n | "$VMM" image prune 2>&1)
[ -e "$VMM_ROOT/oci/blobs/sha256/$orphan" ] && pass "prune asks first" || fail "prune asks first" "$out"
out=$("$VMM" image prune -f 2>&1)
expect_match "prune reports" "Deleted blobs: 1" "$out"
expect_match "prune removed one disk" "Deleted cached disks: 1" "$out"
[ ! -e "$VMM_ROOT/oci/blobs/sha256/$orphan" ] && [ ! -e "$VMM_ROOT/disks/$(printf '%064d' 7).img" ] &&
	pass "orphan blob and disk removed" || fail "orphan blob and disk removed" "$(ls "$VMM_ROOT/disks")"
[ -e "$VMM_ROOT/disks/${two#sha256:}.img" ] && [ -e "$VMM_ROOT/disks/${id#sha256:}.img" ] &&
	pass "disks of present or used images kept" || fail "disks of present or used images kept" "$(ls "$VMM_ROOT/disks")"
check "store still reads after all that" "$VMM" image inspect two:v1

# --- two loads at once into one store ---
R4="$T/root4"
VMM_ROOT="$R4" "$VMM" load -i "$T/one-docker.tar" >"$T/c1" 2>&1 &
p1=$!
VMM_ROOT="$R4" "$VMM" load -i "$T/two-oci.tar" >"$T/c2" 2>&1 &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
expect_eq "concurrent loads succeed" "0 0" "$r1 $r2"
expect_eq "both images present" "one:v1 two:v1" \
	"$(VMM_ROOT="$R4" "$VMM" images --format json | jq -r '.Repository + ":" + .Tag' | sort | tr '\n' ' ' | sed 's/ $//')"
check "index.json is valid JSON" jq -e .manifests "$R4/oci/index.json"

# The store is private: images may hold secrets.
expect_eq "store: the image store is ours alone (0700)" "700 700" \
	"$(stat -c %a "$VMM_ROOT/oci" "$VMM_ROOT/oci/blobs/sha256" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "store: no blob is readable by others" "" \
	"$(find "$VMM_ROOT/oci/blobs" -type f -perm /044 | head -3)"

# Go templates (--format, -f) as docker takes them, in a store of their own.
export VMM_ROOT="$T/root-fmt"
"$VMM" load -i "$T/one-docker.tar" >/dev/null 2>&1
expect_eq "images --format: a template per image" "one:v1" "$("$VMM" images --format '{{.Repository}}:{{.Tag}}' one)"
expect_eq "images --format table: docker's titles, aligned" "REPOSITORY   TAG
one          v1" "$("$VMM" images --format 'table {{.Repository}}\t{{.Tag}}' one)"
expect_eq "image inspect -f" "amd64 linux" "$("$VMM" image inspect -f '{{.Architecture}} {{.Os}}' one:v1)"
expect_eq "inspect -f of an image" "one:v1" "$("$VMM" inspect -f '{{index .RepoTags 0}}' one:v1 | sed 's|.*/||')"
out=$("$VMM" images --format '{{.Repository' 2>&1); rc=$?
expect_eq "images --format: a broken template is one line, exit 125" "125 vmm: error: template: unclosed action (missing }})" "$rc $out"
out=$("$VMM" image inspect -f '{{.Nope.Deeper}}' one:v1 2>&1); rc=$?
expect_eq "image inspect -f: a missing field prints <no value>, as docker" "0 <no value>" "$rc $out"

# images --filter (dangling, reference globs, label), in the same store
mkdir -p "$T/imp/etc" && echo x >"$T/imp/etc/x"
tar -C "$T/imp" -cf "$T/imp.tar" .
untagged=$("$VMM" import -c 'LABEL tier=web' "$T/imp.tar" 2>/dev/null | cut -c8-19)
"$VMM" import -c 'LABEL tier=db' "$T/imp.tar" labelled/db:2 >/dev/null 2>&1
expect_eq "images -f dangling=true: only untagged ones" "$untagged" "$("$VMM" images -q -f dangling=true)"
expect_eq "images -f dangling=false: the tagged ones" "2" "$("$VMM" images -q -f dangling=false | wc -l)"
expect_eq "images -f reference=PATTERN (a glob on the name)" "labelled/db" \
	"$("$VMM" images --format '{{.Repository}}' -f 'reference=lab*/*')"
expect_eq "images -f reference=NAME:TAG glob" "one:v1" "$("$VMM" images --format '{{.Repository}}:{{.Tag}}' -f 'reference=*:v1')"
expect_eq "images -f label=KEY=VALUE (the image config's labels)" "$untagged" "$("$VMM" images -q -f label=tier=web)"
expect_eq "images -f label=KEY" "2" "$("$VMM" images -q -f label=tier | wc -l)"
out=$("$VMM" images -f dangling=maybe 2>&1); rc=$?
expect_match "images -f dangling=maybe: refused, naming it" "invalid filter 'dangling=maybe'" "$out"
out=$("$VMM" images -f nope=1 2>&1); rc=$?
expect_match "images -f with an unknown key: refused, naming the keys" "invalid filter 'nope=1' \(dangling=, reference=, label=\)" "$out"
