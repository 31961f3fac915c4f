#!/bin/sh
# vmm oci on real guests: a bundle's root folder boots as a micro-VM (virtio-fs), driven as
# conmon and the containerd shim drive runc (tests/helpers/oci-conmon.py, a child subreaper
# that waits on the pid of --pid-file): create holds the process, start runs it, the pid's
# exit status is the container's, stdio is the engine's pipes or a pty over --console-socket.
# The process, mounts, limits, hooks, exec, ps, kill and delete, and no process left behind.
. tests/integration/lib.sh

oci_guest_suite "oci"
CONMON="python3 $TESTS_DIR/helpers/oci-conmon.py"
rt() { timeout 300 "$RT" --root "$S" "$@"; }

# bundle NAME: a bundle whose root folder holds the static busybox and its applets, with
# a config.json as engines write it (process.args sh) that the cases then edit with jq.
bundle() {
	b="$T/$1"
	mkdir -p "$b/rootfs/bin" "$b/rootfs/etc" "$b/rootfs/tmp" "$b/rootfs/proc" "$b/rootfs/sys" "$b/rootfs/dev"
	cp /bin/busybox "$b/rootfs/bin/busybox"
	for a in $(/bin/busybox --list); do [ -e "$b/rootfs/bin/$a" ] || ln -s busybox "$b/rootfs/bin/$a"; done
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/tmp:/bin/sh\n' >"$b/rootfs/etc/passwd"
	printf 'root:x:0:\nuser:x:1000:\nextra:x:2000:\n' >"$b/rootfs/etc/group"
	jq -n '{ociVersion: "1.0.2", root: {path: "rootfs"}, hostname: "oci",
		process: {terminal: false, user: {uid: 0, gid: 0}, args: ["sh"], cwd: "/",
			env: ["PATH=/bin"]},
		mounts: [{destination: "/proc", type: "proc", source: "proc"},
			{destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "mode=755"]},
			{destination: "/dev/pts", type: "devpts", source: "devpts"},
			{destination: "/dev/shm", type: "tmpfs", source: "shm"},
			{destination: "/sys", type: "sysfs", source: "sysfs", options: ["ro"]}],
		linux: {namespaces: [{type: "pid"}, {type: "network"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}]}}' \
		>"$b/config.json"
}
edit() {	# NAME JQ-FILTER
	jq "$2" "$T/$1/config.json" >"$T/$1/c.json" && mv "$T/$1/c.json" "$T/$1/config.json"
}
field() { printf '%s' "$1" | jq -r "$2"; }

# --- one container through every field kind: process, mounts, the engine's /etc files, limits, hooks
bundle b1
mkdir -p "$T/share"
echo "from the host" >"$T/share/in"
chmod 1777 "$T/share" "$T/b1/rootfs"	# the process is uid 1000
printf '10.88.0.7\tweb web.example\n127.0.0.1\tlocalhost\n' >"$T/hosts"
printf 'search example.test\nnameserver 10.88.0.1\n' >"$T/resolv"
printf '#!/bin/sh\ncat >"%s/hook.$1"\n' "$T" >"$T/hook.sh"
chmod +x "$T/hook.sh"
edit b1 '.process.args = ["sh", "-c", "echo out; echo err >&2; read x; echo got=$x; echo host=$(hostname) cwd=$(pwd) id=$(id -u):$(id -g) groups=$(id -G) env=$GREETING; cat /mnt/in; echo written >/mnt/out; echo root-write >/written; grep -c . /proc/mounts >/dev/null && grep -w web /etc/hosts; grep nameserver /etc/resolv.conf; cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; df -k /scratch | tail -1 | tr -s \" \" | cut -d\" \" -f2; grep -E \"^(CapBnd|CapEff|NoNewPrivs)\" /proc/self/status | tr -s \"\\t\" \" \"; echo nofile=$(ulimit -n)/$(ulimit -Hn); exit 7"]
	| .process.cwd = "/tmp" | .process.env += ["GREETING=hello"]
	| .process.user = {uid: 1000, gid: 1000, additionalGids: [2000]}
	| .mounts += [{destination: "/mnt", type: "bind", source: "'"$T/share"'", options: ["rbind"]},
		{destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["size=2m", "mode=1777"]},
		{destination: "/etc/hosts", type: "bind", source: "'"$T/hosts"'", options: ["bind", "ro"]},
		{destination: "/etc/resolv.conf", type: "bind", source: "'"$T/resolv"'", options: ["bind"]}]
	| .process.capabilities = {bounding: ["CAP_CHOWN", "CAP_KILL"], permitted: ["CAP_KILL"], effective: ["CAP_KILL"]}
	| .process.rlimits = [{type: "RLIMIT_NOFILE", soft: 100, hard: 200}] | .process.noNewPrivileges = true
	| .linux.resources = {memory: {limit: 67108864}, pids: {limit: 99}}
	| .hooks = {prestart: [{path: "'"$T/hook.sh"'", args: ["hook.sh", "prestart"]}],
		poststart: [{path: "'"$T/hook.sh"'", args: ["hook.sh", "poststart"]}],
		poststop: [{path: "'"$T/hook.sh"'", args: ["hook.sh", "poststop"]}]}'
