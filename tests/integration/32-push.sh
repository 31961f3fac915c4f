#!/bin/sh
# vmm push to Debian's docker-registry on loopback (plain and behind htpasswd) and to
# tests/registry/fake_registry.py (bearer tokens with scopes, relative upload Locations).
# What arrives is read back with skopeo and vmm pull and compared with the store.
. tests/integration/lib.sh

for tool in docker-registry skopeo umoci jq python3 curl; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip "push" "$tool not installed (scripts/install-deps.sh)"
		exit 0
	fi
done

export VMM_ROOT="$T/root"
export HOME="$T/home"	# no docker config of the runner's
unset DOCKER_CONFIG XDG_CONFIG_HOME REGISTRY_AUTH_FILE VMM_PUSH_CHUNK_SIZE
mkdir -p "$HOME"
cleanup_hook() { registry_stop; }
CHUNK=16777216	# PUSH_CHUNK_SIZE

if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	fail "push: busybox image" "$(tail -2 "$T/img.log")"
	exit 0
fi
P=$(free_port)
if ! start_registry tests/registry/config.yml "$P" "$T/reg.log"; then
	fail "docker-registry starts" "$(tail -3 "$T/reg.log")"
	exit 0
fi
R="127.0.0.1:$P"

inspect() { "$VMM" image inspect "$1" 2>/dev/null | jq -r ".[0]$2"; }
blob() { cat "$VMM_ROOT/oci/blobs/sha256/${1#sha256:}"; }
manifest_of() { blob "$(inspect "$1" .Descriptor.digest)"; }	# IMAGE: its stored manifest
short_id() { inspect "$1" ".RootFS.Layers[$2]" | cut -c8-19; }	# IMAGE N: docker's layer name
requests() { grep -c "\"$1 /v2/$2" "$T/reg.log"; }	# METHOD PATH-PREFIX: access log lines
reg_raw() { skopeo inspect --tls-verify=false --raw "docker://$1"; }
sha() { sha256sum | sed 's/^/sha256:/; s/ .*//'; }
chunks() { echo $(( ($1 + CHUNK - 1) / CHUNK )); }
copy_back() {	# REF DIR: skopeo copies it from the registry into an OCI layout, digests kept
	rm -rf "$2"
	skopeo copy -q --preserve-digests --src-tls-verify=false "docker://$1" "oci:$2:x"
}
back_layers() { jq -r '.layers[].digest' "$1/blobs/sha256/$(jq -r '.manifests[0].digest' "$1/index.json" | cut -c8-)"; }

# --- busybox: pushed, read back, pushed again ---
"$VMM" tag busybox "$R/busybox:1"
man=$(inspect busybox .Descriptor.digest)
out=$("$VMM" push "$R/busybox:1" 2>&1)
rc=$?
expect_eq "push busybox: docker's lines" "0
The push refers to repository [$R/busybox]
$(short_id busybox 0): Pushed
1: digest: $man size: $(inspect busybox .Descriptor.size)" "$rc
$out"
expect_eq "the registry has the manifest byte for byte" "$man" "$(reg_raw "$R/busybox:1" | sha)"
if copy_back "$R/busybox:1" "$T/back"; then
	expect_eq "skopeo copies it back: the manifest digest" "$man" "$(jq -r '.manifests[0].digest' "$T/back/index.json")"
	expect_eq "skopeo copies it back: the layer digests" "$(manifest_of busybox | jq -r '.layers[].digest')" \
		"$(back_layers "$T/back")"
	expect_eq "skopeo copies it back: the config is the image ID" "$(inspect busybox .Id)" \
		"$(skopeo inspect --config --raw "oci:$T/back:x" | sha)"
else
	fail "skopeo copies it back" "skopeo copy failed"
fi

n="$(requests POST busybox/blobs/uploads) $(requests PUT busybox/blobs/uploads)"
out=$("$VMM" push "$R/busybox:1" 2>&1)
expect_eq "push again: Layer already exists" "The push refers to repository [$R/busybox]
$(short_id busybox 0): Layer already exists
1: digest: $man size: $(inspect busybox .Descriptor.size)" "$out"
expect_eq "push again uploads nothing" "$n" "$(requests POST busybox/blobs/uploads) $(requests PUT busybox/blobs/uploads)"
expect_eq "image push -q prints the full name only" "$R/busybox:1" "$("$VMM" image push -q "$R/busybox:1" 2>&1)"

