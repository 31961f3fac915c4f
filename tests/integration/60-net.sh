#!/bin/sh
# Networking on real guests (docs/network.md): slirp with published TCP and
# UDP ports both ways, the guest reaching the host's loopback, DNS and /etc
# files, two containers at once, ports that are taken, --network none, and a
# tap device in a private network namespace. Boots are slow on emulating
# hosts: one container serves most checks.
. tests/integration/lib.sh

guest_suite "net"
NETNS=vmmtest$$
cleanup_hook() {
	for id in $("$VMM" ps -aq 2>/dev/null); do "$VMM" rm -f "$id" >/dev/null 2>&1; done
	for p in $bgpids; do kill "$p" 2>/dev/null; done
	ip netns del "$NETNS" 2>/dev/null
	true
}
bgpids=""
containers_left() { ls "$VMM_ROOT/containers" 2>/dev/null | grep -v '^\.' | wc -l; }
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
udp_ask() {	# PORT MESSAGE: send, print the answer (retries while the server starts)
	python3 - "$1" "$2" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(30):
    s.sendto(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[1])))
    try:
        print(s.recv(2048).decode())
        break
    except socket.timeout:
        pass
EOF
}

cc=musl-gcc
command -v musl-gcc >/dev/null || cc=cc
$cc -static -Os -o "$T/udp-echo" tests/helpers/udp-echo.c 2>"$T/cc.log" ||
	fail "net: build the udp-echo helper" "$(tail -2 "$T/cc.log")"

# --- bad input: refused before anything exists (fast, no boot) ---------------
out=$("$VMM" run -d -p 80x busybox true 2>&1); rc=$?
expect_eq "-p malformed: exit 125" 125 "$rc"
expect_match "-p malformed: says why" "container port '80x'" "$out"
out=$("$VMM" run -d -p 1.2.3:80:80 busybox true 2>&1)
expect_match "-p bad IP: says why" "'1.2.3' is not an IPv4 address" "$out"
out=$("$VMM" run -d -p 70000:80 busybox true 2>&1)
expect_match "-p port out of range" "host port '70000'" "$out"
out=$("$VMM" run -d --network none -p 8080:80 busybox true 2>&1); rc=$?
expect_match "-p with --network none refused" "published only with slirp" "$out"
out=$("$VMM" run -d --ip 10.1.1.1 busybox true 2>&1)
expect_match "--ip without tap refused" "only with --network tap" "$out"
out=$("$VMM" run -d --network bogus busybox true 2>&1)
expect_match "--network unknown name refused" "network bogus not found" "$out"
out=$("$VMM" run -d --add-host nocolon busybox true 2>&1)
expect_match "--add-host malformed refused" "want NAME:IP" "$out"
out=$("$VMM" run -d --egress-allow 10.0.0.1:0 busybox true 2>&1); rc=$?
expect_eq "--egress-allow: a bad rule, named, exit 125" "125 vmm: error: --egress-allow 10.0.0.1:0: ports are 1 to 65535, LO-HI with LO <= HI (want CIDR[:PORT[-PORT]][/tcp|/udp] or dns) (see 'vmm run --help')" "$rc $out"
out=$("$VMM" run -d --network none --egress-allow dns busybox true 2>&1); rc=$?
expect_match "--egress-allow with --network none refused, exit 125" "^125 vmm: error: --egress-allow: only with slirp networking" "$rc $out"
out=$("$VMM" run -d --network tap:vmmnosuch0 busybox true 2>&1); rc=$?
expect_eq "tap: missing device exits 125" 125 "$rc"
expect_match "tap: missing device named, with the fix" "tap device vmmnosuch0 does not exist.*ip tuntap add" "$out"
out=$("$VMM" run -d --network tap:lo busybox true 2>&1)
expect_match "tap: a non-tap interface refused" "lo is not a tap device" "$out"
HP_HELD=$(free_port)
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("0.0.0.0",int(sys.argv[1]))); s.listen(); time.sleep(600)' "$HP_HELD" &
bgpids="$bgpids $!"; heldpid=$!
i=0	# until it listens
while [ $i -lt 300 ] && ! ss -Hltn "sport = :$HP_HELD" | grep -q .; do i=$((i + 1)); sleep 0.1; done
out=$("$VMM" run -d -p "$HP_HELD:80" busybox true 2>&1); rc=$?
expect_eq "-p port held by a host process: exit 125" 125 "$rc"
expect_match "-p port held by a host process: names port and holder" \
	"host port $HP_HELD/tcp is already allocated by python3 \\(pid $heldpid\\)" "$out"
