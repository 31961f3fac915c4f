#!/bin/sh
# TCP throughput into and out of a container VM, through slirp (the default)
# and through a tap device, against host loopback measured in the same run.
#   host loopback   nc -> nc on 127.0.0.1 (1 GiB)
#   host -> guest   a host sender to busybox `nc -l` in the guest (slirp: via -p; tap: 192.168.77.2)
#   guest -> host   busybox `head -c N /dev/zero | nc` in the guest to a host receiver
#                   (slirp: 10.0.2.2 = the host's loopback; tap: 192.168.77.1)
# Guest streams are NET_BENCH_MB (default 20) MiB, not 1 GiB: on hosts that emulate the guest
# kernel (docs/host-pvm.md) a guest TCP stream moves well under 1 MB/s. The host end times
# from connect to the guest's close (sending) or first byte to EOF (receiving), so the
# `vmm exec` start-up is not counted. The tap part runs in a private network namespace and
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

cat >"$T/pipe.py" <<'EOF'
# send HOST PORT BYTES: connect (retrying), send, shut down, wait for the peer to close.
# recv ADDR PORT: accept one connection, read to EOF. Both print "BYTES SECONDS".
import socket, sys, time
mode = sys.argv[1]
if mode == "send":
    host, port, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    for _ in range(600):
        try:
            s = socket.create_connection((host, port), timeout=5)
            break
        except OSError:
            time.sleep(0.5)
    s.settimeout(None)
    buf = bytes(1 << 20)
    t0 = time.monotonic()
    left = n
    while left:
        left -= s.send(buf[:min(left, len(buf))])
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
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
    n = len(first)
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        n += len(d)
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

# guest_rx NAME NSEXEC ADDR PORT: host sends to the guest's nc -l
guest_rx() {
	"$VMM" exec "$1" sh -c 'nc -l -p 5001 >/dev/null </dev/null 2>&1 &
		i=0; while [ $i -lt 100 ] && ! netstat -ltn | grep -q ":5001 "; do i=$((i + 1)); sleep 0.2; done'
	r=$($2 python3 "$T/pipe.py" send "$3" "$4" "$BYTES")
	mbps $r
}
# guest_tx NAME NSEXEC HOSTADDR: the guest sends to a host receiver
guest_tx() {
	p=$(free_port)
	$2 python3 "$T/pipe.py" recv "$3" "$p" >"$T/recv.out" &
	rp=$!
	i=0; while [ $i -lt 50 ] && ! grep -q listening "$T/recv.out" 2>/dev/null; do i=$((i + 1)); sleep 0.1; done
	"$VMM" exec "$1" sh -c "head -c $BYTES /dev/zero | nc $4 $p" >/dev/null 2>&1
	wait $rp
	mbps $(tail -1 "$T/recv.out")
}

# --- slirp ----------------------------------------------------------------------------
HP=$(free_port)
if "$VMM" run -d --name bs -p "$HP:5001" busybox sleep 100000 >/dev/null; then
	"$VMM" exec bs true	# warm up the exec path and the guest's page cache
	row "slirp host -> guest" "$(guest_rx bs "" 127.0.0.1 "$HP")"
	row "slirp guest -> host (10.0.2.2)" "$(guest_tx bs "" 127.0.0.1 10.0.2.2)"
	"$VMM" rm -f bs >/dev/null
else
	echo "slirp: the container did not start"
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
	row "tap host -> guest" "$(guest_rx bt "$NS" 192.168.77.2 5001)"
	row "tap guest -> host" "$(guest_tx bt "$NS" 192.168.77.1 192.168.77.1)"
	"$VMM" rm -f bt >/dev/null
else
	echo "tap: the container did not start"
fi