# --- three layers on busybox's, one of them 20 MiB (chunked) ---
L="$T/lay"
# (busybox's layer as stored, uncompressed: skopeo would compress it unless told to keep digests)
skopeo copy -q --preserve-digests oci:"$VMM_ROOT/oci:docker.io/library/busybox:latest" "oci:$L:base"
umoci unpack --rootless --image "$L:base" "$T/b" >/dev/null 2>&1
echo mid > "$T/b/rootfs/mid"
umoci repack --image "$L:mid" "$T/b"
rm -rf "$T/b"
umoci unpack --rootless --image "$L:mid" "$T/b" >/dev/null 2>&1
head -c $((20 << 20)) /dev/urandom > "$T/b/rootfs/big"
umoci repack --image "$L:big" "$T/b"
rm -rf "$T/b"
umoci config --image "$L:mid" --tag arm --architecture arm64
skopeo copy -q --preserve-digests "oci:$L:big" "oci-archive:$T/big.tar:big:v1"
check "a three-layer image with a 20 MiB layer" "$VMM" load -q -i "$T/big.tar"
"$VMM" tag big:v1 "$R/big:v1"
big=$(manifest_of big:v1 | jq -r '.layers[2].size')
out=$("$VMM" push "$R/big:v1" 2>&1)
expect_eq "push a three-layer image" "The push refers to repository [$R/big]
$(short_id big:v1 0): Mounted from busybox
$(short_id big:v1 1): Pushed
$(short_id big:v1 2): Pushed
v1: digest: $(inspect big:v1 .Descriptor.digest) size: $(inspect big:v1 .Descriptor.size)" "$out"
expect_eq "busybox's layer mounted from the busybox repository (another image's tag)" "1" \
	"$(grep -c "\"POST /v2/big/blobs/uploads/?mount=$(manifest_of busybox | jq -r '.layers[0].digest')&from=busybox HTTP/1.1\" 201" "$T/reg.log")"
expect_eq "the 20 MiB layer went in $(chunks "$big") chunks, the small ones whole" "$(chunks "$big") 3" \
	"$(requests PATCH big/blobs/uploads) $(requests PUT big/blobs/uploads)"
if copy_back "$R/big:v1" "$T/back"; then
	expect_eq "skopeo copies it back: the layer digests" "$(manifest_of big:v1 | jq -r '.layers[].digest')" \
		"$(back_layers "$T/back")"
	expect_eq "skopeo copies it back: the 20 MiB layer's bytes" "$(manifest_of big:v1 | jq -r '.layers[2].digest')" \
		"$(sha < "$T/back/blobs/sha256/$(manifest_of big:v1 | jq -r '.layers[2].digest' | cut -c8-)")"
else
	fail "skopeo copies the three-layer image back" "skopeo copy failed"
fi
out=$(VMM_ROOT="$T/root-pull" "$VMM" pull -q "$R/big:v1" 2>&1)
expect_eq "vmm pull into a fresh store" "$R/big:v1" "$out"
expect_eq "pulled: the same image ID and manifest" "$(inspect big:v1 .Id) $(inspect big:v1 .Descriptor.digest)" \
	"$(VMM_ROOT="$T/root-pull" inspect "$R/big:v1" .Id) $(VMM_ROOT="$T/root-pull" inspect "$R/big:v1" .Descriptor.digest)"

# another repository of the same registry: everything mounted from the image's other tag
"$VMM" tag big:v1 "$R/team/big:2"
out=$("$VMM" push "$R/team/big:2" 2>&1)
expect_eq "a second repository: layers mounted" "The push refers to repository [$R/team/big]
$(short_id big:v1 0): Mounted from big
$(short_id big:v1 1): Mounted from big
$(short_id big:v1 2): Mounted from big
2: digest: $(inspect big:v1 .Descriptor.digest) size: $(inspect big:v1 .Descriptor.size)" "$out"
expect_eq "the registry mounted all four blobs, nothing uploaded" "4 0 0" \
	"$(grep -c '"POST /v2/team/big/blobs/uploads/?mount=[^ ]*&from=big HTTP/1.1" 201' "$T/reg.log") $(requests PATCH team/) $(requests PUT team/big/blobs)"
expect_eq "skopeo reads it there" "$(inspect big:v1 .Descriptor.digest)" "$(reg_raw "$R/team/big:2" | sha)"

# --- chunks of VMM_PUSH_CHUNK_SIZE, in a store that knows no other repository ---
export VMM_ROOT="$T/root-chunk"
scripts/build-busybox-image.sh "$VMM" >/dev/null 2>&1
"$VMM" tag busybox "$R/chunked:1"
size=$(manifest_of busybox | jq -r '.layers[0].size')
out=$(VMM_PUSH_CHUNK_SIZE=256K "$VMM" push "$R/chunked:1" 2>&1)
expect_match "VMM_PUSH_CHUNK_SIZE=256K: pushed" "^$(short_id busybox 0): Pushed$" "$out"
expect_eq "... in $(( (size + 262143) / 262144 )) chunks" "$(( (size + 262143) / 262144 ))" "$(requests PATCH chunked/)"
expect_eq "... and the registry has it" "$(inspect busybox .Descriptor.digest)" "$(reg_raw "$R/chunked:1" | sha)"
refused "VMM_PUSH_CHUNK_SIZE too small" "VMM_PUSH_CHUNK_SIZE=1K" env VMM_PUSH_CHUNK_SIZE=1K "$VMM" push "$R/chunked:1"
# from here on, nothing to mount from: the store no longer names that repository
"$VMM" rmi "$R/chunked:1" >/dev/null

