#!/bin/sh
# Container networks on real guests (docs/network.md): containers of one network reach each other
# by name, alias, short ID and address; a name follows its container to a new address; another
# network cannot reach them; an internal network has no way out; -p works from a network; a
# container on two networks reaches both; a running one joins and leaves a network; bad input is
# refused before anything exists; nothing is left in the runtime folder at the end.
. tests/integration/lib.sh

# the bad input needs no guest: the store and the image only
export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	fail "lan: busybox image" "$(tail -2 "$T/img.log")"
	exit 0
fi
cleanup_hook() {
	for id in $("$VMM" ps -aq 2>/dev/null); do "$VMM" rm -f "$id" >/dev/null 2>&1; done
	true
}
containers_left() { ls "$VMM_ROOT/containers" 2>/dev/null | grep -v '^\.' | wc -l; }
ip_of() { "$VMM" inspect -f '{{.NetworkSettings.IPAddress}}' "$1" 2>&1; }

v network create --subnet 10.89.7.0/24 webnet >/dev/null &&
	v network create --subnet 10.89.8.0/24 othernet >/dev/null &&
	v network create --subnet 10.89.9.0/24 --internal intnet >/dev/null ||
	fail "lan: networks created" "vmm network create failed"

# --- bad input: refused before anything exists (no boot) ---------------------
out=$("$VMM" run -d --network webnet --ip 10.89.8.5 busybox true 2>&1); rc=$?
expect_eq "--ip outside the network's subnet: exit 125, one line naming both" \
	"125 vmm: error: --ip 10.89.8.5: not a host address of network webnet (10.89.7.0/24, gateway excluded)" "$rc $out"
out=$("$VMM" run -d --network webnet --ip 10.89.7.1 busybox true 2>&1); rc=$?
expect_match "--ip of the gateway refused" "^125 .*--ip 10\\.89\\.7\\.1: not a host address" "$rc $out"
out=$("$VMM" run -d --network-alias db busybox true 2>&1); rc=$?
expect_match "--network-alias on the default network refused" \
	"^125 vmm: error: --network-alias: only for a container on a network" "$rc $out"
out=$("$VMM" run -d --network intnet -p 8080:80 busybox true 2>&1); rc=$?
expect_match "-p on an internal network refused" "^125 vmm: error: -p: network intnet is internal" "$rc $out"
out=$("$VMM" run -d --network webnet --gateway 10.89.7.9 busybox true 2>&1); rc=$?
expect_match "--gateway on a network refused" "^125 .*network webnet has its own gateway" "$rc $out"
out=$("$VMM" run -d --network webnet --network slirp busybox true 2>&1); rc=$?
expect_eq "a user network and the default one: refused, one line" \
	"125 vmm: error: --network slirp after --network webnet: a container on several networks is on networks of 'vmm network create' only (see 'vmm run --help')" "$rc $out"
out=$("$VMM" run -d --network webnet --network nosuchnet busybox true 2>&1); rc=$?
expect_match "a second network that does not exist: refused, named" "^125 vmm: error: .*nosuchnet" "$rc $out"
out=$("$VMM" run -d --network webnet --network-alias 'bad name' busybox true 2>&1); rc=$?
expect_match "a bad alias refused" "^125 vmm: error: --network-alias bad name: not a host name" "$rc $out"
expect_eq "bad input: no container left behind" 0 "$(containers_left)"
cid=$("$VMM" create --name made --network webnet --network-alias db --ip 10.89.7.50 busybox true 2>&1)
expect_eq "create on a network: its aliases in inspect (short ID first), no address until it runs" \
	"[$(echo "$cid" | cut -c1-12) db] ||" \
	"$("$VMM" inspect -f '{{.NetworkSettings.Networks.webnet.Aliases}} |{{.NetworkSettings.IPAddress}}|' made 2>&1)"
expect_eq "... and the address it asked for, kept for its start" "10.89.7.50/24" \
	"$(jq -r .HostConfig.IPAddress "$VMM_ROOT/containers/$cid/config.json" 2>&1)"
"$VMM" rm made >/dev/null 2>&1
out=$("$VMM" network connect --ip 10.89.9.300 intnet nosuch 2>&1); rc=$?
expect_match "network connect of no container" "^125 vmm: error: .*nosuch" "$rc $out"

guest_suite "lan"

