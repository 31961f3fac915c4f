#!/bin/sh
# vmm volume: create, ls, inspect, rm, prune, and bad input, as docker volume
# behaves. Host-side only (the volumes' use by containers is in the run tests).
. tests/integration/lib.sh

export VMM_ROOT="$T/root"
v() { "$VMM" "$@"; }

expect_eq "create prints the name" "data1" "$(v volume create data1)"
expect_eq "create of an existing name gives it back" "data1" "$(v volume create data1)"
check "the volume is a folder in the store" test -d "$VMM_ROOT/volumes/data1/_data"
expect_eq "its metadata is private" "600" "$(stat -c %a "$VMM_ROOT/volumes/data1/volume.json")"
v volume create --label tier=db --label owner=ci data2 >/dev/null
anon=$(v volume create)
expect_match "create without a name: a random 64-hex name" "^[0-9a-f]{64}$" "$anon"

# Sorted by name: the random name may come before or after data1 and data2.
sorted=$(printf '%s\n' "$anon" data1 data2 | LC_ALL=C sort)
expect_eq "ls: docker's table" "DRIVER    VOLUME NAME
$(echo "$sorted" | sed 's/^/local     /')" "$(v volume ls)"
expect_eq "ls -q" "$(echo "$sorted" | tr '\n' ' ' | sed 's/ $//')" "$(v volume ls -q | tr '\n' ' ' | sed 's/ $//')"
expect_eq "ls -f label=tier=db" "data2" "$(v volume ls -q -f label=tier=db)"
expect_eq "ls -f label=owner" "data2" "$(v volume ls -q -f label=owner)"
expect_eq "ls -f name=ta1" "data1" "$(v volume ls -q -f name=ta1)"
expect_eq "ls -f dangling=true (nothing mounts them)" "3" "$(v volume ls -q -f dangling=true | wc -l)"
expect_eq "ls --format" "local:data1" "$(v volume ls -f name=data1 --format '{{.Driver}}:{{.Name}}')"
expect_eq "ls --format table: the header follows the template" "VOLUME NAME   DRIVER
data2         local" "$(v volume ls -f name=data2 --format 'table {{.Name}}\t{{.Driver}}')"

inspect=$(v volume inspect data2)
expect_eq "inspect: a JSON array with docker's fields" "data2 local local $VMM_ROOT/volumes/data2/_data db" \
	"$(echo "$inspect" | jq -r '.[0] | "\(.Name) \(.Driver) \(.Scope) \(.Mountpoint) \(.Labels.tier)"')"
expect_match "inspect: CreatedAt in RFC 3339" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$" \
	"$(echo "$inspect" | jq -r '.[0].CreatedAt')"
expect_eq "inspect -f" "$VMM_ROOT/volumes/data1/_data" "$(v volume inspect -f '{{.Mountpoint}}' data1)"
expect_eq "inspect of two" "2" "$(v volume inspect data1 data2 | jq length)"

# Data survives until the volume goes; rm takes the folder with it and no link is followed.
echo kept > "$VMM_ROOT/volumes/data1/_data/file"
mkdir -p "$T/outside" && echo precious > "$T/outside/keep"
ln -s "$T/outside" "$VMM_ROOT/volumes/data1/_data/link"
expect_eq "rm prints the name" "data1" "$(v volume rm data1)"
check "rm removed the folder" test ! -e "$VMM_ROOT/volumes/data1"
expect_eq "rm did not follow a link out of the volume" "precious" "$(cat "$T/outside/keep")"

out=$(v volume rm nosuch 2>&1); rc=$?
expect_eq "rm of a missing volume: one line, exit 125" "125 vmm: error: no such volume: nosuch" "$rc $out"
out=$(v volume rm -f nosuch 2>&1); rc=$?
expect_eq "rm -f of a missing volume is no error" "0 " "$rc $out"

out=$(echo n | v volume prune 2>/dev/null)
expect_eq "prune asks first (answer no: nothing removed)" "2" "$(v volume ls -q | wc -l)"
out=$(v volume prune -f)
expect_eq "prune -f: only the anonymous volume" "Deleted Volumes:
$anon

Total reclaimed space: 0B" "$out"
expect_eq "prune kept the named one" "data2" "$(v volume ls -q)"
echo 12345678 > "$VMM_ROOT/volumes/data2/_data/f"
out=$(v volume prune -f -a | tail -1)
expect_eq "prune -a: named volumes too, with the space reclaimed" "Total reclaimed space: 4.1kB" "$out"

bad() {	# NAME WANT ARGS...
	name=$1; want=$2; shift 2
	out=$(v volume "$@" 2>&1); rc=$?
	expect_eq "bad input: $name" "$want" "$rc $out"
}
before=$(ls "$VMM_ROOT/volumes" | wc -l)
bad "a relative path as a name" "125 vmm: error: './x' is not a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 64)" create ./x
bad "a driver option other than size" "125 vmm: error: volume option 'type=tmpfs' is not supported: size=SIZE is the one there is (vmm's volumes are host folders, see docs/volumes.md)" create --opt type=tmpfs v3
bad "a size too small" "125 vmm: error: volume option 'size=1k': want a size from 16m to 16t (e.g. 1g)" create --opt size=1k v3
bad "another driver" "125 vmm: error: driver 'nfs' is not supported (only local) (see 'vmm volume --help')" create -d nfs v3
bad "an unknown filter" "125 vmm: error: invalid filter 'color=red' (dangling=, name= or label=) (see 'vmm volume --help')" ls -f color=red
bad "a bad template" "125 vmm: error: template: function \"nosuch\" not defined" ls --format '{{nosuch .Name}}'
bad "inspect of a missing volume" "125 vmm: error: no such volume: gone" inspect gone
expect_eq "bad input: nothing created" "$before" "$(ls "$VMM_ROOT/volumes" | wc -l)"
# --opt size: an ext4 disk of that size behind _data (mounted when a container uses it: 62-volumes)
expect_eq "create --opt size=16m: inspect shows the option" 'sized {"size":"16m"}' \
	"$(v volume create --opt size=16m sized) $(v volume inspect -f '{{json .Options}}' sized)"
expect_eq "create --opt size=16m: a sparse 16 MiB disk beside _data" "16777216" \
	"$(stat -c %s "$VMM_ROOT/volumes/sized/disk.img" 2>&1)"
check "create --opt size: the disk is no more than its metadata on the host" \
	test "$(du -k "$VMM_ROOT/volumes/sized/disk.img" | cut -f1)" -lt 4096
v volume rm sized >/dev/null
check "rm: the sized volume is gone" test ! -e "$VMM_ROOT/volumes/sized"
v volume create fmt1 >/dev/null
bad "an unknown field: a row is a struct in docker" \
	"125 vmm: error: template: executing at <.Nope>: can't evaluate field Nope" ls --format '{{.Nope}}'
expect_eq "ls --format json: a JSON object a line, as ps and images" "fmt1 local" \
	"$(v volume ls -f name=fmt1 --format json | jq -r '.Name + " " + .Driver')"
v volume rm fmt1 >/dev/null
