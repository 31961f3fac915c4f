#!/bin/sh
# Registry credentials through the Engine API, host side only (no guest boots): the docker
# CLI, docker-py and curl pull and push through vmm system service from Debian's
# docker-registry behind htpasswd on loopback. The client's X-Registry-Auth is what counts
# (as with dockerd); POST /auth (docker login) checks credentials against the registry.
. tests/integration/lib.sh

for tool in docker-registry docker jq curl python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip "api auth" "$tool not installed (scripts/install-deps.sh)"
		exit 0
	fi
done

export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run" HOME="$T/home" DOCKER_CONFIG="$T/dockercfg"
unset XDG_CONFIG_HOME REGISTRY_AUTH_FILE
mkdir -p "$HOME" "$DOCKER_CONFIG"
svc=""
cleanup_hook() { [ -n "$svc" ] && kill "$svc" 2>/dev/null; registry_stop; }
# succeeded NAME RC OUT / failed NAME RC OUT: the exit status of a command whose output is OUT
succeeded() { if [ "$2" -eq 0 ]; then pass "$1"; else fail "$1" "exit $2: $(echo "$3" | tail -2 | tr '\n' ' ')"; fi; }
failed() { if [ "$2" -ne 0 ]; then pass "$1"; else fail "$1" "exit 0: $(echo "$3" | tail -2 | tr '\n' ' ')"; fi; }

if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	fail "api auth: busybox image" "$(tail -2 "$T/img.log")"
	exit 0
fi
make_htpasswd alice s3cret > "$T/htpasswd"
PA=$(free_port)
if ! start_registry tests/registry/config-auth.yml "$PA" "$T/reg.log" "$T/htpasswd"; then
	fail "docker-registry with htpasswd starts" "$(tail -3 "$T/reg.log")"
	exit 0
fi
A="127.0.0.1:$PA"

# The registry's content, pushed by vmm with vmm login's credentials ($VMM_ROOT/auth.json).
out=$(echo s3cret | "$VMM" login -u alice --password-stdin "$A" 2>&1)
expect_eq "vmm login to the registry" "Login Succeeded" "$out"
"$VMM" tag busybox "$A/busybox:v1"
out=$("$VMM" push "$A/busybox:v1" 2>&1)
succeeded "vmm push seeds the registry" $? "$out"
"$VMM" rmi "$A/busybox:v1" >/dev/null

SOCK="$T/docker.sock"
"$VMM" system service --listen "unix://$SOCK" >"$T/svc.out" 2>"$T/svc.err" &
svc=$!
i=0
while ! grep -q '^DOCKER_HOST=' "$T/svc.out" 2>/dev/null; do
	if ! kill -0 "$svc" 2>/dev/null || [ $i -ge 300 ]; then
		fail "system service starts" "$(cat "$T/svc.err")"
		exit 0
	fi
	i=$((i + 1)); sleep 0.1
done
export DOCKER_HOST="unix://$SOCK"
# api [curl args] URL-PATH: the reply body and the status on one line
api() { curl -s --unix-socket "$SOCK" -w ' %{http_code}' "$@" | tr -d '\n'; }
b64url() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_'; }
pull="http://d/v1.41/images/create?fromImage=$A/busybox&tag=v1"

# --- the header, with curl
out=$(api -X POST "$pull")
expect_match "no X-Registry-Auth: anonymous, refused with docker login's hint" \
	"authentication required: run docker login $A.* 500$" "$out"
out=$(api -X POST -H "X-Registry-Auth: $(b64url '{}')" "$pull")
expect_match "X-Registry-Auth {}: anonymous" "authentication required.* 500$" "$out"
expect_eq "vmm login's credentials are not used by the service (dockerd reads none either)" "" \
	"$("$VMM" images -q "$A/busybox:v1")"
out=$(api -X POST -H 'X-Registry-Auth: !!!!' "$pull")
expect_match "X-Registry-Auth not base64: 400 in docker's form" '^\{"message":"X-Registry-Auth: not base64.* 400$' "$out"
out=$(api -X POST -H "X-Registry-Auth: $(b64url '{"username":"alice","password":7}')" "$pull")
expect_match "X-Registry-Auth with a number for a password: 400 naming it" \
	'"message":"X-Registry-Auth.password: want a string.* 400$' "$out"
head -c 70000 /dev/zero | tr '\0' A > "$T/big"
out=$(api -X POST -H "X-Registry-Auth: $(cat "$T/big")" "$pull")
expect_match "an X-Registry-Auth over 64 KiB: refused" ' 4[0-9][0-9]$' "$out"
out=$(api -X POST -H "X-Registry-Auth: $(b64url '{"username":"alice","password":"wr0ng-pw"}')" "$pull")
expect_match "a wrong password: refused, naming the user" "refused the credentials of user alice.* 500$" "$out"
case $out in *wr0ng-pw*) fail "the reply never holds the password" "$out" ;;
	*) pass "the reply never holds the password" ;; esac
