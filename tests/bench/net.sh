#!/bin/sh
# TCP throughput into and out of a container VM, through slirp (the default),
# between two containers on a network of `vmm network create`, and through a tap
# device, against host loopback measured in the same run.
#   host loopback         nc -> nc on 127.0.0.1 (1 GiB)
#   host -> guest         a host sender to `tcp-bulk recv` in the guest (slirp: via -p; tap: 192.168.77.2)
#   guest -> host         `tcp-bulk send` in the guest to a host receiver (slirp: 10.0.2.2, the
#                         host's loopback; tap: 192.168.77.1)
#   guest -> host httpd   a host client fetching a file from busybox `httpd` in the guest
#                         (sendfile from a sparse tmpfs file: the guest's disk is not measured)
# tcp-bulk (tests/helpers/tcp-bulk.c, copied into the guest) moves 256 KiB per system call;
# busybox nc moves 1 KiB, which on a host that emulates the guest kernel measures nc.
# Guest streams are NET_BENCH_MB (default 20) MiB, not 1 GiB: on such hosts (docs/host-pvm.md)
# a guest TCP stream moves well under 1 MB/s. The receiving end times from the first byte to
# EOF (the guest's receiver closes only after EOF), so `vmm exec` start-up is not counted;
# each stream's byte count is checked. The tap part runs in a private network namespace and
# needs root; it is skipped otherwise.
# Usage: tests/bench/net.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
VMM="$PWD/$BUILD/vmm"
MB=${NET_BENCH_MB:-20}
BYTES=$((MB * 1048576))
T=$(mktemp -d "${TMPDIR:-/tmp}/vmm-bench-net.XXXXXX")
NETNS=vmmbench$$
export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
cleanup() {
	for id in $("$VMM" ps -aq 2>/dev/null); do "$VMM" rm -f "$id" >/dev/null 2>&1; done
	ip netns del "$NETNS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
for tool in nc python3; do
	command -v $tool >/dev/null || { echo "bench: $tool not installed"; exit 1; }
done
scripts/build-busybox-image.sh "$VMM" >/dev/null 2>&1 || { echo "bench: cannot build the busybox image"; exit 1; }
cc=musl-gcc
command -v musl-gcc >/dev/null || cc=cc
$cc -static -O2 -o "$T/tcp-bulk" tests/helpers/tcp-bulk.c || { echo "bench: cannot build tests/helpers/tcp-bulk.c"; exit 1; }

cat >"$T/pipe.py" <<'EOF'
# send HOST PORT BYTES: connect (retrying), send, shut down, wait for the peer to close.
# recv ADDR PORT: accept one connection, read to EOF.
# get HOST PORT PATH: an HTTP/1.0 GET (retrying the connect), the body read to EOF.
# Each prints "BYTES SECONDS": send timed from the connect, recv and get from the first byte.
import socket, sys, time
mode = sys.argv[1]
def drain(s, n):
    while True:
        d = s.recv(1 << 20)
        if not d:
            return n
        n += len(d)
def connect(host, port):
    for _ in range(600):
        try:
            s = socket.create_connection((host, port), timeout=5)
            s.settimeout(None)
            return s
        except OSError:
            time.sleep(0.5)
    sys.exit("cannot connect to %s:%d" % (host, port))
if mode == "get":
    s = connect(sys.argv[2], int(sys.argv[3]))
    s.sendall(b"GET /%s HTTP/1.0\r\n\r\n" % sys.argv[4].encode())
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(65536)
        if not d:
            sys.exit("no HTTP response")
        head += d
    t0 = time.monotonic()
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status:
        sys.exit("HTTP: %s" % status.decode(errors="replace"))
    n = drain(s, len(head) - head.index(b"\r\n\r\n") - 4)
    print(n, time.monotonic() - t0)
elif mode == "send":
    n = int(sys.argv[4])
    s = connect(sys.argv[2], int(sys.argv[3]))
    buf = bytes(1 << 20)
    t0 = time.monotonic()
    left = n
    while left:
        left -= s.send(buf[:min(left, len(buf))])
    s.shutdown(socket.SHUT_WR)
    drain(s, 0)
    print(n, time.monotonic() - t0)
else:
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((sys.argv[2], int(sys.argv[3])))
    l.listen(1)
    print("listening", flush=True)
    c, _ = l.accept()
    first = c.recv(1 << 20)
    t0 = time.monotonic()
    n = drain(c, len(first))
    print(n, time.monotonic() - t0)
EOF
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.3f", b / s / 1e6; else print 0 }'; }
row() {	# label MB/s
	awk -v l="$1" -v v="$2" -v base="$LOOP" 'BEGIN {
		printf "%-34s %10.3f MB/s   %8.4f%% of host loopback\n", l, v, (base > 0) ? 100 * v / base : 0 }'
}