# a tag that was never pushed: the mount fails, the registry opens an upload, the blob goes
"$VMM" tag busybox "$R/never:1"
"$VMM" tag busybox "$R/fallback:1"
out=$("$VMM" push "$R/fallback:1" 2>&1)
expect_match "a failed mount falls back to an upload" "^$(short_id busybox 0): Pushed$" "$out"
expect_eq "... the registry was asked to mount from the tag's repository" "2" \
	"$(grep -c '"POST /v2/fallback/blobs/uploads/?mount=[^ ]*&from=never HTTP/1.1" 202' "$T/reg.log")"
expect_eq "... and has the image" "$(inspect busybox .Descriptor.digest)" "$(reg_raw "$R/fallback:1" | sha)"
"$VMM" rmi "$R/never:1" "$R/fallback:1" >/dev/null

if command -v script >/dev/null 2>&1; then
	"$VMM" tag busybox "$R/tty:1"
	out=$(script -qec "$VMM push $R/tty:1" /dev/null 2>&1 | tr '\r' '\n')
	expect_match "progress on a terminal" "$(short_id busybox 0): Pushing \[=+>? *\] " "$out"
	expect_match "... ending in Pushed" "$(short_id busybox 0): Pushed" "$out"
	"$VMM" rmi "$R/tty:1" >/dev/null
else
	skip "progress on a terminal" "no script(1)"
fi

# a corrupt blob in the store never completes on the registry, whole or chunked
layer=$(manifest_of busybox | jq -r '.layers[0].digest')
f="$VMM_ROOT/oci/blobs/sha256/${layer#sha256:}"
chmod u+w "$f"
printf 'X' | dd of="$f" bs=1 seek=1000 conv=notrunc 2>/dev/null
"$VMM" tag busybox "$R/corrupt:1"
refused "a corrupt layer is refused" "is corrupt (its content hashes to sha256:" "$VMM" push "$R/corrupt:1"
refused "... also in chunks" "is corrupt" env VMM_PUSH_CHUNK_SIZE=256K "$VMM" push "$R/corrupt:1"
expect_eq "the registry has no such blob there" "404" \
	"$(curl -s -o /dev/null -w '%{http_code}' -I "http://$R/v2/corrupt/blobs/$layer")"
expect_match "the unfinished chunked upload was cancelled" '"DELETE /v2/corrupt/blobs/uploads/[^ ]* HTTP/1.1" 204' \
	"$(cat "$T/reg.log")"
export VMM_ROOT="$T/root"

# --- image indexes: whole when complete in the store, else the linux/amd64 image ---
python3 - "$L" <<'EOF'
import hashlib, json, os, sys
lay = sys.argv[1]
idx = json.load(open(os.path.join(lay, "index.json")))
by = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in idx["manifests"]}
def entry(tag, arch):
    m = dict(by[tag]); m.pop("annotations"); m["platform"] = {"architecture": arch, "os": "linux"}
    return m
for name, entries in (("idx", [entry("mid", "amd64")]), ("multi", [entry("arm", "arm64"), entry("mid", "amd64")])):
    data = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": entries}, separators=(",", ":")).encode()
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(lay, "blobs", "sha256", d), "wb").write(data)
    idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + d,
                             "size": len(data), "annotations": {"org.opencontainers.image.ref.name": name}})
json.dump(idx, open(os.path.join(lay, "index.json"), "w"))
EOF
for i in idx multi; do
	skopeo copy -q --all --dest-tls-verify=false "oci:$L:$i" "docker://$R/$i:v1"
	"$VMM" pull -q "$R/$i:v1" >/dev/null
	"$VMM" tag "$R/$i:v1" "$R/$i-copy:v1"
done
idx=$(reg_raw "$R/idx:v1" | sha)
out=$("$VMM" push "$R/idx-copy:v1" 2>&1)
expect_match "an index complete in the store goes whole" "^v1: digest: $idx size: [0-9]+$" "$out"
expect_eq "... and keeps its digest" "$idx" "$(reg_raw "$R/idx-copy:v1" | sha)"
expect_match "... its blobs mounted from where it was pulled" "Mounted from idx$" "$out"
amd=$(inspect "$R/multi:v1" .Descriptor.digest)
out=$("$VMM" push "$R/multi-copy:v1" 2>&1)
expect_match "an index with platforms not in the store: says so" \
	"^The image index $(reg_raw "$R/multi:v1" | sha) has platforms that are not in the store: pushing its linux/amd64 image only$" "$out"