auth=$(b64url '{"username":"alice","password":"s3cret","email":"a@b","serveraddress":"'"$A"'","x":{}}' | tr -d =)
out=$(api -X POST -H "X-Registry-Auth: $auth" "$pull")
expect_match "the right credentials, url-safe base64 without padding: pulled" \
	"Status: Downloaded newer image for $A.*busybox:v1.* 200$" "$out"
expect_eq "vmm images lists the pulled image (the same store)" "$A/busybox:v1" \
	"$("$VMM" images --format '{{.Repository}}:{{.Tag}}' "$A/busybox:v1")"
"$VMM" rmi "$A/busybox:v1" >/dev/null

# --- docker login (POST /auth), docker pull and docker push
out=$(echo wrong | docker login -u alice --password-stdin "$A" 2>&1)
failed "docker login with a wrong password fails" $? "$out"
expect_match "... naming the refusal" "refused the credentials of user alice" "$out"
expect_eq "... and the CLI saves nothing" "null" "$(jq -r ".auths[\"$A\"]" "$DOCKER_CONFIG/config.json" 2>/dev/null || echo null)"
out=$(docker pull "$A/busybox:v1" 2>&1)
failed "docker pull without a login fails" $? "$out"
expect_match "... with docker login's hint" "authentication required: run docker login $A" "$out"
out=$(echo s3cret | docker login -u alice --password-stdin "$A" 2>&1)
expect_match "docker login through the service" "Login Succeeded" "$out"
expect_eq "... the CLI saved the credentials in its config" "alice:s3cret" \
	"$(jq -r ".auths[\"$A\"].auth" "$DOCKER_CONFIG/config.json" | base64 -d)"
out=$(docker pull "$A/busybox:v1" 2>&1)
succeeded "docker pull with the CLI's credentials" $? "$out"
expect_eq "vmm images lists it" "$A/busybox:v1" \
	"$("$VMM" images --format '{{.Repository}}:{{.Tag}}' "$A/busybox:v1")"
docker tag "$A/busybox:v1" "$A/copy:v2"
out=$(docker push "$A/copy:v2" 2>&1)
succeeded "docker push with the CLI's credentials" $? "$out"
expect_eq "... the registry has the pushed tag" "v2" \
	"$(curl -s -u alice:s3cret "http://$A/v2/copy/tags/list" | jq -r '.tags[]')"
mkdir -p "$T/badcfg"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$A" "$(printf alice:n0pe-pw | base64)" > "$T/badcfg/config.json"
out=$(DOCKER_CONFIG="$T/badcfg" docker push "$A/copy:v2" 2>&1)
failed "docker push with a wrong saved password fails" $? "$out"
expect_match "... naming the refusal" "refused the credentials of user alice" "$out"
out=$(DOCKER_CONFIG="$T/home" docker push "$A/copy:v2" 2>&1)
failed "docker push without credentials fails" $? "$out"
expect_match "... with docker login's hint" "authentication required: run docker login $A" "$out"

# --- docker-py: auth_config on the call
"$VMM" rmi "$A/busybox:v1" >/dev/null
if python3 -c 'import docker' 2>/dev/null; then
	out=$(python3 - "$A" <<'PY' 2>&1
import os, sys, docker
c = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], version="1.41")
try:
    c.images.pull(sys.argv[1] + "/busybox", tag="v1", auth_config={"username": "alice", "password": "bad"})
    print("pulled with a bad password")
except docker.errors.APIError as e:
    print("refused" if "refused the credentials" in str(e) else "other: " + str(e))
img = c.images.pull(sys.argv[1] + "/busybox", tag="v1", auth_config={"username": "alice", "password": "s3cret"})
print("pulled" if sys.argv[1] + "/busybox:v1" in img.tags else "tags: " + " ".join(img.tags))
PY
)
	expect_eq "docker-py: a bad password refused, the right one pulls" "refused
pulled" "$out"
else
	skip "docker-py" "python3-docker not installed"
fi

for f in svc.out svc.err; do
	if grep -q 's3cret\|wr0ng-pw\|n0pe-pw' "$T/$f"; then fail "no password in the service's $f" "$(grep -m1 's3cret\|wr0ng-pw\|n0pe-pw' "$T/$f")"
	else pass "no password in the service's $f"; fi
done
kill "$svc" 2>/dev/null
wait "$svc" 2>/dev/null
svc=""
