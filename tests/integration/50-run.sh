#!/bin/sh
# vmm run and the container lifecycle, on real guests. Boots are slow on
# emulating hosts, so one detached container serves every check exec can make.
. tests/integration/lib.sh

guest_suite "run"

cleanup_hook() {
	for id in $("$VMM" ps -q 2>/dev/null); do "$VMM" rm -f "$id" >/dev/null 2>&1; done
}

# --- foreground runs ------------------------------------------------------
out=$(v run --rm busybox echo hello from a container 2>"$T/err"); rc=$?
expect_eq "run: echo output" "hello from a container" "$out"
expect_eq "run: exit 0" 0 "$rc"
expect_eq "run --rm: nothing left behind" "" "$(ls "$VMM_ROOT/containers" 2>/dev/null | grep -v '^\.')"

v run --rm busybox sh -c 'echo out; echo err >&2; exit 42' >"$T/o" 2>"$T/e"; rc=$?
expect_eq "run: exit 42" 42 "$rc"
expect_eq "run: stdout kept apart" "out" "$(cat "$T/o")"
expect_eq "run: stderr kept apart" "err" "$(cat "$T/e")"

out=$(v run --rm busybox no-such-command 2>&1); rc=$?
expect_eq "run: command not found exits 127" 127 "$rc"
expect_match "run: not found says so" 'executable file not found' "$out"
expect_eq "run: a failed start leaves nothing" "" "$(ls "$VMM_ROOT/containers" 2>/dev/null | grep -v '^\.')"

# Image config and overrides: entrypoint, cmd, env, workdir, user.
head -c 3000000 /dev/urandom >"$T/stdin.bin"
want=$(md5sum <"$T/stdin.bin" | cut -d' ' -f1)
out=$(v run --rm -i --entrypoint /bin/sh -e GREETING=hi -e HOME -w /tmp -u nobody busybox \
	-c 'echo "$GREETING $(pwd) $(id -un) $HOME"; md5sum' <"$T/stdin.bin" 2>&1)
expect_match "run: --entrypoint, -e, -w, -u applied" "^hi /tmp nobody $HOME\$" "$(echo "$out" | head -1)"
expect_eq "run -i: stdin arrives intact (3 MB md5)" "$want  -" "$(echo "$out" | tail -1)"

# The hog asks for 64 MiB at once (dd's buffer): a shell doubling a string thrashes its own
# text pages for minutes where the guest kernel is emulated before the OOM killer comes.
out=$(v run --rm --memory 32m busybox sh -c 'cat /sys/fs/cgroup/memory.max; dd if=/dev/zero of=/dev/null bs=64M count=1' 2>&1); rc=$?
expect_match "run --memory: memory.max shows the limit" "^33554432" "$out"
expect_eq "run --memory: a memory hog is killed with 137" 137 "$rc"

# -t: a terminal session driven through tmux (prompt, command, window size).
if command -v tmux >/dev/null; then
	sock="$T/tmux.sock"
	tmux -S "$sock" new-session -d -x 100 -y 30 "VMM_ROOT=$VMM_ROOT VMM_RUNTIME=$VMM_RUNTIME $VMM run --rm -it busybox sh; echo TTY-DONE rc=\$?; sleep 60"
	waitfor() {	# pattern, seconds
		i=0
		while [ $i -lt $(($2 * 10)) ]; do
			tmux -S "$sock" capture-pane -p 2>/dev/null | grep -Eq -- "$1" && return 0
			i=$((i + 1)); sleep 0.1
		done
		return 1
	}
	if waitfor '^/ #' "$RUN_TIMEOUT"; then pass "run -it: shell prompt appears"; else fail "run -it: shell prompt appears" "$(tmux -S "$sock" capture-pane -p | tail -3)"; fi
	tmux -S "$sock" send-keys 'echo sum=$((40+2)); stty size' Enter
	if waitfor 'sum=42' 120; then pass "run -it: typed command runs"; else fail "run -it: typed command runs" "$(tmux -S "$sock" capture-pane -p | tail -3)"; fi
	if waitfor '^30 100' 60; then pass "run -it: window size reaches the guest"; else fail "run -it: window size reaches the guest" "$(tmux -S "$sock" capture-pane -p | tail -3)"; fi
	tmux -S "$sock" send-keys 'exit 7' Enter
	if waitfor 'TTY-DONE rc=7' 120; then pass "run -it: exit status of the session"; else fail "run -it: exit status of the session" "$(tmux -S "$sock" capture-pane -p | tail -3)"; fi
	tmux -S "$sock" kill-server 2>/dev/null