expect_match "... and pushes the linux/amd64 manifest under the tag" "^v1: digest: $amd size: " "$out"
expect_eq "... which the registry has" "$amd" "$(reg_raw "$R/multi-copy:v1" | sha)"

# --- refusals: one line each, the store untouched ---
refused "unknown image" "$R/nosuch:1: no such image" "$VMM" push "$R/nosuch:1"
down=$(free_port)
"$VMM" tag busybox "127.0.0.1:$down/x:1"
refused "registry down" "cannot connect to registry 127.0.0.1:$down" "$VMM" push "127.0.0.1:$down/x:1"
refused "a digest reference" "cannot push a digest reference" "$VMM" push "$R/busybox@$man"
refused "an image ID" "an image ID names no repository" "$VMM" push "$(inspect busybox .Id | cut -c8-19)"
refused "invalid reference" "invalid reference format" "$VMM" push "$R/Bad:1"
# no registry in the name: docker.io, which this host cannot reach (or refuses us without a login)
refused "a name without a registry goes to docker.io" "docker.io" timeout 90 "$VMM" push busybox

# --- auth: docker-registry behind htpasswd ---
make_htpasswd alice s3cret > "$T/htpasswd"
PA=$(free_port)
REGISTRY_DATA="$T/data-auth"
if start_registry tests/registry/config-auth.yml "$PA" "$T/reg-auth.log" "$T/htpasswd"; then
	A="127.0.0.1:$PA"
	"$VMM" tag busybox "$A/secure:1"
	refused "push without credentials: login hint" "authentication required: run vmm login $A" \
		"$VMM" push "$A/secure:1"
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$A" "$(printf alice:nope | base64)" > "$T/bad.json"
	refused "wrong credentials: refused, naming the file" "refused the credentials of user alice (from $T/bad.json)" \
		"$VMM" push --authfile "$T/bad.json" "$A/secure:1"
	echo s3cret | "$VMM" login -u alice --password-stdin "$A" >/dev/null 2>&1
	out=$("$VMM" push "$A/secure:1" 2>&1)
	expect_match "push after vmm login" "^1: digest: $man size: " "$out"
	expect_eq "... which skopeo reads with the credentials" "$man" \
		"$(skopeo inspect --tls-verify=false --creds alice:s3cret --raw "docker://$A/secure:1" | sha)"
else
	fail "docker-registry with htpasswd starts" "$(tail -3 "$T/reg-auth.log")"
fi
unset REGISTRY_DATA

# --- bearer tokens, relative Locations (fake_registry.py, starting empty) ---
mkdir -p "$T/empty/blobs/sha256"
echo '{"schemaVersion":2,"manifests":[]}' > "$T/empty/index.json"
start_fake bearer "$T/empty" --bearer bob:pw
F=$FAKE
"$VMM" tag busybox "$F/a/bb:1"
"$VMM" tag busybox "$F/b:2"
refused "bearer registry without credentials: login hint" "authentication required: run vmm login $F" \
	"$VMM" push "$F/a/bb:1"
echo pw | "$VMM" login -u bob --password-stdin "$F" >/dev/null 2>&1
out=$(VMM_PUSH_CHUNK_SIZE=512K "$VMM" push "$F/a/bb:1" 2>&1)
expect_match "push with a bearer token" "^1: digest: $man size: " "$out"
expect_match "the token was asked for pull and push" "GET /token\?[^ ]*scope=repository%3Aa%2Fbb%3Apull%2Cpush" "$(cat "$FAKELOG")"
expect_match "relative Locations followed from chunk to chunk" "PATCH /v2/a/bb/blobs/uploads/[0-9a-f]+\?n=2 " \
	"$(cat "$FAKELOG")"
out=$("$VMM" push "$F/b:2" 2>&1)
expect_match "bearer: mounted from the other repository" "^$(short_id busybox 0): Mounted from a/bb$" "$out"
expect_match "... with a token that covers pulling from it" \
	"GET /token\?[^ ]*scope=repository%3Ab%3Apull%2Cpush[^ ]*scope=repository%3Aa%2Fbb%3Apull" "$(cat "$FAKELOG")"
out=$(VMM_ROOT="$T/root-fake" "$VMM" pull -q --authfile "$VMM_ROOT/auth.json" "$F/b:2" 2>&1)
expect_eq "pulled back from there" "$F/b:2 $(inspect busybox .Id)" "$out $(VMM_ROOT="$T/root-fake" inspect "$F/b:2" .Id)"
