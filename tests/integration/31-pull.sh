#!/bin/sh
# vmm pull / login / logout against Debian's docker-registry on loopback (images pushed
# there by skopeo, built with umoci), and against tests/registry/fake_registry.py for
# what a well-behaved registry never does (bearer tokens, redirects, cut connections).
. tests/integration/lib.sh

for tool in docker-registry skopeo umoci jq python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip "pull" "$tool not installed (scripts/install-deps.sh)"
		exit 0
	fi
done

export VMM_ROOT="$T/root"
export HOME="$T/home"	# no docker config of the runner's
unset DOCKER_CONFIG XDG_CONFIG_HOME REGISTRY_AUTH_FILE
mkdir -p "$HOME"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || BUSYBOX=$(command -v busybox)
cleanup_hook() { registry_stop; }

fresh_root() {	# NAME: an empty store of its own (created, so that "unchanged" means something)
	export VMM_ROOT="$T/root-$1"
	"$VMM" images >/dev/null
}
blob_gets() { grep -c "GET /v2/[^ ]*/blobs/sha256:" "$1"; }
digest_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

# --- images: "one" (1 layer), "two" (one's layer + another), "three" (its own layer),
#     "arm" (one, said to be arm64), "multi" (an index: one for amd64, arm for arm64),
#     "armonly" (an index with arm64 only) ---
L="$T/lay"
umoci init --layout "$L"
umoci new --image "$L:base"
umoci unpack --rootless --image "$L:base" "$T/b" >/dev/null 2>&1
mkdir -p "$T/b/rootfs/bin"
cp "$BUSYBOX" "$T/b/rootfs/bin/busybox"
umoci repack --image "$L:one" "$T/b"
umoci config --image "$L:one" --config.cmd sh
umoci unpack --rootless --image "$L:one" "$T/b2" >/dev/null 2>&1
echo two > "$T/b2/rootfs/two"
umoci repack --image "$L:two" "$T/b2"
rm -rf "$T/b" "$T/b2"
umoci unpack --rootless --image "$L:base" "$T/b3" >/dev/null 2>&1
head -c 300000 /dev/urandom > "$T/b3/rootfs/noise"
umoci repack --image "$L:three" "$T/b3"
rm -rf "$T/b3"
umoci config --image "$L:one" --tag arm --architecture arm64
python3 - "$L" <<'EOF'
import hashlib, json, os, sys
lay = sys.argv[1]
idx = json.load(open(os.path.join(lay, "index.json")))
by = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in idx["manifests"]}
def put(doc):
    data = json.dumps(doc, separators=(",", ":")).encode()
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(lay, "blobs", "sha256", d), "wb").write(data)
    return {"mediaType": doc["mediaType"], "digest": "sha256:" + d, "size": len(data)}
def entry(tag, arch):
    m = dict(by[tag]); m.pop("annotations"); m["platform"] = {"architecture": arch, "os": "linux"}
    return m