else
	skip "run -it" "tmux not installed"
fi

# --- one detached container for everything exec can check -------------------
id=$(v run -d --name box --hostname boxhost busybox sh -c 'echo started; while :; do sleep 5; done' 2>"$T/err"); rc=$?
expect_eq "run -d: exits 0" 0 "$rc"
expect_match "run -d: prints the 64-hex ID" '^[0-9a-f]{64}$' "$id"
expect_match "ps: lists it as Up" "^${id%"${id#????????????}"} .*Up .* box$" "$("$VMM" ps)"
expect_eq "ps -q: short ID" "$(echo "$id" | cut -c1-12)" "$("$VMM" ps -q)"
i=0; while [ $i -lt 600 ] && ! "$VMM" logs box | grep -q started; do i=$((i + 1)); sleep 0.2; done
expect_match "logs: its output" "^started" "$("$VMM" logs box)"
when=$("$VMM" logs -t box | sed -n 's/ started$//p' | head -1)	# 2026-12-03T07:01:40.123456789Z
after=$(python3 -c '
import datetime, sys
base, frac = sys.argv[1][:-1].split(".")
f = int(frac.ljust(9, "0")) + 1
d = datetime.datetime.fromisoformat(base) + datetime.timedelta(seconds=f // 10**9)
print(d.strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % (f % 10**9))' "$when")	# 1 ns later
expect_eq "logs --since: a line logged at that time" "started" "$("$VMM" logs --since "$when" box)"
expect_eq "logs --since: not one logged before" "" "$("$VMM" logs --since "$after" box)"
expect_eq "logs --until: not a line logged at that time" "" "$("$VMM" logs --until "$when" box)"
expect_eq "logs --until: one logged before" "started" "$("$VMM" logs --until "$after" box)"
expect_eq "logs --since 1h: relative to now" "started" "$("$VMM" logs --since 1h box)"
expect_eq "logs --since: unix seconds" "" "$("$VMM" logs --since "$(($(date +%s) + 60))" box)"
out=$("$VMM" logs --since yesterday box 2>&1); rc=$?
expect_match "logs --since: a bad time, named, exit 125" "^125 .*--since yesterday: a time" "$rc $out"
expect_match "inspect: running state" '"Running": ?true' "$("$VMM" inspect box)"

out=$(v exec box sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; hostname; ps -o pid,comm | wc -l')
expect_match "exec: PID 1 is the container's command" "^sh -c echo started" "$(echo "$out" | sed -n 1p)"
expect_eq "run --hostname: seen by the container" "boxhost" "$(echo "$out" | sed -n 2p)"
nproc_lines=$(echo "$out" | sed -n 3p)
if [ "$nproc_lines" -le 6 ]; then pass "exec: ps sees only the container's processes"; else
	fail "exec: ps sees only the container's processes" "$nproc_lines lines"; fi
v exec box sh -c 'exit 1'; expect_eq "exec: exit 1" 1 "$?"
v exec box /etc/passwd 2>/dev/null; expect_eq "exec: not executable exits 126" 126 "$?"
v exec box sh -c 'echo shared > /root/marker'
expect_eq "exec: sees the same filesystem" "shared" "$(v exec box cat /root/marker)"
out=$(VMM_EXEC_TEST=from-host v exec -e VMM_EXEC_TEST -e EXTRA=x box sh -c 'echo "$VMM_EXEC_TEST $EXTRA"')
expect_eq "exec -e KEY: takes our value, as run -e KEY does" "from-host x" "$out"
out=$(v exec -d box sh -c 'sleep 1; echo detached > /root/bg'); rc=$?
expect_eq "exec -d: returns once it started, printing nothing" "0 " "$rc $out"
expect_eq "exec -d: the process goes on after vmm returned" "detached" \
	"$(timeout 120 "$VMM" exec box sh -c 'while [ ! -e /root/bg ]; do sleep 0.1; done; cat /root/bg' 2>&1)"
out=$(v exec -d box nosuchcmd 2>&1); rc=$?
expect_eq "exec -d: a command not found is 127, with docker's message" \
	'127 vmm: error: exec: "nosuchcmd": executable file not found in $PATH' "$rc $out"
expect_match "top: lists the processes" "sh -c echo started" "$("$VMM" top box)"
# confinement (docs/sandbox.md): the running VMM's vCPU thread has no_new_privs and its seccomp
# filter; the test-only probe shows what that filter refuses a hijacked vCPU thread
pid=$(vmm_of "$("$VMM" inspect -f '{{.State.Pid}}' box)")
out=$(for t in /proc/"$pid"/task/*; do [ "$(cat "$t/comm" 2>/dev/null)" = vcpu0 ] &&
	grep -E '^(NoNewPrivs|Seccomp):' "$t/status"; done | tr -s '\t' ' ' | tr '\n' ' ')
expect_eq "confinement: the VMM's vcpu0 runs with no_new_privs and a seccomp filter" "NoNewPrivs: 1 Seccomp: 2 " "$out"
expect_eq "confinement: the VMM dumps no core (the guest's memory stays off the disk)" "0 0" \
	"$(awk '/^Max core file size/ { print $5, $6 }' "/proc/$pid/limits")"
expect_eq "confinement: a vCPU thread's execve, open and socket fail with EPERM; KVM's ioctls pass" \
	"execve=EPERM open=EPERM socket=EPERM kvm_ioctl=EBADF other_ioctl=EPERM" \
	"$("$BUILD/tests/confine-probe" | grep -E '^(execve|open|socket|kvm_ioctl|other_ioctl)=' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "stats without --no-stream: a table each refresh, until stopped" 2 \
	"$(timeout "$RUN_TIMEOUT" "$VMM" stats box | grep -m2 -c '^CONTAINER ID')"

# stats: the host's counters (CPU, network, disk) and the guest's (memory, PIDs)
bytes() {	# docker's sizes back to bytes: 1.5MiB, 12.3kB, 0B
	python3 -c 'import re,sys; m = re.fullmatch(r"([0-9.]+)([kMGT]?i?)B", sys.argv[1]); print(int(float(m[1]) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 1024, "Mi": 1 << 20, "Gi": 1 << 30}[m[2]]) if m else -1)' "$1"
}
stat_field() { "$VMM" stats --no-stream --format "{{.$1}}" box; }
out=$("$VMM" stats --no-stream box); rc=$?
expect_eq "stats: exits 0" 0 "$rc"
expect_match "stats: docker's header" '^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$' "$(echo "$out" | sed -n 1p)"
expect_match "stats: a row for box" "^$(echo "$id" | cut -c1-12) +box +[0-9.]+% +[0-9.]+[KMG]iB / [0-9.]+[KMG]iB +[0-9.]+% +[0-9.]+[kMG]?B / [0-9.]+[kMG]?B +[0-9.]+[kMG]?B / [0-9.]+[kMG]?B +[0-9]+$" "$(echo "$out" | sed -n 2p)"
total_kb=$(v exec box awk '/^MemTotal/ { print $2 }' /proc/meminfo)
expect_eq "stats: the memory limit is the guest's RAM (no --memory)" \
	"$(python3 -c "print('%.4gMiB' % ($total_kb / 1024))")" "$(stat_field MemUsage | sed 's/.* \/ //')"
pids=$(stat_field PIDs)
if [ "$pids" -ge 1 ] && [ "$pids" -le 3 ]; then pass "stats: PIDs counts the container's (sh and its sleep)"; else
	fail "stats: PIDs counts the container's (sh and its sleep)" "$pids"; fi
written=$(bytes "$(stat_field BlockIO | sed 's/.* \/ //')")
v exec box sh -c 'dd if=/dev/zero of=/root/blob bs=64k count=4 2>/dev/null && sync'
now=$(bytes "$(stat_field BlockIO | sed 's/.* \/ //')")
# (sizes are shown to 3 digits: 256 KiB is at least 200 kB more)
if [ "$now" -ge $((written + 200000)) ]; then pass "stats: BLOCK I/O counts a 256 KiB write"; else
	fail "stats: BLOCK I/O counts a 256 KiB write" "$written -> $now"; fi
sent=$(bytes "$(stat_field NetIO | sed 's/.* \/ //')")
v exec box ping -c 1 -W 2 10.0.2.2 >/dev/null 2>&1
now=$(bytes "$(stat_field NetIO | sed 's/.* \/ //')")
if [ "$now" -gt "$sent" ]; then pass "stats: NET I/O counts what the guest sent"; else
	fail "stats: NET I/O counts what the guest sent" "$sent -> $now"; fi
expect_match "stats --format json: docker's keys" '^\{"Container":"box","ID":"[0-9a-f]{12}","Name":"box","CPUPerc":"[0-9.]+%".*"PIDs":"[0-9]+"' \
	"$("$VMM" stats --no-stream --format json box)"
out=$("$VMM" stats --no-stream nosuch 2>&1); rc=$?
expect_eq "stats: an unknown container" "1 vmm: error: no such container: nosuch" "$rc $out"
out=$("$VMM" stats --no-stream --format '{{' box 2>&1); rc=$?
expect_match "stats: a bad template exits 125" "^125 vmm: error: template" "$rc $out"
out=$("$VMM" rm box 2>&1); rc=$?
expect_match "rm: a running container needs -f" "is running.*rm -f" "$out"
expect_eq "rm: refused with exit 1" 1 "$rc"

# attach: the output from now on, our signals to its process, and its status at the end
v run -d --name att busybox sh -c 'trap "echo got INT; exit 3" INT; echo up; while :; do sleep 1; done' >/dev/null
i=0; while [ $i -lt 600 ] && ! "$VMM" logs att | grep -q up; do i=$((i + 1)); sleep 0.2; done
attach_following() {	# PID of a `timeout vmm attach`: wait until it follows the log; its vmm pid in $apid
	i=0	# attach reads the log from its end, then waits on inotify: from then on it sees all
	while [ $i -lt 300 ]; do
		apid=$(pgrep -P "$1")
		[ -n "$apid" ] && ls -l "/proc/$apid/fd" 2>/dev/null | grep -q inotify && break
		i=$((i + 1)); sleep 0.1
	done
}
timeout "$RUN_TIMEOUT" "$VMM" attach att >"$T/attach.out" 2>&1 &
attach_pid=$!
attach_following $attach_pid
v exec att sh -c 'echo hello-attach > /proc/1/fd/1'
i=0; while [ $i -lt 600 ] && ! grep -q hello-attach "$T/attach.out"; do i=$((i + 1)); sleep 0.1; done
kill -INT "$apid" 2>/dev/null
wait "$attach_pid"; rc=$?
expect_eq "attach: what the container writes from now on (not before), then SIGINT passed on" \
	"hello-attach got INT 3" "$(tr '\n' ' ' <"$T/attach.out")$rc"
out=$("$VMM" attach att 2>&1); rc=$?
expect_eq "attach to a stopped container: docker's refusal" \
	"1 vmm: error: you cannot attach to a stopped container, start it first" "$rc $out"
out=$("$VMM" attach --detach-keys ctrl-xx att 2>&1); rc=$?
expect_match "attach --detach-keys: a bad key, named" "^125 vmm: error: .*--detach-keys ctrl-xx" "$rc $out"
"$VMM" rm att >/dev/null

# attach passes its stdin to a container made with -i; its EOF leaves that stdin open for the next
v run -di --name atin busybox sh -c 'while read l; do echo "got $l"; done; echo stdin-closed' >/dev/null
printf 'three\n' | timeout "$RUN_TIMEOUT" "$VMM" attach --no-stdin atin >"$T/nostdin.out" 2>&1 &
nostdin_pid=$!
attach_following $nostdin_pid
printf 'one\n' | timeout "$RUN_TIMEOUT" "$VMM" attach atin >"$T/atin1.out" 2>&1 &
at1=$!
i=0; while [ $i -lt 600 ] && ! grep -q "got one" "$T/atin1.out"; do i=$((i + 1)); sleep 0.1; done
expect_eq "attach: our stdin reaches the container's process (run -di)" "got one" "$(cat "$T/atin1.out")"
check "attach: our stdin's EOF leaves the container running" kill -0 $at1
kill -9 $(pgrep -P $at1) $at1 2>/dev/null; wait $at1 2>/dev/null	# vmm under timeout(1) too
# on a terminal (script(1) gives attach one), ctrl-p ctrl-q detach, after what came before them
mkfifo "$T/keys"
(timeout "$RUN_TIMEOUT" script -qfec "$VMM attach atin" /dev/null <"$T/keys" >"$T/keys.out" 2>&1
 echo "rc=$?" >>"$T/keys.out") &
keys_pid=$!
exec 3>"$T/keys"
i=0; while [ $i -lt 300 ]; do
	p=$(pgrep -f "^$VMM attach atin\$")
	[ -n "$p" ] && ls -l "/proc/$p/fd" 2>/dev/null | grep -q inotify && break
	i=$((i + 1)); sleep 0.1
done
printf 'keyed\n\020\021' >&3
wait $keys_pid; exec 3>&-
expect_eq "attach on a terminal: ctrl-p ctrl-q detach, docker's words, exit 0" "read escape sequence rc=0" \
	"$(grep -v '^got' "$T/keys.out" | tr -d '\r' | tr '\n' ' ' | sed 's/ $//')"
i=0; while [ $i -lt 600 ] && ! "$VMM" logs atin | grep -q "got keyed"; do i=$((i + 1)); sleep 0.1; done
expect_eq "attach on a terminal: what came before the keys went in, and the container runs on" "got keyed running" \
	"$("$VMM" logs atin | grep keyed) $("$VMM" inspect -f '{{.State.Status}}' atin)"
out=$(printf 'two\n' | timeout "$RUN_TIMEOUT" "$VMM" attach atin 2>&1 & p=$!
	i=0; while [ $i -lt 600 ] && ! "$VMM" logs atin | grep -q "got two"; do i=$((i + 1)); sleep 0.1; done
	"$VMM" kill atin >/dev/null; wait $p; echo "rc=$?")
expect_eq "attach: a second attach writes to the same open stdin, then ends with the status" \
	"got two rc=137" "$(echo $out)"
wait $nostdin_pid
expect_eq "attach --no-stdin: its input went nowhere" "got one got keyed got two" "$("$VMM" logs atin | tr '\n' ' ' | sed 's/ $//')"
"$VMM" rm atin >/dev/null

# pause: the whole VM stops (its vCPU threads take no CPU time), unpause lets it go on.
vcpu_ticks() {	# PID: the CPU time, in clock ticks, of the vmm process's vCPU threads
	ticks=0
	for task in /proc/"$1"/task/*; do
		case $(cat "$task/comm" 2>/dev/null) in vcpu[0-9]*) ;; *) continue ;; esac
		ticks=$((ticks + $(cut -d')' -f2 "$task/stat" | awk '{print $12 + $13}')))
	done
	echo "$ticks"
}
spins() {	# PID TICKS: wait (60 s at most) until its vCPUs took TICKS more than now
	from=$(vcpu_ticks "$1"); i=0
	while [ "$(vcpu_ticks "$1")" -lt $((from + $2)) ]; do
		i=$((i + 1)); [ $i -gt 600 ] && return 1; sleep 0.1
	done
}
runner=$(vmm_of "$(sed -n 's/.*"Pid": *\([0-9]*\).*/\1/p' "$VMM_ROOT/containers/$id/state.json")")
v exec box sh -c 'while :; do :; done' >/dev/null 2>&1 &
spin=$!
spins "$runner" 30 || fail "pause: a spinning guest uses CPU time" "$(vcpu_ticks "$runner") ticks"
"$VMM" events --filter container=box --filter container=evready --format '{{.Action}} {{.Actor.Attributes.name}}' \
	>"$T/ev" 2>&1 &
events=$!
# its watch is up once it saw a create (loaded, it may take a while to start)
"$VMM" create --name evready busybox true >/dev/null
i=0; while ! grep -q "create evready" "$T/ev" && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.1; done
"$VMM" rm evready >/dev/null
check "pause: pauses it" "$VMM" pause box
expect_match "pause: ps shows it paused" "Up .* \(Paused\) .* box$" "$("$VMM" ps)"
expect_eq "pause: inspect's State" "paused true true" "$("$VMM" inspect -f '{{.State.Status}} {{.State.Running}} {{.State.Paused}}' box)"
expect_eq "pause: ps -f status=paused" "box" "$("$VMM" ps -f status=paused --format '{{.Names}}')"
out=$("$VMM" info)
expect_eq "info: counts it as running and paused, as docker info does" " Containers: 1|  Running: 0|  Paused: 1|  Stopped: 0" \
	"$(echo "$out" | sed -n '2,5p' | tr '\n' '|' | sed 's/|$//')"
expect_eq "info -f: the Engine API's fields" "1 1 $("$VMM" images -q | sort -u | wc -l)" \
	"$("$VMM" system info -f '{{.ContainersPaused}} {{.Containers}} {{.Images}}')"
expect_eq "pause: stats shows -- for what only the guest knows" "-- / -- -- --" \
	"$(timeout 60 "$VMM" stats --no-stream --format '{{.MemUsage}} {{.MemPerc}} {{.PIDs}}' box)"
out=$("$VMM" pause box 2>&1); rc=$?
expect_eq "pause: twice is refused" "1 vmm: error: container box is already paused" "$rc $out"
out=$("$VMM" exec box true 2>&1); rc=$?
expect_match "pause: exec refused until unpause" "container box is paused, unpause the container before exec" "$out"
before=$(vcpu_ticks "$runner")
sleep 2	# a window in which a running guest would spin
expect_eq "pause: the VM's vCPUs take no CPU time while paused" "$before" "$(vcpu_ticks "$runner")"
check "unpause: lets it go on" "$VMM" unpause box
if spins "$runner" 30; then pass "unpause: the guest runs again"; else
	fail "unpause: the guest runs again" "no CPU time after unpause"; fi
out=$("$VMM" unpause box 2>&1); rc=$?
expect_eq "unpause: a container that is not paused" "1 vmm: error: container box is not paused" "$rc $out"
i=0; while ! grep -q unpause "$T/ev" && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
kill "$events" "$spin" 2>/dev/null; wait "$events" "$spin" 2>/dev/null
expect_eq "events: pause and unpause" "pause unpause" "$(sed -n 's/^\(pause\|unpause\) box$/\1/p' "$T/ev" | tr '\n' ' ' | sed 's/ $//')"

# cp both ways
mkdir -p "$T/cpin/sub" && echo "file one" >"$T/cpin/a.txt" && echo "deep" >"$T/cpin/sub/b.txt"
check "cp: host directory into the container" "$VMM" cp "$T/cpin" box:/tmp/
expect_eq "cp: copied files readable inside" "file one deep" "$(v exec box sh -c 'cat /tmp/cpin/a.txt /tmp/cpin/sub/b.txt' | tr '\n' ' ' | sed 's/ $//')"
check "cp: container file to the host" "$VMM" cp box:/root/marker "$T/marker.out"
expect_eq "cp: content out" "shared" "$(cat "$T/marker.out" 2>/dev/null)"

# stop, start: the filesystem survives; the VM is booted again
"$VMM" pause box >/dev/null
check "stop: stops it (paused: it runs again to take the signal, as docker's)" v stop -t 2 box
expect_match "stop: shown as exited" "Exited \(137\)" "$("$VMM" ps -a)"
expect_eq "stats: a stopped container shows zeros" "box 0.00% 0B / 0B 0B / 0B 0" \
	"$("$VMM" stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.NetIO}} {{.PIDs}}' box)"
expect_eq "stats: without -a, only running ones" "" "$("$VMM" stats --no-stream --format '{{.Name}}')"
check "start: boots it again" v start box
expect_eq "start: file written before the stop still there" "shared" "$(v exec box cat /root/marker)"

# A killed vmm process is no ghost: the container shows as exited.
pid=$(sed -n 's/.*"Pid": *\([0-9]*\).*/\1/p' "$VMM_ROOT/containers/$id/state.json")
kill -9 "$pid"
tries=0; while kill -0 "$pid" 2>/dev/null && [ $tries -lt 100 ]; do tries=$((tries + 1)); sleep 0.1; done
expect_match "kill -9 of the vmm process: ps -a shows exited" "Exited \(137\)" "$("$VMM" ps -a)"
expect_eq "kill -9 of the vmm process: not listed as running" "" "$("$VMM" ps -q)"

# --restart: the container's vmm process runs it again, with docker's backoff
v run -d --name r1 --restart on-failure:2 busybox sh -c 'echo run; exit 3' >/dev/null
expect_eq "restart on-failure:2: vmm wait sees the last run's status" "3" "$(v wait r1)"
expect_eq "restart on-failure:2: three runs in the log" "run run run" "$("$VMM" logs r1 | tr '\n' ' ' | sed 's/ $//')"
expect_eq "restart on-failure:2: inspect's RestartCount and RestartPolicy" "2 on-failure 2 exited false" \
	"$("$VMM" inspect -f '{{.RestartCount}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}} {{.State.Status}} {{.State.Restarting}}' r1)"
out=$(v run --name r2 --restart on-failure:1 busybox sh -c 'echo go; exit 5' 2>&1); rc=$?
expect_eq "restart, attached: vmm run returns the first run's status, as docker run does" "5 go" "$rc $out"
expect_eq "restart, attached: the restart goes on in the background" "5 1" "$(v wait r2) $("$VMM" inspect -f '{{.RestartCount}}' r2)"
v run -d --name r3 --restart always busybox sh -c 'echo run; exit 0' >/dev/null
i=0; while [ "$("$VMM" inspect -f '{{.RestartCount}}' r3)" = 0 ] && [ $i -lt 1200 ]; do i=$((i + 1)); sleep 0.1; done
check "restart always: runs again after a clean exit" test "$("$VMM" inspect -f '{{.RestartCount}}' r3)" -ge 1
check "restart always: vmm stop stops it for good" v stop -t 2 r3
expect_eq "restart always: after vmm stop, no vmm process holds it" "exited false unlocked" \
	"$("$VMM" inspect -f '{{.State.Status}} {{.State.Restarting}}' r3) $(flock -n "$VMM_ROOT/containers/$("$VMM" inspect -f '{{.Id}}' r3)/lock" true && echo unlocked || echo locked)"
# create, then start -a: its output and its status; unless-stopped runs it again until vmm stop
v create --name cs --restart unless-stopped busybox sh -c 'echo created then started; exit 3' >/dev/null
out=$(v start -a cs 2>&1); rc=$?
expect_eq "create, then start -a: its output and its status, as docker start -a" "3 created then started" "$rc $out"
i=0; while [ "$("$VMM" inspect -f '{{.RestartCount}}' cs)" = 0 ] && [ $i -lt 1200 ]; do i=$((i + 1)); sleep 0.1; done
check "restart unless-stopped: runs again after it exited" test "$("$VMM" inspect -f '{{.RestartCount}}' cs)" -ge 1
check "restart unless-stopped: vmm stop stops it" v stop -t 2 cs
expect_eq "restart unless-stopped: stopped for good" "exited false" "$("$VMM" inspect -f '{{.State.Status}} {{.State.Restarting}}' cs)"
"$VMM" rm r1 r2 r3 cs >/dev/null
out=$(v run --rm busybox /etc/passwd 2>&1); rc=$?
expect_match "run: a command that is not executable exits 126, named" "^126 vmm: error: .*/etc/passwd" "$rc $out"
# --init: PID 1 is an init; the command its child, which gets the signals
out=$(v run --rm --init busybox sh -c 'ps -o pid,comm | sed -n "2,3p" | tr -s " " | tr "\n" " "; exit 7' 2>&1); rc=$?
expect_eq "run --init: PID 1 is init, the command PID 2, its status ours" "7  1 init  2 sh " "$rc $out"
out=$(v run --rm --init busybox nosuchcmd 2>&1); rc=$?
expect_eq "run --init: a command not found is still 127" '127 vmm: error: exec: "nosuchcmd": executable file not found in $PATH' "$rc $out"
v run -d --name i1 --init busybox sleep 1000 >/dev/null
v stop -t 300 i1 >/dev/null	# sleep as PID 1 would ignore SIGTERM until the KILL 300 s later
expect_eq "run --init: vmm stop's SIGTERM reaches the command (128+15, not a kill)" "143 true" \
	"$("$VMM" inspect -f '{{.State.ExitCode}} {{.HostConfig.Init}}' i1)"
"$VMM" rm i1 >/dev/null
# --timeout: the VM stops with everything in it, exit 124 and one line, as timeout(1)
out=$(v run --rm --timeout 2s busybox sh -c 'echo started; sleep 600' 2>&1); rc=$?
expect_eq "run --timeout: one line, exit 124 (the sleep did not run its 600 s)" \
	"124 vmm: error: container X: timed out after 2 s: stopped" \
	"$rc $(echo "$out" | grep '^vmm:' | sed 's/container [^:]*:/container X:/')"
# --log-opt: the log rotates at max-size, max-file files are kept, logs -f follows across
lid=$(v run -d --name lg --log-opt max-size=4k --log-opt max-file=2 busybox sh -c \
	'i=0; while [ $i -lt 1000 ]; do echo line $i; i=$((i + 1)); done')
# (a follower slower than two rotations misses the file between, as docker's does)
out=$(timeout "$RUN_TIMEOUT" "$VMM" logs -f lg | sed 's/^line //')
expect_eq "logs -f across rotations: lines in order, to the last one" "ordered 999" \
	"$(echo "$out" | awk 'NR > 1 && $1 <= p { bad = 1 } { p = $1 } END { print (bad ? "unordered" : "ordered"), p }')"
expect_eq "--log-opt max-size=4k,max-file=2: two files, each at most 4 KiB" "2 yes" \
	"$(ls "$VMM_ROOT/containers/$lid"/container.log* | wc -l) $([ "$(cat "$VMM_ROOT/containers/$lid"/container.log* | wc -c)" -le 8192 ] && echo yes)"
"$VMM" rm lg >/dev/null
# --storage-opt size: a root disk of that size; when it is full the guest gets ENOSPC, and the
# host file stays within the size (fallocate fills it without the emulated kernel writing it)
out=$(v run --name so --storage-opt size=24m busybox sh -c 'df -k / | tail -1 | awk "{print \$2}"
	fallocate -l 64M /big 2>&1; rm -f /big; a=$(df -k / | tail -1 | awk "{print \$4}")
	fallocate -l $((a - 64))k /fill; dd if=/dev/zero of=/x bs=64k count=32 2>&1 | head -1' 2>&1); rc=$?
expect_eq "run --storage-opt size=24m: a smaller root, ENOSPC when full" \
	"0 fallocate: fallocate '/big': No space left on device dd: error writing '/x': No space left on device" \
	"$rc $(echo "$out" | sed 1d | tr '\n' ' ' | sed 's/ $//')"
check "run --storage-opt size=24m: ext4 of about 24 MiB" test "$(echo "$out" | head -1)" -gt 16000 -a "$(echo "$out" | head -1)" -lt 24577
expect_eq "run --storage-opt: inspect's HostConfig.StorageOpt" '{"size":"25165824"}' \
	"$("$VMM" inspect -f '{{json .HostConfig.StorageOpt}}' so)"
sid=$("$VMM" inspect -f '{{.Id}}' so)
check "run --storage-opt: the host file is below the disk's size" \
	test "$(du -k "$VMM_ROOT/containers/$sid/disk.qcow2" | cut -f1)" -lt 24576
"$VMM" rm so >/dev/null
out=$("$VMM" run --storage-opt size=1k busybox true 2>&1); rc=$?
expect_eq "run --storage-opt size=1k: too small, named, exit 125" \
	"125 vmm: error: --storage-opt size=1k: want a size from 16m to 16t (e.g. 10g) (see 'vmm run --help')" "$rc $out"
out=$("$VMM" run --storage-opt quota=1g busybox true 2>&1); rc=$?
expect_match "run --storage-opt: an unknown option, exit 125" "^125 vmm: error: --storage-opt quota: unknown option" "$rc $out"
out=$("$VMM" run --log-opt max-size=1 busybox true 2>&1); rc=$?
expect_match "run --log-opt: a bad size, named, exit 125" "^125 vmm: error: .*--log-opt max-size=1" "$rc $out"
out=$("$VMM" run --timeout soon busybox true 2>&1); rc=$?
expect_match "run --timeout: a bad duration, named, exit 125" "^125 vmm: error: .*--timeout soon" "$rc $out"
out=$("$VMM" run --restart sometimes busybox true 2>&1); rc=$?
expect_match "run --restart: a bad policy, named, exit 125" "^125 vmm: error: .*invalid restart policy 'sometimes'" "$rc $out"
out=$("$VMM" run --restart always:3 busybox true 2>&1); rc=$?
expect_match "run --restart always:3: only on-failure takes a count" "^125 .*only on-failure takes a maximum retry count" "$rc $out"
out=$("$VMM" run --rm --restart always busybox true 2>&1); rc=$?
expect_match "run --rm --restart: conflicting, exit 125" "^125 .*cannot specify both --restart and --rm" "$rc $out"

# --- bad input -------------------------------------------------------------
out=$("$VMM" run --rm no-such-image true 2>&1); rc=$?
expect_eq "run: unknown image exits 125" 125 "$rc"
expect_match "run: unknown image named" "no-such-image" "$out"
out=$("$VMM" run --name box busybox true 2>&1); rc=$?
expect_match "run: name in use refused" 'name "box" is already in use' "$out"
expect_eq "run: name in use exits 125" 125 "$rc"
out=$("$VMM" run --memory lots busybox true 2>&1); rc=$?
expect_match "run: invalid --memory refused" "memory lots" "$out"
out=$("$VMM" run --cpus 0 busybox true 2>&1); rc=$?
expect_match "run: invalid --cpus refused" "cpus 0" "$out"
check "rm -f: removes it" "$VMM" rm -f box
expect_eq "rm -f: directory gone" "" "$(ls "$VMM_ROOT/containers" | grep -v '^\.')"
out=$("$VMM" logs nosuch 2>&1); rc=$?
expect_match "logs: unknown container named" "no such container: nosuch" "$out"