# --- a server and a client on one network ------------------------------------
HP=$(free_port)
v run -d --name catserver --network webnet --network-alias cats -p "127.0.0.1:$HP:80" busybox \
	sh -c 'mkdir -p /w && hostname > /w/index.html && exec httpd -f -p 80 -h /w' >"$T/srv" 2>"$T/err"
expect_eq "server on webnet starts" "0" "$?"
srv=$(cut -c1-12 "$T/srv")
expect_eq "the first free address, the gateway's excluded" "10.89.7.2" "$(ip_of catserver)"
expect_eq "inspect: the network, its gateway and the alias" "10.89.7.2 10.89.7.1 [$srv cats]" \
	"$("$VMM" inspect -f '{{.NetworkSettings.Networks.webnet.IPAddress}} {{.NetworkSettings.Networks.webnet.Gateway}} {{.NetworkSettings.Networks.webnet.Aliases}}' catserver 2>&1)"
if wait_http "http://127.0.0.1:$HP/" 120; then pass "-p from a network: the host reaches the server"; else
	fail "-p from a network: the host reaches the server" "no answer on $HP: $(cat "$T/err")"; fi
out=$("$VMM" run -d --network webnet --link nosuch busybox true 2>&1); rc=$?
expect_match "--link to no container: refused" "^125 vmm: error: --link nosuch: .*nosuch" "$rc $out"
v run -d --name client --network webnet --link catserver:kitty busybox sleep 3600 >/dev/null 2>"$T/err"
expect_eq "client on webnet starts" "0" "$?"
expect_eq "the next address" "10.89.7.3" "$(ip_of client)"
expect_match "--link: the alias names the linked container for the linking one's DNS" \
	"Address.*10\\.89\\.7\\.2" "$(v exec client nslookup kitty 2>&1)"
expect_match "... not in /etc/hosts, where it would stay when the container moves" "^0$" \
	"$(v exec client grep -c kitty /etc/hosts 2>&1)"
out=$("$VMM" network inspect webnet 2>&1)
expect_match "network inspect: its running containers, with their addresses" \
	"\"Name\": ?\"catserver\".*\"IPv4Address\": ?\"10\\.89\\.7\\.2.?/24\"" "$(echo "$out" | tr -d '\n')"
# the page is the server's host name, its short ID: never empty, so a failed fetch cannot match it
expect_eq "-p from a network: the page is the server's" "$srv" "$(curl -s -m 10 "http://127.0.0.1:$HP/")"
for name in catserver cats "$srv" 10.89.7.2; do
	expect_eq "client reaches the server as $name" "$srv" \
		"$(v exec client timeout 60 wget -qO- "http://$name/" 2>&1)"
done
out=$(v exec client sh -c 'cat /etc/resolv.conf; ip route' 2>&1)
expect_match "the client asks the gateway for names" "nameserver 10\\.89\\.7\\.1" "$out"
expect_match "... and routes through it" "default via 10\\.89\\.7\\.1" "$out"
# not ours: forwarded to the host's resolvers, which say NXDOMAIN (or, on a host without any, nothing)
out=$(v exec client nslookup nosuchname.invalid 10.89.7.1 2>&1)
expect_match "an unknown name is not the network's" "can't find|NXDOMAIN|server can't|timed out" "$out"

out=$("$VMM" network rm webnet 2>&1); rc=$?
expect_match "network rm of a network in use: refused, naming its containers" \
	"^125 .*network webnet id [0-9a-f]{12} has active endpoints \\(.*name:\"catserver\" id:\"[0-9a-f]{12}\"" "$rc $out"

# --- a name follows its container to a new address -----------------------------
v stop -t 1 catserver >/dev/null 2>&1
v run -d --name squatter --network webnet --ip 10.89.7.2 busybox sleep 3600 >/dev/null 2>"$T/err"
expect_eq "--ip on a network: the address asked for" "10.89.7.2" "$(ip_of squatter)"
out=$("$VMM" run -d --network webnet --ip 10.89.7.2 busybox true 2>&1); rc=$?
expect_match "--ip already in use: refused" "the address is already in use on network webnet" "$out"
v start catserver >/dev/null 2>"$T/err"
new=$(ip_of catserver)
if [ "$new" != 10.89.7.2 ] && [ -n "$new" ]; then pass "catserver restarted with another address ($new)"; else
	fail "catserver restarted with another address" "got '$new': $(cat "$T/err")"; fi