out=$("$VMM" run -d -p 9999:80 -p 9999:81 busybox true 2>&1)
expect_match "-p the same host port twice in one run refused" "published twice" "$out"
expect_eq "bad input: no container left behind" 0 "$(containers_left)"

# --- one slirp container: published TCP and UDP, guest -> host, /etc files ----
HP_WEB=$(free_port); HP_UDP=$(free_port); HP_HOST=$(free_port); HP_NC=$(free_port)
id=$(v run -d --name web --hostname webhost -p "$HP_WEB:80" -p "127.0.0.1:$HP_UDP:5353/udp" -p 7777 \
	--add-host db.internal:10.9.8.7 --add-host hostbox:host-gateway --dns-search corp.example \
	busybox sh -c 'mkdir -p /www && echo ready > /www/ready && exec httpd -f -p 80 -h /www' 2>"$T/err"); rc=$?
expect_eq "run -d -p: exits 0" 0 "$rc"
[ "$rc" = 0 ] || echo "# $(cat "$T/err")"
expect_match "ps: PORTS column" "0\\.0\\.0\\.0:$HP_WEB->80/tcp, 127\\.0\\.0\\.1:$HP_UDP->5353/udp, 0\\.0\\.0\\.0:[0-9]+->7777/tcp" "$("$VMM" ps)"
expect_eq "port: one container port" "0.0.0.0:$HP_WEB" "$("$VMM" port web 80)"
expect_match "port: all of them" "^80/tcp -> 0\\.0\\.0\\.0:$HP_WEB
5353/udp -> 127\\.0\\.0\\.1:$HP_UDP
7777/tcp -> 0\\.0\\.0\\.0:[0-9]+\$" "$("$VMM" port web)"
out=$("$VMM" port web 81 2>&1); rc=$?
expect_match "port: unpublished port is an error" "no public port '81/tcp' published for web" "$out"
HP_FREE=$("$VMM" port web 7777 | sed 's/.*://')
if [ -n "$HP_FREE" ] && [ "$HP_FREE" != 0 ]; then pass "-p 7777: a free host port was picked ($HP_FREE)"; else
	fail "-p 7777: a free host port was picked" "got '$HP_FREE'"; fi
expect_match "inspect: NetworkSettings.Ports" "\"80/tcp\": ?\\[" "$("$VMM" inspect web)"

if wait_http "http://127.0.0.1:$HP_WEB/ready" 120; then pass "-p: the guest's httpd answers on the host"; else
	fail "-p: the guest's httpd answers on the host" "no answer on $HP_WEB"; fi
expect_eq "-p: page content" "ready" "$(curl -s -m 10 "http://127.0.0.1:$HP_WEB/ready")"

out=$(v exec web sh -c 'ip addr show eth0; ip route; cat /etc/resolv.conf /etc/hosts')
expect_match "guest: eth0 has 10.0.2.15/24" "inet 10\\.0\\.2\\.15/24" "$out"
expect_match "guest: MTU 65520 on slirp" "mtu 65520" "$out"
expect_match "guest: default route via 10.0.2.2" "default via 10\\.0\\.2\\.2 dev eth0" "$out"
expect_match "guest: resolv.conf names 10.0.2.3" "nameserver 10\\.0\\.2\\.3" "$out"
expect_match "guest: --dns-search" "search corp\\.example" "$out"
expect_match "guest: /etc/hosts has its own name" "10\\.0\\.2\\.15	webhost web" "$out"
expect_match "guest: --add-host entry" "10\\.9\\.8\\.7	db\\.internal" "$out"
expect_match "guest: --add-host host-gateway" "10\\.0\\.2\\.2	hostbox" "$out"

# Guest -> host loopback through 10.0.2.2: an nc server, then 10 MB over HTTP.
printf 'from-host-nc\n' | timeout 120 nc -N -l 127.0.0.1 "$HP_NC" >/dev/null &
bgpids="$bgpids $!"
sleep 0.3
expect_eq "guest -> host: nc to 10.0.2.2 reaches nc -l on the host's loopback" "from-host-nc" \
	"$(v exec web nc 10.0.2.2 "$HP_NC" </dev/null 2>&1 | tr -d '\r')"
