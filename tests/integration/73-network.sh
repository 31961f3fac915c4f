#!/bin/sh
# vmm network: create, ls, inspect, rm, prune and bad input, as docker network
# behaves. Host-side only: containers joining networks are in the run tests.
. tests/integration/lib.sh

export VMM_ROOT="$T/root"
v() { "$VMM" "$@"; }

id=$(v network create web)
expect_match "create prints a 64-hex ID" "^[0-9a-f]{64}$" "$id"
v network create --subnet 10.1.0.0/16 --gateway 10.1.0.254 --internal --label tier=db db >/dev/null
v network create --subnet 10.0.2.0/24 same-as-bridge >/dev/null
expect_eq "ls: the predefined networks first, then by name" "bridge none db same-as-bridge web" \
	"$(v network ls --format '{{.Name}}' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "ls: docker's table" "NETWORK ID     NAME      DRIVER    SCOPE
$(echo "$id" | cut -c1-12)   web       bridge    local" "$(v network ls -f name=web)"
expect_eq "ls -q -f label=tier=db" "$(v network inspect -f '{{truncate .Id 12}}' db)" "$(v network ls -q -f label=tier=db)"
expect_eq "ls -f type=custom" "db same-as-bridge web" "$(v network ls -f type=custom --format '{{.Name}}' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "inspect: subnet, gateway, internal" "10.1.0.0/16 10.1.0.254 true" \
	"$(v network inspect db | jq -r '.[0] | "\(.IPAM.Config[0].Subnet) \(.IPAM.Config[0].Gateway) \(.Internal)"')"
expect_eq "inspect: an automatic subnet and gateway" "10.89.1.0/24 10.89.1.1" \
	"$(v network inspect -f '{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}' web)"
expect_eq "inspect by ID prefix" "web" "$(v network inspect -f '{{.Name}}' "$(echo "$id" | cut -c1-10)")"
expect_eq "the next automatic subnet" "10.89.2.0/24" \
	"$(v network create auto2 >/dev/null; v network inspect -f '{{(index .IPAM.Config 0).Subnet}}' auto2)"
expect_eq "the definition is private" "600" "$(stat -c %a "$VMM_ROOT/networks/web.json")"

bad() {	# NAME WANT ARGS...
	name=$1; want=$2; shift 2
	out=$(v network "$@" 2>&1); rc=$?
	expect_eq "bad input: $name" "$want" "$rc $out"
}
before=$(ls "$VMM_ROOT/networks" | sort | tr '\n' ' ')
bad "an overlapping subnet" "125 vmm: error: invalid pool request: Pool overlaps with other one on this address space (network db)" create --subnet 10.1.2.0/24 x
bad "host bits in the subnet" "125 vmm: error: invalid subnet 10.7.2.3/24: it should be 10.7.2.0/24" create --subnet 10.7.2.3/24 x
bad "not a CIDR" "125 vmm: error: invalid subnet 10.7.2.0: use an IPv4 CIDR such as 10.89.1.0/24 (prefix 8 to 30)" create --subnet 10.7.2.0 x
bad "not an address" "125 vmm: error: invalid subnet 10.7.300.0/24: '10.7.300.0' is not an IPv4 address" create --subnet 10.7.300.0/24 x
bad "a gateway outside the subnet" "125 vmm: error: no matching subnet for gateway 10.4.0.1" create --subnet 10.3.0.0/24 --gateway 10.4.0.1 x
bad "a name taken" "125 vmm: error: network with name web already exists" create web
bad "a predefined name" "125 vmm: error: network with name bridge already exists" create bridge
bad "a bad name" "125 vmm: error: invalid network name 'a/b': use up to 64 of a-z A-Z 0-9 _ . -" create a/b
bad "another driver" "125 vmm: error: driver 'macvlan' is not supported (bridge) (see 'vmm network --help')" create -d macvlan x
bad "an unknown network" "125 vmm: error: network nosuch not found" inspect nosuch
bad "removing bridge" "125 vmm: error: bridge is a pre-defined network and cannot be removed" rm bridge
bad "an unknown filter" "125 vmm: error: invalid filter 'color=red' (name=, id=, label=, driver= or type=) (see 'vmm network --help')" ls -f color=red
bad "an unknown field: a row is a struct in docker" \
	"125 vmm: error: template: executing at <.Nope>: can't evaluate field Nope" ls --format '{{.Nope}}'
expect_eq "ls --format json: a JSON object a line, as ps and images" "web bridge" \
	"$(v network ls -f name=web --format json | jq -r '.Name + " " + .Driver')"
expect_eq "ls --format: docker's .ID, 12 hex" "$(echo "$id" | cut -c1-12)" "$(v network ls -f name=web --format '{{.ID}}')"
expect_eq "bad input: nothing created" "$before" "$(ls "$VMM_ROOT/networks" | sort | tr '\n' ' ')"

expect_eq "rm prints the name" "db" "$(v network rm db)"
expect_eq "prune -f removes the rest of the custom networks" "Deleted Networks:
auto2
same-as-bridge
web" "$(v network prune -f)"
expect_eq "the predefined networks stay" "bridge none" "$(v network ls --format '{{.Name}}' | tr '\n' ' ' | sed 's/ $//')"