for name, entries in (("multi", [entry("arm", "arm64"), entry("one", "amd64")]),
                      ("armonly", [entry("arm", "arm64")])):
    d = put({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": entries})
    d["annotations"] = {"org.opencontainers.image.ref.name": name}
    idx["manifests"].append(d)
# "forged": one's config (its diff_ids) with three's layer: another image's layer in disguise.
blob = lambda dg: json.load(open(os.path.join(lay, "blobs", "sha256", dg.split(":")[1])))
forged = blob(by["one"]["digest"])
forged["layers"] = blob(by["three"]["digest"])["layers"]
forged.setdefault("mediaType", "application/vnd.oci.image.manifest.v1+json")
d = put(forged)
d["annotations"] = {"org.opencontainers.image.ref.name": "forged"}
idx["manifests"].append(d)
json.dump(idx, open(os.path.join(lay, "index.json"), "w"))
EOF

P=$(free_port)
if ! start_registry tests/registry/config.yml "$P" "$T/reg.log"; then
	fail "docker-registry starts" "$(tail -3 "$T/reg.log")"
	exit 0
fi
R="127.0.0.1:$P"
pushed=0
for img in one two three arm; do
	skopeo copy -q --dest-tls-verify=false oci:"$L":$img docker://$R/$img:v1 && pushed=$((pushed + 1))
done
for img in multi armonly; do
	skopeo copy -q --all --dest-tls-verify=false oci:"$L":$img docker://$R/$img:v1 && pushed=$((pushed + 1))
done
expect_eq "six test images pushed to docker-registry" 6 "$pushed"
reg_digest() { skopeo inspect --tls-verify=false --raw "docker://$R/$1" | sha256sum | sed 's/^/sha256:/; s/ .*//'; }
inspect() { "$VMM" image inspect "$1" 2>/dev/null | jq -r ".[0]$2"; }

# --- vmm create pulls what is missing (docker's --pull missing), in a store of its own ---
out=$(VMM_ROOT="$T/autopull" "$VMM" create --name ap "$R/one:v1" 2>"$T/ap.err"); rc=$?
expect_eq "create of a missing image pulls it first" "0" "$rc"
expect_match "... saying so on stderr, as docker" "^Unable to find image '$R/one:v1' locally" "$(cat "$T/ap.err")"
expect_match "... the container exists" "^[0-9a-f]{64}$" "$out"
out=$(VMM_ROOT="$T/autopull" "$VMM" create --pull never "$R/two:v1" 2>&1); rc=$?
expect_match "--pull never: a missing image is an error" "no such image" "$out"
n=$(grep -c "GET /v2/one/manifests/v1" "$T/reg.log")
VMM_ROOT="$T/autopull" "$VMM" create --pull always "$R/one:v1" >/dev/null 2>&1
expect_eq "--pull always: asks the registry even when present" "$((n + 1))" \
	"$(grep -c "GET /v2/one/manifests/v1" "$T/reg.log")"

# --- pull ---
out=$("$VMM" pull "$R/one:v1" 2>&1)
rc=$?
want=$(reg_digest one:v1)
expect_eq "pull exits 0" 0 "$rc"
expect_eq "pull prints docker's last lines" "Digest: $want
Status: Downloaded newer image for $R/one:v1
$R/one:v1" "$out"
expect_eq "manifest digest as in the registry" "$want" "$(inspect "$R/one:v1" .Descriptor.digest)"
cfg=$(skopeo inspect --tls-verify=false --raw --config "docker://$R/one:v1" | sha256sum | cut -d' ' -f1)
expect_eq "image ID is the config digest" "sha256:$cfg" "$(inspect "$R/one:v1" .Id)"
expect_match "vmm images lists it" "^$R/one +v1 +$(echo "$cfg" | cut -c1-12) " "$("$VMM" images)"
check "skopeo reads the pulled image from the store" skopeo inspect oci:"$VMM_ROOT/oci:$R/one:v1"

n=$(blob_gets "$T/reg.log")
out=$("$VMM" pull "$R/one:v1" 2>&1)
expect_match "second pull: up to date" "^Status: Image is up to date for $R/one:v1$" "$out"
expect_eq "second pull requests no blob" "$n" "$(blob_gets "$T/reg.log")"

shared=$(skopeo inspect --tls-verify=false "docker://$R/one:v1" | jq -r '.Layers[0]')
n=$(blob_gets "$T/reg.log")
out=$("$VMM" pull -q "$R/two:v1" 2>&1)
expect_eq "pull -q prints the full name only" "$R/two:v1" "$out"
expect_eq "a layer the store has is not requested (only config + new layer)" "$((n + 2))" \
	"$(blob_gets "$T/reg.log")"
if grep -q "GET /v2/two/blobs/$shared " "$T/reg.log"; then
	fail "shared layer not fetched again" "GET of $shared seen"
else pass "shared layer not fetched again"; fi
expect_eq "two layers" 2 "$(inspect "$R/two:v1" '.RootFS.Layers | length')"

if command -v script >/dev/null 2>&1; then
	out=$(VMM_ROOT="$T/rootp" script -qec "$VMM pull $R/two:v1" /dev/null 2>&1 | tr '\r' '\n')
	expect_match "progress on a terminal" "v1: Pulling from two" "$out"
	expect_match "per-layer lines" "[0-9a-f]{12}: Pull complete" "$out"
	VMM_ROOT="$T/rootp" "$VMM" rmi "$R/two:v1" >/dev/null 2>&1
	VMM_ROOT="$T/rootp" "$VMM" pull "$R/one:v1" >/dev/null 2>&1
	out=$(VMM_ROOT="$T/rootp" script -qec "$VMM pull $R/two:v1" /dev/null 2>&1 | tr '\r' '\n')
	expect_match "layers in the store: Already exists" "[0-9a-f]{12}: Already exists" "$out"
else
	skip "progress on a terminal" "no script(1)"
fi

# multi-arch: the index is stored (its digest is the image's), the amd64 manifest used
out=$("$VMM" pull "$R/multi:v1" 2>&1)
idx=$(reg_digest multi:v1)
amd=$(skopeo inspect --tls-verify=false --raw "docker://$R/multi:v1" |
	jq -r '.manifests[] | select(.platform.architecture == "amd64") | .digest')
expect_match "multi-arch: Digest is the index's" "^Digest: $idx$" "$out"
expect_eq "multi-arch: the amd64 manifest is chosen" "$amd" "$(inspect "$R/multi:v1" .Descriptor.digest)"
expect_eq "multi-arch: same image as one:v1" "$(inspect "$R/one:v1" .Id)" "$(inspect "$R/multi:v1" .Id)"
expect_match "multi-arch: RepoDigests name the index" "$R/multi@$idx" \
	"$("$VMM" image inspect "$R/multi:v1" | jq -r '.[0].RepoDigests[]')"
arm=$(skopeo inspect --tls-verify=false --raw "docker://$R/multi:v1" |
	jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest')
if [ -e "$VMM_ROOT/oci/blobs/sha256/${arm#sha256:}" ]; then
	fail "the arm64 manifest is not fetched" "found it in the store"
else pass "the arm64 manifest is not fetched"; fi

# by digest: kept as name@digest, listed untagged
R2="$T/root-digest"
out=$(VMM_ROOT="$R2" "$VMM" pull "$R/three@$(reg_digest three:v1)" 2>&1)
expect_match "pull by digest" "^Status: Downloaded newer image for $R/three@sha256:" "$out"
expect_match "pulled by digest: listed as <none>" "^$R/three +<none> " "$(VMM_ROOT="$R2" "$VMM" images)"
check "run-able by name@digest" env VMM_ROOT="$R2" "$VMM" image inspect "$R/three@$(reg_digest three:v1)"

# --- what is refused, each with one line and the store untouched ---
refused "unknown tag: image not found" "image not found: $R/one:nosuch" "$VMM" pull "$R/one:nosuch"
refused "unknown repository: image not found" "image not found: $R/nosuch" "$VMM" pull "$R/nosuch"
refused "unknown digest: image not found" "image not found" "$VMM" pull "$R/one@sha256:$(printf '%064d' 0)"
down=$(free_port)
refused "registry down" "cannot connect to registry 127.0.0.1:$down" "$VMM" pull "127.0.0.1:$down/x:1"
refused "arm64-only index refused" "no linux/amd64 image on the registry (it has linux/arm64)" \
	"$VMM" pull "$R/armonly:v1"
refused "arm64 image refused (its config says so)" "the image is for linux/arm64" "$VMM" pull "$R/arm:v1"
refused "invalid reference" "invalid reference format" "$VMM" pull "$R/Bad:1"
refused "--platform other than linux/amd64" "vmm runs linux/amd64 images only" \
	"$VMM" pull --platform linux/arm64 "$R/one:v1"
check "--platform linux/amd64 accepted" "$VMM" pull -q --platform linux/amd64 "$R/one:v1"

# a corrupt layer in the registry's storage: digest mismatch
layer=$(skopeo inspect --tls-verify=false "docker://$R/three:v1" | jq -r '.Layers[0]')
data="$T/data/docker/registry/v2/blobs/sha256/$(echo "${layer#sha256:}" | cut -c1-2)/${layer#sha256:}/data"
if [ -f "$data" ]; then
	b=$(od -An -tu1 -j100000 -N1 "$data" | tr -d ' ')
	# shellcheck disable=SC2059
	printf "\\$(printf %o $(( b ^ 1 )))" | dd of="$data" bs=1 seek=100000 conv=notrunc 2>/dev/null
	refused "corrupt layer: digest mismatch" "does not match its digest" "$VMM" pull "$R/three:v1"
	if ls "$VMM_ROOT/oci/blobs/sha256" | grep -q "^${layer#sha256:}$"; then
		fail "corrupt layer not stored" "it is in the store"
	else pass "corrupt layer not stored"; fi
else
	fail "corrupt layer: digest mismatch" "no blob file at $data"
fi

# --- auth: a second docker-registry on the same storage, behind htpasswd ---
make_htpasswd alice s3cret > "$T/htpasswd"
PA=$(free_port)
if start_registry tests/registry/config-auth.yml "$PA" "$T/reg-auth.log" "$T/htpasswd"; then
	A="127.0.0.1:$PA"
	refused "pull without credentials: login hint" "authentication required: run vmm login $A" \
		"$VMM" pull "$A/one:v1"
	refused "login with a wrong password" "refused the credentials of user alice" \
		sh -c "echo wrong | '$VMM' login -u alice --password-stdin $A"
	[ ! -e "$VMM_ROOT/auth.json" ] && pass "nothing saved after a failed login" ||
		fail "nothing saved after a failed login" "$(cat "$VMM_ROOT/auth.json")"
	out=$(echo s3cret | "$VMM" login -u alice --password-stdin "$A" 2>&1)
	expect_eq "login with the right password" "Login Succeeded" "$out"
	expect_eq "auth.json is 0600" "600" "$(stat -c %a "$VMM_ROOT/auth.json" 2>/dev/null)"
	expect_eq "auth.json in docker's format" "alice:s3cret" \
		"$(jq -r ".auths[\"$A\"].auth" "$VMM_ROOT/auth.json" | base64 -d)"
	out=$("$VMM" pull "$A/two:v1" 2>&1)
	expect_match "pull with credentials" "^Status: .* for $A/two:v1$" "$out"
	expect_eq "logout" "Removing login credentials for $A" "$("$VMM" logout "$A" 2>&1)"
	refused "pull after logout: login hint" "run vmm login $A" "$VMM" pull "$A/one:v1"
	expect_eq "logout again" "Not logged in to $A" "$("$VMM" logout "$A" 2>&1)"
	mkdir -p "$T/dockercfg"
	printf '{"auths":{"http://%s/":{"auth":"%s"}}}' "$A" "$(printf alice:s3cret | base64)" \
		> "$T/dockercfg/config.json"
	out=$(DOCKER_CONFIG="$T/dockercfg" "$VMM" pull -q "$A/one:v1" 2>&1)
	expect_eq "credentials from docker's config.json" "$A/one:v1" "$out"
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$A" "$(printf alice:nope | base64)" > "$T/bad.json"
	refused "wrong saved credentials: hint names the file" "$T/bad.json" \
		"$VMM" pull --authfile "$T/bad.json" "$A/one:v1"
else
	fail "docker-registry with htpasswd starts" "$(tail -3 "$T/reg-auth.log")"
fi

# --- misbehaving registries (tests/registry/fake_registry.py serving the layout $L, whose
#     tags are one, two, three, multi...; any repository name) ---
export VMM_ROOT="$T/rootf"
start_fake bearer "$L" --bearer bob:pw --redirect
out=$(echo pw | "$VMM" login -u bob --password-stdin "$FAKE" 2>&1)
expect_eq "login to a bearer-token registry" "Login Succeeded" "$out"
out=$("$VMM" pull -q "$FAKE/x:three" 2>&1)
expect_eq "bearer token from the realm, blobs redirected to another origin" "$FAKE/x:three" "$out"
expect_match "blobs came from storage" "GET /storage/sha256:" "$(cat "$FAKELOG")"
expect_eq "the token went to the registry, never to storage" "0" \
	"$(grep "^GET /storage/" "$FAKELOG" | grep -c "auth=yes")"
expect_match "the registry got the token" "GET /v2/x/manifests/three host=[^ ]* auth=yes" "$(cat "$FAKELOG")"
"$VMM" logout "$FAKE" >/dev/null 2>&1
refused "bearer registry without credentials: login hint" "authentication required: run vmm login $FAKE" \
	"$VMM" pull "$FAKE/x:two"
refused "bearer registry, wrong password" "refused the credentials of user bob" \
	sh -c "echo nope | '$VMM' login -u bob --password-stdin $FAKE"

start_fake anon "$L" --bearer anon
check "anonymous bearer token" "$VMM" pull -q "$FAKE/x:one"

# Another image's layer, already in the store, does not pass for this config's layer.
fresh_root forged
start_fake forged "$L"
check "pull three: its layer is in the store now" "$VMM" pull -q "$FAKE/x:three"
refused "a manifest pairing a config with another image's stored layer" "uncompressed content has digest" \
	"$VMM" pull "$FAKE/x:forged"

fresh_root trunc
start_fake trunc "$L" --mode truncate
refused "connection cut mid-layer" "broke off" "$VMM" pull "$FAKE/x:three"
fresh_root e500
start_fake e500 "$L" --mode error500
refused "HTTP 500" "failed with HTTP 500" "$VMM" pull "$FAKE/x:three"
fresh_root big
start_fake big "$L" --mode oversize
refused "blob larger than its descriptor" "larger than" "$VMM" pull "$FAKE/x:three"
fresh_root huge
start_fake huge "$L" --mode huge-manifest
refused "manifest over 4 MiB" "larger than" "$VMM" pull "$FAKE/x:three"
fresh_root dh
start_fake dh "$L" --mode bad-digest-header
refused "Docker-Content-Digest mismatch" "the registry says sha256:0000" "$VMM" pull "$FAKE/x:three"
fresh_root stall
start_fake stall "$L" --mode stall
refused "stalled transfer times out" "timed out" env VMM_PULL_STALL_TIMEOUT=2 "$VMM" pull "$FAKE/x:three"

# unsupported documents: a helm chart and a schema 1 manifest
H="$T/helm"
mkdir -p "$H/blobs/sha256"
put_blob() {	# FILE: move into $H/blobs, print its digest
	d=$(digest_of "$1")
	mv "$1" "$H/blobs/sha256/${d#sha256:}"
	echo "$d"
}
printf '{"name":"chart"}' > "$H/c"
c=$(put_blob "$H/c")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"%s","size":16},"layers":[]}' "$c" > "$H/m"
m=$(put_blob "$H/m")
printf '{"schemaVersion":1,"name":"x","tag":"old","fsLayers":[],"history":[]}' > "$H/s1"
s1=$(put_blob "$H/s1")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"chart"}},{"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws","digest":"%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"old"}}]}' \
	"$m" "$(wc -c < "$H/blobs/sha256/${m#sha256:}")" "$s1" "$(wc -c < "$H/blobs/sha256/${s1#sha256:}")" > "$H/index.json"
start_fake helm "$H"
refused "helm chart: unsupported" "unsupported config media type" "$VMM" pull "$FAKE/x:chart"
refused "schema 1: unsupported" "schema 1" "$VMM" pull "$FAKE/x:old"

# TLS: a registry that is not on loopback (0.0.0.0 reaches this host but is not 127/8)
# must speak verified https unless --tls-verify=false
refused "plain http off loopback needs --tls-verify=false" "use --tls-verify=false" \
	"$VMM" pull "0.0.0.0:$P/one:v1"
out=$("$VMM" pull -q --tls-verify=false "0.0.0.0:$P/one:v1" 2>&1)
expect_eq "--tls-verify=false allows plain http" "0.0.0.0:$P/one:v1" "$out"

# https: the same storage served with a self-signed certificate
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
	-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1; then
	PT=$(free_port)
	if start_registry tests/registry/config.yml "$PT" "$T/reg-tls.log" tls; then
		fresh_root tls
		out=$("$VMM" pull -q "127.0.0.1:$PT/one:v1" 2>&1)
		expect_eq "https registry on loopback: certificate not required" "127.0.0.1:$PT/one:v1" "$out"
		refused "self-signed certificate off loopback refused" "self-signed certificate" \
			"$VMM" pull "0.0.0.0:$PT/two:v1"
		out=$("$VMM" pull -q --tls-verify=false "0.0.0.0:$PT/two:v1" 2>&1)
		expect_eq "--tls-verify=false accepts it" "0.0.0.0:$PT/two:v1" "$out"
		expect_match "and it went over TLS" '"GET /v2/two/manifests/v1 HTTP/[0-9.]+" 200' "$(cat "$T/reg-tls.log")"
	else
		fail "docker-registry with TLS starts" "$(tail -3 "$T/reg-tls.log")"
	fi
else
	skip "https registry" "openssl cannot make a certificate"
fi