mkdir -p "$T/www"
head -c 10000000 /dev/urandom >"$T/www/big"
want=$(md5sum <"$T/www/big" | cut -d' ' -f1)
(cd "$T/www" && exec python3 -m http.server --bind 127.0.0.1 "$HP_HOST") >"$T/http.log" 2>&1 &
bgpids="$bgpids $!"
wait_http "http://127.0.0.1:$HP_HOST/big" 20 >/dev/null
start=$(date +%s)
got=$(v exec web sh -c "wget -q -O /www/big http://10.0.2.2:$HP_HOST/big && md5sum /www/big" | cut -d' ' -f1)
expect_eq "guest -> host: 10 MB fetched from the host, md5 inside matches" "$want" "$got"
echo "#   10 MB host -> guest over slirp: $(( $(date +%s) - start )) s (wget + md5sum in the guest)"
start=$(date +%s)
got=$(curl -s -m 300 "http://127.0.0.1:$HP_WEB/big" | md5sum | cut -d' ' -f1)
expect_eq "-p: the 10 MB file back through the published port, md5 matches" "$want" "$got"
echo "#   10 MB guest -> host over slirp: $(( $(date +%s) - start )) s"

# UDP through -p .../udp: an echo server in the container.
if [ -x "$T/udp-echo" ]; then
	"$VMM" cp "$T/udp-echo" web:/udp-echo >/dev/null 2>&1
	v exec web sh -c '/udp-echo 5353 </dev/null >/dev/null 2>&1 &'
	expect_eq "-p /udp: a datagram to the host port is echoed by the guest" "echo:hello-udp" \
		"$(udp_ask "$HP_UDP" hello-udp)"
fi

# DNS: 10.0.2.3 forwards to the host's resolvers; meaningful only if they answer here.
host_dns=$(sed -n 's/^nameserver *\([0-9.]*\).*/\1/p' /etc/resolv.conf | grep -v '^127\.' | head -1)
if [ -n "$host_dns" ] && python3 - "$host_dns" <<'EOF'
import socket, sys
q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(q, (sys.argv[1], 53)); s.recv(512)
EOF
then
	out=$(v exec web nslookup example.com 2>&1)
	expect_match "dns: the guest's query through 10.0.2.3 is answered" "Server:[[:space:]]*10\\.0\\.2\\.3" "$out"
	if echo "$out" | grep -q "timed out"; then fail "dns: no timeout" "$out"; else pass "dns: no timeout"; fi
else
	skip "dns: queries through 10.0.2.3" "the host's resolver ($host_dns) does not answer here"
fi

# --- a second container at the same time, another port; taken ports refused ----
HP_WEB2=$(free_port)
out=$("$VMM" run -d -p "$HP_WEB:80" busybox true 2>&1); rc=$?
expect_eq "-p port of a running container: exit 125" 125 "$rc"
expect_match "-p port of a running container: names it" "host port $HP_WEB/tcp is already allocated by container web" "$out"
expect_eq "-p taken: no container left behind" 1 "$(containers_left)"
check "second container with another port" v run -d --name web2 -p "$HP_WEB2:80" busybox httpd -f -p 80 -h /etc
if wait_http "http://127.0.0.1:$HP_WEB2/passwd" 120; then pass "two containers publish at once: web2 answers"; else
	fail "two containers publish at once: web2 answers" "no answer on $HP_WEB2"; fi
expect_eq "two containers publish at once: web still answers" "ready" "$(curl -s -m 10 "http://127.0.0.1:$HP_WEB/ready")"
# web2 has no host-gateway entry: the host's loopback services are out of its reach (podman's default).
printf 'should-not-arrive\n' | timeout 60 nc -N -l 127.0.0.1 "$HP_NC" >/dev/null &
bgpids="$bgpids $!"
sleep 0.3
expect_eq "guest -> host loopback is off by default (no --add-host host-gateway)" "" \
	"$(v exec web2 sh -c "nc -w 5 10.0.2.2 $HP_NC </dev/null" 2>/dev/null | tr -d '\r')"

# --egress-allow: a new connection leaves only for what a rule allows (here one host port)
HP_OK=$(free_port); HP_NO=$(free_port)
for p in "$HP_OK" "$HP_NO"; do
	printf 'from-port-%s\n' "$p" | timeout 300 nc -N -l 127.0.0.1 "$p" >/dev/null &
	bgpids="$bgpids $!"
	i=0	# until it listens
	while [ $i -lt 300 ] && ! ss -Hltn "sport = :$p" | grep -q .; do i=$((i + 1)); sleep 0.1; done
