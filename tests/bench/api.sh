#!/bin/sh
# The Docker Engine API's cost over the CLI, in the same run, as whole-process wall times
# (median of RUNS):
#  - `docker ps -a` with 20 containers through `vmm system service` vs `vmm ps -a`, and the
#    same list fetched with curl (the service without the docker CLI's own start-up);
#  - `docker images` vs `vmm images`;
#  - with KVM: `docker run --rm busybox true` through the API vs `vmm run --rm busybox true`
#    (the target: the API adds under 5 %).
set -u
BUILD=${1:-build}
RUNS=${RUNS:-11}
VMM=$PWD/$BUILD/vmm
T=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill $pid; rm -rf "$T"' EXIT
export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run" DOCKER_CONFIG="$T/docker-config"
if ! command -v docker >/dev/null; then
	echo "api bench: skipped: no docker CLI (scripts/install-deps.sh installs docker.io)"
	exit 0
fi
scripts/build-busybox-image.sh "$VMM" >/dev/null
"$VMM" system service --listen "unix://$T/d.sock" >"$T/out" 2>&1 &
pid=$!
i=0
while ! grep -q DOCKER_HOST "$T/out" && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
export DOCKER_HOST="unix://$T/d.sock"

. tests/bench/lib.sh

for n in $(seq 20); do "$VMM" create --name "c$n" busybox true >/dev/null; done
compare "docker ps -a (API, 20 containers)" "vmm ps -a" "$(median docker ps -a)" "$(median "$VMM" ps -a)"
# the same list without the docker CLI's own start-up: what the service itself takes
compare "curl GET /containers/json?all=1" "vmm ps -a" \
	"$(median curl -s --unix-socket "$T/d.sock" 'http://d/v1.41/containers/json?all=1')" "$(median "$VMM" ps -a)"
compare "docker images (API)" "vmm images" "$(median docker images)" "$(median "$VMM" images)"
compare "docker inspect c1 (API)" "vmm inspect c1" "$(median docker inspect c1)" "$(median "$VMM" inspect c1)"

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	"$VMM" run --rm busybox true >/dev/null 2>&1	# the warm-start snapshot
	compare "docker run --rm busybox true (API)" "vmm run --rm busybox true" \
		"$(median docker run --rm busybox true)" "$(median "$VMM" run --rm busybox true)"
else
	echo "docker run vs vmm run: skipped: /dev/kvm not accessible on this host"
fi
