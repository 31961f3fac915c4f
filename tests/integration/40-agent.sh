#!/bin/sh
# The guest agent over virtio-vsock, driven by the real host client through
# build/tests/agent-test (tests/helpers/agent-test.c): processes, exit statuses, stdin, signals, users, limits,
# namespaces, exec, top, cp, tty, OOM, transport reset. Three boots, shared
# between many checks (each boot costs 30-60 s on an emulating host).
. tests/integration/lib.sh

AGENT=${AGENT:-$PWD/build/guest/vmm-agent}
if [ ! -f "$KERNEL" ]; then
	fail "agent: guest kernel" "$KERNEL missing (make kernel)"
	exit 0
fi
if [ ! -x "$AGENT" ]; then
	fail "agent: binary" "$AGENT missing (make agent)"
	exit 0
fi
if ! have_kvm; then
	skip "agent: guests" "/dev/kvm not accessible on this host"
	exit 0
fi

size=$(wc -c <"$AGENT")
if [ "$size" -lt 102400 ]; then pass "agent: static binary under 100 KB ($size bytes)"; else
	fail "agent: static binary under 100 KB" "$size bytes"; fi
expect_match "agent: statically linked" "statically linked|static-pie" "$(file "$AGENT")"

# The initramfs: the agent as /init, plus a busybox root for the container at /rootfs.
mkdir -p "$T/extra/rootfs/bin" "$T/extra/rootfs/etc" "$T/extra/rootfs/tmp"
cp /bin/busybox "$T/extra/rootfs/bin/busybox"
for a in sh echo cat ls id hostname pwd md5sum sleep mount env true false kill tty stty dd touch \
	tar head; do
	ln -s busybox "$T/extra/rootfs/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n' \
	>"$T/extra/rootfs/etc/passwd"
printf 'root:x:0:\nusers:x:100:alice\nalice:x:1000:\n' >"$T/extra/rootfs/etc/group"
scripts/mkagentcpio.sh "$T/agent.cpio" "$AGENT" "$T/extra"

run() {	# run NAME [agent-test options...]; sets out, err, rc; stdin from $STDIN
	name=$1; shift
	timeout "$BOOT_TIMEOUT" "$AGENT_TEST" --kernel "$KERNEL" --initrd "$T/agent.cpio" \
		--console "$T/$name.console" "$@" >"$T/$name.out" 2>"$T/$name.err" <"${STDIN:-/dev/null}"
	rc=$?
	out=$(cat "$T/$name.out")
	err=$(cat "$T/$name.err")
}

# Files for stdin and cp-in.
head -c 300000 /dev/urandom >"$T/stdin.bin"
want_md5=$(md5sum <"$T/stdin.bin" | cut -d' ' -f1)
mkdir -p "$T/cpsrc/sub"
echo "copied in" >"$T/cpsrc/a.txt"
head -c 70000 /dev/urandom >"$T/cpsrc/sub/big.bin"
ln -s a.txt "$T/cpsrc/link"
(cd "$T" && tar -cf in.tar cpsrc)

# 1. One container, many checks.
STDIN="$T/stdin.bin"
run main -i -e FOO=bar -w /tmp/work -u alice --hostname box1 --memory-limit 64M --pids-limit 50 \
	--exec 'echo exec-pid=$$; hostname; echo exec-init=$(cat /proc/1/comm); exit 3' \
	--exec 'true' --exec 'false' --exec 'exit 42' \
	--exec-raw '/nonexistent' --exec-raw '/etc/passwd' --exec-raw 'nosuchcmd' \
	--top --cp-out "/etc:$T/etc.tar" --cp-in "$T/in.tar:/tmp" \
	--exec 'cat /tmp/cpsrc/a.txt; md5sum /tmp/cpsrc/sub/big.bin; ls -l /tmp/cpsrc/link' \
	--signal TERM -- \
	sh -c 'echo pid=$$; hostname; echo foo=$FOO; echo cwd=$(pwd); id; echo mem=$(cat /sys/fs/cgroup/memory.max);
		echo pids=$(cat /sys/fs/cgroup/pids.max); echo home=$HOME; echo path=$PATH; md5sum;
		trap "echo got TERM; exit 7" TERM; sleep 1000 & wait'