done
out=$(v run --rm --network slirp:allow_host_loopback=true --egress-allow "10.0.2.2:$HP_OK/tcp" busybox sh -c \
	"nc 10.0.2.2 $HP_OK </dev/null; echo .; nc -w 5 10.0.2.2 $HP_NO </dev/null; echo ." 2>"$T/egress.err")
expect_eq "--egress-allow 10.0.2.2:PORT/tcp: that port answers, another port of the host does not" \
	"from-port-$HP_OK . ." "$(echo $out | tr -d '\r')"
check "--egress-allow: no connection reached the other port (its listener still waits)" \
	sh -c "ss -Hltn 'sport = :$HP_NO' | grep -q ."
expect_eq "--egress-allow: vmm says once that it dropped frames" 1 \
	"$(grep -c '^vmm: warning: slirp: dropped a frame that --egress-allow does not allow' "$T/egress.err")"

# stop + start keeps the published ports (config.json)
check "stop web2" v stop -t 1 web2
expect_eq "stopped: no ports shown" "" "$("$VMM" port web2)"
check "start web2 again" v start web2
expect_eq "start: same port published again" "0.0.0.0:$HP_WEB2" "$("$VMM" port web2 80)"
if wait_http "http://127.0.0.1:$HP_WEB2/passwd" 120; then pass "start: the port works again"; else
	fail "start: the port works again" "no answer on $HP_WEB2"; fi
"$VMM" rm -f web web2 >/dev/null 2>&1

# --- --network none: loopback only --------------------------------------------
out=$(v run --rm --network none busybox sh -c 'cat /proc/net/dev; ip -o link' 2>&1)
expect_match "--network none: lo is there" "lo:" "$out"
if echo "$out" | grep -q "eth0"; then fail "--network none: no eth0" "$out"; else pass "--network none: no eth0"; fi
expect_match "--network none: lo is up" "1: lo: <LOOPBACK,UP" "$out"

# --- tap: an existing tap device in a private network namespace -----------------
PING=ping
command -v ping >/dev/null || PING="busybox ping"
if ! ip netns add "$NETNS" 2>/dev/null; then
	skip "tap" "cannot create a network namespace (needs root)"
else
	ip netns exec "$NETNS" sh -e -c '
		ip link set lo up
		ip tuntap add mode tap name vmmtap0
		ip addr add 192.168.77.1/24 dev vmmtap0
		ip link set vmmtap0 up' || fail "tap: set up the namespace" "ip tuntap failed"
	out=$(ip netns exec "$NETNS" timeout "$RUN_TIMEOUT" "$VMM" run -d --name tapbox --network tap:vmmtap0 \
		--ip 192.168.77.2/24 --gateway 192.168.77.1 --mac-address 02:42:c0:a8:4d:02 \
		busybox sh -c 'while :; do sleep 5; done' 2>&1); rc=$?
	expect_eq "tap: run -d exits 0" 0 "$rc"
	i=0; pinged=1
	while [ $i -lt 60 ] && [ $pinged != 0 ]; do
		ip netns exec "$NETNS" $PING -c 1 -W 2 192.168.77.2 >/dev/null 2>&1; pinged=$?
		i=$((i + 1))
	done
	expect_eq "tap: the host side pings the guest" 0 "$pinged"
	expect_match "tap: the guest has the MAC given" "02:42:c0:a8:4d:02" \
		"$(ip netns exec "$NETNS" ip neigh show 192.168.77.2)"
	out=$(v exec tapbox sh -c 'ip addr show eth0; ip route')
	expect_match "tap: --ip on eth0" "inet 192\\.168\\.77\\.2/24" "$out"
	expect_match "tap: --gateway as default route" "default via 192\\.168\\.77\\.1" "$out"
	out=$(ip netns exec "$NETNS" "$VMM" run -d --network tap:vmmtap0 busybox true 2>&1); rc=$?
	expect_match "tap: a device in use is refused before boot" "tap device vmmtap0 is in use" "$out"
	expect_eq "tap: refused device exits 125" 125 "$rc"
	"$VMM" rm -f tapbox >/dev/null 2>&1
	ip netns del "$NETNS"
fi
expect_eq "all containers removed" 0 "$(containers_left)"