# --- host loopback: nc -> nc, 1 GiB ----------------------------------------------
P=$(free_port)
nc -d -l 127.0.0.1 "$P" >/dev/null &
sleep 0.3
t0=$(date +%s.%N)
head -c 1073741824 /dev/zero | nc -N 127.0.0.1 "$P"
t1=$(date +%s.%N)
wait
LOOP=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", 1073741824 / (b - a) / 1e6 }')
echo "# host loopback nc -> nc (1 GiB): $LOOP MB/s; guest streams: $MB MiB each"
printf '%-34s %10.3f MB/s\n' "host loopback (nc -> nc)" "$LOOP"

# guest_rx NAME NSEXEC ADDR PORT: the host sends $BYTES to tcp-bulk recv in the guest
guest_rx() {
	"$VMM" exec "$1" sh -c '/tcp-bulk recv 5001 >/dev/shm/rx.count 2>&1 </dev/null &
		i=0; while [ $i -lt 100 ] && ! netstat -ltn 2>/dev/null | grep -q ":5001 "; do i=$((i + 1)); sleep 0.2; done'
	r=$($2 python3 "$T/pipe.py" send "$3" "$4" "$BYTES") || return
	got=$("$VMM" exec "$1" cat /dev/shm/rx.count)
	[ "$got" = "$BYTES" ] || { echo "bench: the guest received ${got:-nothing}, expected $BYTES bytes" >&2; return; }
	mbps $r
}
# guest_tx NAME NSEXEC LISTENADDR GUESTTARGET: tcp-bulk in the guest sends $BYTES to the host
guest_tx() {
	p=$(free_port)
	$2 python3 "$T/pipe.py" recv "$3" "$p" >"$T/recv.out" &
	rp=$!
	i=0; while [ $i -lt 50 ] && ! grep -q listening "$T/recv.out" 2>/dev/null; do i=$((i + 1)); sleep 0.1; done
	timeout 600 "$VMM" exec "$1" /tcp-bulk send "$4" "$p" "$BYTES" >/dev/null 2>&1 || kill $rp 2>/dev/null
	wait $rp
	set -- $(tail -1 "$T/recv.out")
	[ "${1:-}" = "$BYTES" ] || { echo "bench: the host received ${1:-nothing}, expected $BYTES bytes" >&2; return; }
	mbps "$@"
}
# guest_http NAME NSEXEC ADDR PORT: the host fetches $BYTES from the guest's httpd on port 5002
guest_http() {
	"$VMM" exec "$1" sh -c "mkdir -p /dev/shm/www && dd if=/dev/null of=/dev/shm/www/f bs=1 seek=$BYTES 2>/dev/null &&
		httpd -p 5002 -h /dev/shm/www" || return
	r=$($2 python3 "$T/pipe.py" get "$3" "$4" f) || return
	set -- $r
	[ "$1" = "$BYTES" ] || { echo "bench: fetched $1 bytes, expected $BYTES" >&2; return; }
	mbps "$@"
}
# rows PREFIX NAME NSEXEC ADDR RXPORT HTTPPORT LISTENADDR GUESTTARGET
rows() {
	"$VMM" cp "$T/tcp-bulk" "$2:/tcp-bulk" >/dev/null || { echo "$1: cannot copy tcp-bulk into the guest"; return; }
	row "$1 host -> guest" "$(guest_rx "$2" "$3" "$4" "$5")"
	row "$1 guest -> host" "$(guest_tx "$2" "$3" "$7" "$8")"
	row "$1 guest -> host httpd" "$(guest_http "$2" "$3" "$4" "$6")"
}