for name in catserver kitty; do
	expect_eq "... and its name follows it ($name)" "$srv" \
		"$(v exec client sh -c "for i in \$(seq 60); do
			p=\$(timeout 5 wget -qO- http://$name/ 2>/dev/null) && [ -n \"\$p\" ] && { echo \"\$p\"; exit; }; sleep 1
		done; echo 'no page in 60 tries'" 2>&1 | tail -n1)"
done

# --- another network cannot reach it; an internal one has no way out ----------
out=$(v run --rm --network othernet busybox sh -c \
	"timeout 5 wget -qO- http://$new/ || echo no-route; timeout 5 wget -qO- http://catserver/ || echo no-name" 2>&1)
expect_match "othernet: the address is unreachable" "no-route" "$out"
expect_match "othernet: the name is unknown" "no-name" "$out"
out=$(v run --rm --name lonely --network intnet busybox sh -c \
	'nslookup lonely 10.89.9.1; timeout 5 wget -qO- http://10.89.9.1:80/ || echo no-way-out' 2>&1)
expect_match "internal: its own name resolves" "10\\.89\\.9\\.2" "$out"
expect_match "internal: nothing is reached through the gateway" "no-way-out" "$out"

# --- one container on two networks; a running one joins and leaves a network --
v run -d --name dogserver --network othernet busybox \
	sh -c 'mkdir -p /w && echo woof > /w/index.html && exec httpd -f -p 80 -h /w' >/dev/null 2>"$T/err"
expect_eq "a server on othernet starts" "0" "$?"
v run -d --name both --network webnet --network othernet busybox sleep 3600 >/dev/null 2>"$T/err"
expect_eq "run --network twice starts" "0" "$?"
expect_match "... inspect: an address on each network" "^othernet=10\.89\.8\.[0-9]+ webnet=10\.89\.7\.[0-9]+ $" \
	"$(v inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}' both 2>&1)"
expect_eq "... it reaches a server of each network by name" "$srv woof" \
	"$(v exec both sh -c 'timeout 60 wget -qO- http://catserver/; timeout 60 wget -qO- http://dogserver/' 2>&1 | tr '\n' ' ' | sed 's/ $//')"
out=$(v exec client sh -c 'timeout 5 wget -qO- http://dogserver/ || echo no-name' 2>&1)
expect_match "webnet's client does not know dogserver" "no-name" "$out"
out=$(v network connect --alias kit othernet client 2>&1); rc=$?
expect_eq "network connect of a running container" "0 " "$rc $out"
cip=$(v inspect -f '{{.NetworkSettings.Networks.othernet.IPAddress}}' client 2>&1)
expect_match "... inspect: its address on othernet" "^10\.89\.8\.[0-9]+$" "$cip"
expect_match "... the guest has it on eth0:1" "inet $cip/24 .*eth0:1" "$(v exec client ip addr show eth0 2>&1)"
expect_eq "... it reaches dogserver by name at once" "woof" "$(v exec client timeout 60 wget -qO- http://dogserver/ 2>&1)"
expect_match "... and othernet finds it by its new alias" "Address.*$cip" "$(v exec both nslookup kit 2>&1)"
out=$(v network disconnect webnet client 2>&1); rc=$?
expect_match "disconnect of a running container from its first network: refused, saying what to do" \
	"^125 vmm: error: network webnet is container client's first network, .*stop it" "$rc $out"
out=$(v network disconnect othernet client 2>&1); rc=$?
expect_eq "network disconnect of a running container" "0 " "$rc $out"
dip=$(ip_of dogserver)
expect_eq "... it reaches dogserver no more, by name or address" "cut cut" \
	"$(v exec client sh -c "timeout 5 wget -qO- http://dogserver/ || echo cut; timeout 5 wget -qO- http://$dip/ || echo cut" 2>&1 | grep -x cut | tr '\n' ' ' | sed 's/ $//')"

for c in catserver client squatter dogserver both; do "$VMM" rm -f "$c" >/dev/null 2>&1; done
expect_eq "after the last container: nothing left in the runtime folder" "" "$(ls "$VMM_RUNTIME/networks" 2>&1 | grep -v 'No such')"
check "network rm once no container uses it" "$VMM" network rm webnet othernet intnet
