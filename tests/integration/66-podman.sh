#!/bin/sh
# podman (Debian's 4.3, rootful, its own conmon) with --runtime vmm-runtime: every container
# it starts is a micro-VM. run --rm, exit codes, -d with logs, exec, stop and rm, -v, -it
# through a pty, and its own networking (a netns per container) with -p.
. tests/integration/lib.sh

oci_guest_suite "podman"
if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
	skip "podman: containers" "podman or conmon not installed (apt-get install podman)"
	exit 0
fi
busybox_archive "podman"
# The runtime with the test's --root: podman's cleanup after a run --rm (conmon's exit command)
# calls the runtime without podman's --runtime-flag, so the wrapper gives it to every call.
printf '#!/bin/sh\nexec "%s" --root "%s" "$@"\n' "$RT" "$S" >"$T/vmm-rt"
chmod +x "$T/vmm-rt"
# A store of its own on the scratch folder (vfs: no overlay on whatever holds it), no systemd.
p() {
	timeout 600 podman --root "$T/storage" --runroot "$T/runroot" --storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend file --runtime "$T/vmm-rt" "$@"
}
cleanup_hook() { p rm -af -t 0 >/dev/null 2>&1; }
out=$(p load -i "$T/busybox.tar" 2>&1); rc=$?
expect_match "podman load of vmm's busybox" "Loaded image" "$rc $out"

out=$(p run --rm --network none busybox echo hi from a micro-VM 2>&1); rc=$?
expect_eq "podman run --rm: the output, exit 0" "0 hi from a micro-VM" "$rc $out"
out=$(p run --rm --network none busybox sh -c 'cat /proc/version; exit 3' 2>&1); rc=$?
expect_match "podman run: the guest's own kernel, and the exit code" "^3 Linux version 6\\.1" "$rc $out"
out=$(p run --rm --network none busybox nosuchcommand 2>&1); rc=$?
expect_eq "podman run of a missing command: 127" "127" "$rc"

mkdir -p "$T/share" && echo "host file" >"$T/share/in"
out=$(p run --rm --network none -v "$T/share:/ctr" busybox sh -c 'cat /ctr/in; echo back >/ctr/out' 2>&1); rc=$?
expect_eq "podman run -v: the host folder both ways" "0 host file back" "$rc $out $(cat "$T/share/out" 2>&1)"

id=$(p run -d --network none --name d1 busybox sh -c 'echo started; trap "echo bye; exit 0" TERM; while :; do sleep 1; done' 2>&1); rc=$?
expect_match "podman run -d: an ID" "^0 [0-9a-f]{64}$" "$rc $id"
timeout 120 sh -c 'until podman --root "$1" --runroot "$2" --storage-driver vfs logs d1 2>/dev/null | grep -q started; do :; done' \
	- "$T/storage" "$T/runroot"
expect_eq "podman logs" "started" "$(p logs d1 2>&1)"
out=$(p exec d1 sh -c 'echo in $(hostname); exit 4' 2>&1); rc=$?
expect_eq "podman exec: its output and exit code" "4 in $(printf '%.12s' "$id")" "$rc $out"
expect_eq "podman ps: running" "Up" "$(p ps --filter name=d1 --format '{{.Status}}' | cut -c1-2)"
out=$(p stop -t 20 d1 2>&1); rc=$?
expect_eq "podman stop: the process got TERM" "0 d1" "$rc $out"
expect_eq "podman inspect: exited 0 after the trap" "exited 0" "$(p inspect d1 --format '{{.State.Status}} {{.State.ExitCode}}')"
expect_match "podman logs after the stop" "bye" "$(p logs d1 2>&1)"
check "podman rm" p rm d1

# podman's own networking: its netns, joined through a tap (tc redirect), its published port
port=$(free_port)
id=$(p run -d --name web -p "127.0.0.1:$port:80" busybox sh -c 'mkdir -p /www && echo served-from-a-vm >/www/index.html && exec httpd -f -p 80 -h /www' 2>&1); rc=$?
expect_match "podman run -d -p: on podman's network" "^0 [0-9a-f]{64}$" "$rc $id"
out=$(timeout 120 sh -c 'until curl -sf --max-time 5 "http://127.0.0.1:$1/"; do :; done' - "$port" 2>&1)
expect_eq "podman -p: the host reaches the guest's server through podman's own port forwarding" "served-from-a-vm" "$out"
ip=$(p inspect web --format '{{.NetworkSettings.IPAddress}}')
expect_eq "the guest has the address podman gave its namespace" "$ip" \
	"$(p exec web sh -c 'ip addr show eth0 | sed -n "s/.*inet \([0-9.]*\).*/\1/p"' 2>&1)"
check "podman rm -f (networked)" p rm -f -t 0 web

# -it: conmon's pty comes over --console-socket
out=$(printf 'echo typed-$((6*7))\nexit 5\n' | python3 -c '
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
data = sys.stdin.read()
out = b""
os.write(fd, data.encode())
while True:
    try:
        c = os.read(fd, 4096)
    except OSError:
        break
    if not c:
        break
    out += c
_, st = os.waitpid(pid, 0)
print(out.decode(errors="replace").replace("\r", ""))
print("rc", os.waitstatus_to_exitcode(st))' timeout 600 podman --root "$T/storage" --runroot "$T/runroot" --storage-driver vfs \
	--cgroup-manager cgroupfs --events-backend file --runtime "$T/vmm-rt" run --rm -it --network none busybox sh)
expect_match "podman run -it: a shell on a pty" "typed-42" "$out"
expect_match "podman run -it: its exit code" "rc 5$" "$out"
left=$(for d in "$S"/containers/*/; do [ -d "$d" ] && printf '%s(%s) ' "$(jq -r .Name "$d/config.json")" \
	"$(jq -r .Status "$d/state.json")"; done)
expect_eq "nothing left in vmm-runtime's state (podman deleted every container)" "" "$left"