# --- slirp ----------------------------------------------------------------------------
HP=$(free_port)
HP2=$(free_port)
# guest -> host goes to the host's loopback (10.0.2.2), which a guest reaches only when asked for
if "$VMM" run -d --name bs --network slirp:allow_host_loopback=true -p "127.0.0.1:$HP:5001" \
	-p "127.0.0.1:$HP2:5002" busybox sleep 100000 >/dev/null; then
	"$VMM" exec bs true	# warm up the exec path and the guest's page cache
	rows slirp bs "" 127.0.0.1 "$HP" "$HP2" 127.0.0.1 10.0.2.2
	"$VMM" rm -f bs >/dev/null
else
	echo "slirp: the container did not start"
fi

# --- a network of vmm network create: container -> container ----------------------------
# tcp-bulk from one container to the other, timed on the host around `vmm exec ... send` (which
# returns after the receiver's EOF; the exec's start-up is counted, a fraction of a second), and
# ping's average round trip next to the NAT's (the gateway) and the host's loopback.
avg_ms() { sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'; }
if "$VMM" network create --subnet 10.89.77.0/24 benchnet >/dev/null &&
	"$VMM" run -d --name na --network benchnet --ip 10.89.77.2 busybox sleep 100000 >/dev/null &&
	"$VMM" run -d --name nb --network benchnet --ip 10.89.77.3 busybox sleep 100000 >/dev/null &&
	"$VMM" cp "$T/tcp-bulk" na:/tcp-bulk >/dev/null && "$VMM" cp "$T/tcp-bulk" nb:/tcp-bulk >/dev/null; then
	"$VMM" exec na sh -c '/tcp-bulk recv 5001 >/dev/shm/rx.count 2>&1 </dev/null &
		i=0; while [ $i -lt 100 ] && ! netstat -ltn 2>/dev/null | grep -q ":5001 "; do i=$((i + 1)); sleep 0.2; done'
	t0=$(date +%s.%N)
	"$VMM" exec nb /tcp-bulk send 10.89.77.2 5001 "$BYTES" >/dev/null 2>&1
	t1=$(date +%s.%N)
	got=$("$VMM" exec na cat /dev/shm/rx.count)
	if [ "$got" = "$BYTES" ]; then
		row "network container -> container" "$(awk -v b="$BYTES" -v a="$t0" -v c="$t1" 'BEGIN { printf "%.3f", b / (c - a) / 1e6 }')"
	else
		echo "bench: the container received ${got:-nothing}, expected $BYTES bytes" >&2
	fi
	echo "# ping, average of 20: container -> container $("$VMM" exec nb ping -c 20 -q 10.89.77.2 | avg_ms) ms," \
		"container -> its gateway (the NAT) $("$VMM" exec nb ping -c 20 -q 10.89.77.1 | avg_ms) ms," \
		"host loopback $(command -v ping >/dev/null && ping -c 20 -q 127.0.0.1 2>/dev/null | avg_ms || echo '(no ping here)') ms"
	"$VMM" rm -f na nb >/dev/null
	"$VMM" network rm benchnet >/dev/null
else
	echo "network: the containers did not start"
fi

# --- tap in a private network namespace ---------------------------------------------
if [ "$(id -u)" != 0 ] || ! ip netns add "$NETNS" 2>/dev/null; then
	echo "tap: skipped (needs root for a network namespace)"
	exit 0
fi
ip netns exec "$NETNS" sh -e -c '
	ip link set lo up
	ip tuntap add mode tap name vmmtap0
	ip addr add 192.168.77.1/24 dev vmmtap0
	ip link set vmmtap0 up'
NS="ip netns exec $NETNS"
if $NS "$VMM" run -d --name bt --network tap:vmmtap0 --ip 192.168.77.2/24 --gateway 192.168.77.1 \
	busybox sleep 100000 >/dev/null; then
	"$VMM" exec bt true
	rows tap bt "$NS" 192.168.77.2 5001 5002 192.168.77.1 192.168.77.1
	"$VMM" rm -f bt >/dev/null
else
	echo "tap: the container did not start"
fi