expect_eq "agent: exit status of the main process (trapped TERM -> 7)" 7 "$rc"
expect_match "agent: stdout reaches the host" "^pid=1$" "$out"
expect_match "agent: hostname set" "^box1$" "$out"
expect_match "agent: env applied" "^foo=bar$" "$out"
expect_match "agent: working directory created and used" "^cwd=/tmp/work$" "$out"
expect_match "agent: user from the image's passwd, groups from its group file" \
	"uid=1000\(alice\) gid=1000\(alice\) groups=100\(users\)" "$out"
expect_match "agent: HOME from passwd, default PATH" "^home=/home/alice$" "$out"
expect_match "agent: docker's default PATH" "^path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin$" "$out"
expect_match "agent: cgroup memory.max visible in the container" "^mem=67108864$" "$out"
expect_match "agent: cgroup pids.max" "^pids=50$" "$out"
expect_match "agent: stdin forwarded to EOF (300 KB, md5)" "^$want_md5  -$" "$out"
expect_match "agent: signal forwarded to the process" "^got TERM$" "$out"
expect_match "agent: exec runs in the container's pid namespace" "^exec-pid=[0-9]+$" "$out"
expect_match "agent: exec sees the container's init as PID 1" "^exec-init=sh$" "$out"
expect_match "agent: exec exit status 3" "exec 1 exit 3$" "$err"
expect_match "agent: exec exit status 0" "exec 2 exit 0$" "$err"
expect_match "agent: exec exit status 1" "exec 3 exit 1$" "$err"
expect_match "agent: exec exit status 42" "exec 4 exit 42$" "$err"
expect_match "agent: missing file: 127 and its message" \
	'exec 5 failed: exec: "/nonexistent": no such file or directory' "$err"
expect_match "agent: missing file exits 127" "exec 5 exit 127$" "$err"
expect_match "agent: not executable: 126, permission denied" \
	'exec 6 failed: exec: "/etc/passwd": [Pp]ermission denied' "$err"
expect_match "agent: not executable exits 126" "exec 6 exit 126$" "$err"
expect_match "agent: not in PATH: docker's message" \
	'exec 7 failed: exec: "nosuchcmd": executable file not found in \$PATH' "$err"
expect_match "agent: not in PATH exits 127" "exec 7 exit 127$" "$err"
expect_match "agent: top lists the init as PID 1 with its user" "^1 +alice .*sh -c" "$out"
expect_match "agent: top lists the sleep" "^[0-9]+ +alice .*sleep 1000" "$out"
expect_match "agent: cp-out succeeded" "cp-out /etc: ok" "$err"
if [ -f "$T/etc.tar" ]; then
	expect_match "agent: cp-out tar lists etc/passwd (checked by tar)" "^etc/passwd$" "$(tar -tf "$T/etc.tar")"
	mkdir -p "$T/etcx" && tar -xf "$T/etc.tar" -C "$T/etcx"
	if cmp -s "$T/etcx/etc/group" "$T/extra/rootfs/etc/group"; then pass "agent: cp-out content matches"
	else fail "agent: cp-out content matches" "etc/group differs"; fi
else
	fail "agent: cp-out tar" "no tar written"
fi
expect_match "agent: cp-in succeeded" "cp-in /tmp: ok" "$err"
expect_match "agent: cp-in file content" "^copied in$" "$out"
expect_match "agent: cp-in binary content" "^$(md5sum <"$T/cpsrc/sub/big.bin" | cut -d' ' -f1)  /tmp/cpsrc/sub/big.bin$" "$out"
expect_match "agent: cp-in symlink" "link -> a.txt" "$out"

STDIN=
# 2. The main process cannot start: docker's status and message.
run notfound -- nosuchcmd arg
expect_eq "agent: main process not found exits 127" 127 "$rc"
expect_match "agent: main process not found message" 'exec: "nosuchcmd": executable file not found in \$PATH' "$err"

# 3. A terminal, a transport reset with reconnect, then the memory limit kills the process.
run tty -t --memory-limit 16M --transport-reset --exec 'echo after-reset; touch /tmp/go' -- \
	sh -c 'tty; stty size; while [ ! -e /tmp/go ]; do sleep 1; done; exec dd if=/dev/zero of=/dev/null bs=64M count=1'
expect_match "agent: tty inside the container" "^/dev/pts/0" "$out"
expect_match "agent: tty window size" "^24 80" "$out"
expect_match "agent: the agent reconnects after a transport reset" "agent reconnected after the transport reset" "$err"
expect_match "agent: exec works after the reset" "^after-reset" "$out"
expect_eq "agent: memory limit kill exits 137" 137 "$rc"
expect_match "agent: OOM kill reported" "killed by the memory limit" "$err"