res=$($CONMON "$RT" "$S" "$T/b1" c1 --stdin "line1
") 
expect_eq "create: exit 0, state created with the pid of --pid-file, the bundle" "0 created true $T/b1" \
	"$(field "$res" '"\(.create_rc) \(.state_created) \(.state_pid_is_pid_file) \(.state_bundle)"')"
expect_eq "start: exit 0" "0" "$(field "$res" '.start_rc')"
expect_eq "the pid's exit status is the container's" "7" "$(field "$res" '.exit')"
expect_eq "stderr is the engine's stderr pipe, nothing of vmm's own in it" "err" "$(field "$res" '.err')"
want="out
got=line1
host=oci cwd=/tmp id=1000:1000 groups=1000 2000 env=hello
from the host
10.88.0.7	web
10.88.0.7	web.example
nameserver 10.88.0.1
67108864
99
2048
CapEff: 0000000000000000
CapBnd: 0000000000000021
NoNewPrivs: 1
nofile=100/200"
expect_eq "stdout: stdin read, hostname, cwd, uid:gid, groups, env, the bind mount, the engine's hosts and resolv.conf, memory and pids limits, the tmpfs size, capabilities, no_new_privs, rlimits" \
	"$(echo "$want" | tr '\n' '|')" "$(field "$res" '.out' | sed '/^$/d' | tr '\n' '|')"
expect_eq "the bind mount is the host folder, both ways" "written" "$(cat "$T/share/out" 2>&1)"
expect_eq "the root is the bundle's folder: the container's write is in it" "root-write" "$(cat "$T/b1/rootfs/written" 2>&1)"
expect_eq "state after the exit: stopped" "stopped" "$(field "$res" '.state_after')"
expect_eq "prestart and poststart hooks ran with the state on stdin" "c1 created c1 running" \
	"$(jq -r '"\(.id) \(.status)"' "$T/hook.prestart" "$T/hook.poststart" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
out=$(rt delete c1 2>&1); rc=$?
expect_eq "delete of a stopped container: exit 0; the poststop hook ran" "0 c1 stopped" \
	"$rc $(jq -r '"\(.id) \(.status)"' "$T/hook.poststop" 2>&1)"
out=$(rt state c1 2>&1); rc=$?
expect_eq "deleted: state says it does not exist" "1 vmm: error: container c1 does not exist" "$rc $out"

# --- a running container: exec (args, --process, --detach with --pid-file), ps, kill, delete
bundle b2
edit b2 '.process.args = ["sh", "-c", "trap \"echo got TERM; exit 143\" TERM; echo ready; while :; do sleep 1; done"]'
cat >"$T/proc.json" <<EOF
{"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "echo from-process-file \$X; exit 4"],
 "env": ["PATH=/bin", "X=x1"], "cwd": "/etc"}
EOF
res=$($CONMON "$RT" "$S" "$T/b2" c2 --during '
	r="'"$RT"' --root '"$S"'"
	echo "exec: $($r exec $ID cat /etc/hostname 2>&1) rc=$?"
	$r exec $ID sh -c "exit 5"; echo "exec-status: $?"
	out=$($r exec --process '"$T"'/proc.json $ID 2>&1); echo "process: $out rc=$?"
	$r exec --detach --pid-file '"$T"'/exec.pid $ID sh -c "echo detached >/tmp/d"; echo "detach: $? pidfile=$(test -s '"$T"'/exec.pid && echo yes)"
	timeout 120 sh -c "until $r exec $ID cat /tmp/d 2>/dev/null; do :; done"
	echo "ps: $($r ps --format json $ID | jq length) $($r ps $ID | head -1 | tr -s " ")"
	$r pause $ID; echo "pause: $? $($r state $ID | jq -r .status) $($r pause $ID 2>&1)"
	$r resume $ID; echo "resume: $? $($r state $ID | jq -r .status) $($r exec $ID echo alive 2>&1)"
	echo "start-again: $($r start $ID 2>&1)"
	echo "delete-running: $($r delete $ID 2>&1)"
	$r kill $ID TERM; echo "kill: $?"
	echo "kill-bad: $($r kill $ID NOSUCH 2>&1)"')
expect_eq "exec runs in the container; its exit status is its own" "exec: oci rc=0
exec-status: 5" "$(field "$res" '.during' | sed -n '1,2p')"
expect_eq "exec --process: a process.json's args, env and cwd" "process: from-process-file x1 rc=4" \
	"$(field "$res" '.during' | sed -n 3p)"
expect_eq "exec --detach: exit 0 at once, its pid in --pid-file, and it ran" "detach: 0 pidfile=yes
detached" "$(field "$res" '.during' | sed -n '4,5p')"
expect_match "ps: the guest's processes, JSON and a table" '^ps: [1-9][0-9]* UID PID TIME CMD$' \
	"$(field "$res" '.during' | sed -n 6p)"
expect_eq "pause: state paused; pausing again is refused with one line" "pause: 0 paused vmm: error: container c2 is paused already" \
	"$(field "$res" '.during' | sed -n 7p)"
expect_eq "resume: state running, and it runs" "resume: 0 running alive" "$(field "$res" '.during' | sed -n 8p)"
expect_eq "start of a running container: refused" "start-again: vmm: error: container c2 is running, not created: it cannot start" \
	"$(field "$res" '.during' | sed -n 9p)"
expect_eq "delete of a running container without --force: refused" "delete-running: vmm: error: container c2 is running: stop it first, or delete --force" \
	"$(field "$res" '.during' | sed -n 10p)"
expect_eq "kill TERM: the container's process gets it" "kill: 0" "$(field "$res" '.during' | sed -n 11p)"
expect_eq "kill with a bad signal: one line" "kill-bad: vmm: error: kill: signal NOSUCH: want a name (TERM, SIGKILL) or a number" \
	"$(field "$res" '.during' | sed -n 12p)"
expect_eq "the trap ran and its status is the pid's" "ready|got TERM|143" "$(field "$res" '"\(.out | gsub("\n"; "|"))\(.exit)"')"
check "delete: exit 0" rt delete c2

# --- a terminal over --console-socket, and a read-only root
bundle b3
edit b3 '.process.terminal = true | .root.readonly = true
	| .process.args = ["sh", "-c", "read x; echo tty=$(tty) got=$x; touch /x 2>/dev/null || echo read-only; exit 3"]'
res=$($CONMON "$RT" "$S" "$T/b3" c3 --console --stdin "typed
")
expect_eq "terminal: the pty's master came over --console-socket" "0 true" "$(field "$res" '"\(.create_rc) \(.console_fd)"')"
expect_match "terminal: the process's stdio is a pty, what the engine typed reached it" 'tty=/dev/pts/[0-9]+ got=typed' \
	"$(field "$res" '.tty')"
expect_match "root.readonly: the bundle's root cannot be written" 'read-only' "$(field "$res" '.tty')"
expect_eq "terminal: the exit status" "3" "$(field "$res" '.exit')"
[ -e "$T/b3/rootfs/x" ] && fail "read-only root: nothing written" "$T/b3/rootfs/x exists" || pass "read-only root: nothing written"
check "delete (terminal)" rt delete c3

# --- created, never started: kill and delete end its VM
bundle b4
res=$($CONMON "$RT" "$S" "$T/b4" c4 --no-start)
pid=$(field "$res" '.pid')
expect_eq "created: its vmm process waits" "created yes" "$(field "$res" '.state_created') $(kill -0 "$pid" 2>/dev/null && echo yes)"
out=$(rt create --bundle "$T/b4" c4 2>&1); rc=$?
expect_eq "create of an ID in use: one line" "1 vmm: error: container c4 exists" "$rc $out"
check "delete of a created container (no --force needed)" rt delete c4
timeout 60 tail --pid="$pid" -f /dev/null
expect_eq "... and its vmm process is gone" "gone" "$(kill -0 "$pid" 2>/dev/null && echo alive || echo gone)"
# --- a prestart hook that fails: create fails, its VM ends, nothing is left
bundle b5
edit b5 '.hooks = {prestart: [{path: "/bin/false"}]}'
out=$(rt create --bundle "$T/b5" c5 2>&1); rc=$?
expect_eq "create with a failing prestart hook: exit 1, one line" "1 vmm: error: prestart hook /bin/false: exit status 1" "$rc $out"
out=$(rt state c5 2>&1); rc=$?
expect_eq "... and nothing is left of it" "1 vmm: error: container c5 does not exist" "$rc $out"

expect_eq "delete leaves no container and no control socket folder in --root" "" \
	"$(ls "$S/containers" "$S/run" 2>/dev/null | grep -v '^/\|^$')"
