#!/bin/sh
# The confined VMM (docs/sandbox.md). A container's VMM is forked by a supervisor (State.Pid)
# and, once its VM is built, keeps only the store and the runtime folder in view, drops every
# capability and loads the event loop's seccomp allow-list; vCPU threads add their own. What a
# hijacked VMM would try fails; what containers use still works; the supervisor restarts the
# VM and records a VMM that died. A non-root user in group kvm runs containers in a store of
# its own.
. tests/integration/lib.sh

# What the confinement refuses, tried by a process confined exactly as a VMM is (test-only
# probe: confine_jail keeping one folder, confine_drop_caps, the event loop's filter).
probe_lines() { echo "$1" | grep -E "^($2)=" | sort | tr '\n' ' ' | sed 's/ $//'; }
mkdir -p "$T/kept"
out=$("$BUILD/tests/confine-probe" vmm "$T/kept" 2>&1)
expect_eq "confined VMM: execve, fork, kill, mount and socket(AF_INET) fail with EPERM (not SIGSYS)" \
	"execve=EPERM fork=EPERM kill=EPERM mount=EPERM socket=EPERM" \
	"$(probe_lines "$out" 'execve|fork|kill|mount|socket')"
expect_eq "confined VMM: /etc/shadow and other processes' /proc are out of view (ENOENT)" \
	"open=ENOENT proc_1=ENOENT" "$(probe_lines "$out" 'open|proc_1')"
expect_eq "confined VMM: its folder, unix sockets and its own /proc entry are kept" \
	"kept_dir=ALLOWED proc_self=ALLOWED unix_socket=ALLOWED" "$(probe_lines "$out" 'kept_dir|proc_self|unix_socket')"
expect_eq "confined VMM: no capabilities at all, no_new_privs, a seccomp filter" \
	"CapBnd=0000000000000000 CapEff=0000000000000000 NoNewPrivs=1 Seccomp=2" \
	"$(probe_lines "$out" 'CapBnd|CapEff|NoNewPrivs|Seccomp')"
expect_eq "confined VMM: its root holds the kept folder's path, /dev and /proc only" \
	"dev proc $(echo "$T" | cut -d/ -f2)" "$(echo "$out" | sed -n 's/^root=//p' | tr ' ' '\n' | grep . | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "confined VMM with slirp: socket(AF_INET) is kept for the guest's connections" "socket=ALLOWED" \
	"$(probe_lines "$("$BUILD/tests/confine-probe" vmm --inet "$T/kept" 2>&1)" socket)"
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
	skip "confined VMM, not root" "needs root to become another user (setpriv)"
elif ! setpriv --reuid=65534 --regid=65534 --clear-groups unshare --user true 2>/dev/null; then
	skip "confined VMM, not root" "this host gives no user namespace to a user who is not root (unshare --user fails)"
else
	chmod 711 "$T"	# another user passes through to its own folder
	mkdir -p "$T/nobody" && chown 65534:65534 "$T/nobody"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/tests/confine-probe" vmm "$T/nobody" 2>&1)
	expect_eq "confined VMM, not root (a user namespace of its own): the same refusals and view" \
		"execve=EPERM fork=EPERM kept_dir=ALLOWED kill=EPERM mount=EPERM open=ENOENT socket=EPERM" \
		"$(probe_lines "$out" 'execve|fork|kill|mount|socket|open|kept_dir')$(echo "$out" | grep -q '^execve=' || echo "$out" | head -n2)"
fi

guest_suite "confine"
"$VMM" save -o "$T/busybox.tar" busybox >/dev/null 2>&1
mkdir -p "$T/www" && echo "from the host" >"$T/www/file"
hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$hport" >/dev/null 2>&1 &
web=$!
cleanup_hook() { kill "$web" 2>/dev/null; }

# One container shared by the cases: slirp with the host's loopback opted in, a published port.
pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
v run -d --name cf --add-host hostgw:host-gateway -p "127.0.0.1:$pport:8080" busybox \
	sh -c 'echo started; exec sleep 100000' >/dev/null 2>"$T/c.err"
rc=$?
expect_eq "confined: run -d starts the shared container" "0" "$rc$(cat "$T/c.err")"
sup=$(v inspect -f '{{.State.Pid}}' cf 2>/dev/null)
vmm=$(pgrep -P "$sup" 2>/dev/null | head -n1)
status_of() { grep -E '^(NoNewPrivs|Seccomp|CapEff|CapBnd):' "$1" | tr -s '\t' ' ' | tr '\n' ' ' | sed 's/ $//'; }
expect_eq "supervisor: State.Pid is an unconfined vmm whose child is the VMM" "vmm vmm Seccomp: 0" \
	"$(cat "/proc/$sup/comm" 2>/dev/null) $(cat "/proc/$vmm/comm" 2>/dev/null) $(grep '^Seccomp:' "/proc/$sup/status" 2>/dev/null | tr -s '\t' ' ')"
expect_eq "VMM: the event loop has no capabilities, no_new_privs and its filter" \
	"CapEff: 0000000000000000 CapBnd: 0000000000000000 NoNewPrivs: 1 Seccomp: 2" \
	"$(status_of "/proc/$vmm/status" 2>/dev/null)"
out=$(for t in /proc/"$vmm"/task/*; do [ "$(cat "$t/comm" 2>/dev/null)" = vcpu0 ] && grep -E '^(NoNewPrivs|Seccomp):' "$t/status"; done |
	tr -s '\t' ' ' | tr '\n' ' ')
expect_eq "VMM: vcpu0 has no_new_privs and a filter" "NoNewPrivs: 1 Seccomp: 2 " "$out"
expect_eq "VMM: in view, its /etc holds resolv.conf only, /dev null and urandom, /proc itself" \
	"resolv.conf|null urandom|self" \
	"$(ls "/proc/$vmm/root/etc" 2>&1 | tr '\n' ' ' | sed 's/ $//')|$(ls "/proc/$vmm/root/dev" 2>&1 | tr '\n' ' ' | sed 's/ $//')|$(ls "/proc/$vmm/root/proc" 2>&1)"
expect_eq "VMM: the host's /usr, /home and /etc/shadow are not in its view; its store is" "no no no yes" \
	"$(for p in /usr /home /etc/shadow "$VMM_ROOT/containers"; do [ -e "/proc/$vmm/root$p" ] && printf 'yes ' || printf 'no '; done | sed 's/ $//')"
expect_eq "VMM: its mount namespace is not the host's" "different" \
	"$(ns=$(readlink "/proc/$vmm/ns/mnt") && [ "$ns" != "$(readlink /proc/self/ns/mnt)" ] && echo different)"

# What containers use goes on working, confined.
expect_eq "confined: exec" "exec ok" "$(v exec cf echo exec ok 2>&1)"
echo "copied in" >"$T/in.txt"
v cp "$T/in.txt" cf:/root/in.txt >/dev/null 2>&1
expect_eq "confined: cp into the container" "copied in" "$(v exec cf cat /root/in.txt 2>&1)"
v cp cf:/root/in.txt "$T/out.txt" >/dev/null 2>&1
expect_eq "confined: cp out of the container" "copied in" "$(cat "$T/out.txt" 2>&1)"
expect_eq "confined: logs" "started" "$(v logs cf 2>&1)"
expect_match "confined: stats" "^cf +[0-9.]+%" "$(v stats --no-stream --format '{{.Name}} {{.CPUPerc}}' cf 2>&1)"
check "confined: pause and unpause" sh -c "timeout $RUN_TIMEOUT '$VMM' pause cf && timeout $RUN_TIMEOUT '$VMM' unpause cf"
expect_eq "confined: slirp reaches the host (a new AF_INET socket for the guest's connection)" "from the host" \
	"$(v exec cf wget -q -O- "http://hostgw:$hport/file" 2>&1)"
v exec -d cf sh -c 'mkdir -p /w && echo published > /w/index.html && httpd -p 8080 -h /w' >/dev/null 2>&1
out=""; i=0
while [ -z "$out" ] && [ $i -lt 60 ]; do
	out=$(curl -s --max-time 10 "http://127.0.0.1:$pport/index.html") || sleep 1; i=$((i + 1))
done
expect_eq "confined: a published port takes connections" "published" "$out"
expect_eq "confined: the VMM's warnings and errors: none" "" "$(grep -E 'vmm: (warning|error)' "$T/c.err"; v logs cf 2>&1 | grep -E 'vmm: (warning|error)')"

# The VMM dies of a signal: the supervisor says so and the container is exited, not running.
kill -9 "$vmm"
i=0; while kill -0 "$sup" 2>/dev/null && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
expect_eq "VMM killed (-9): exited 137, the supervisor gone with it" "exited 137 gone" \
	"$(v inspect -f '{{.State.Status}} {{.State.ExitCode}}' cf 2>&1) $(kill -0 "$sup" 2>/dev/null && echo there || echo gone)"
expect_eq "VMM killed (-9): the error names the signal" "the VMM process was killed by signal 9 (Killed)" \
	"$(v inspect -f '{{.State.Error}}' cf 2>&1)"
v rm -f cf >/dev/null 2>&1

# --restart: each run is a new VMM from the supervisor, confined again.
v run -d --name rs --restart on-failure:1 busybox sh -c 'echo run; exit 3' >/dev/null 2>&1
expect_eq "supervisor: --restart on-failure:1 ran the VM again (a new VMM), then stopped" "3 1 exited run run" \
	"$(v wait rs 2>&1) $(v inspect -f '{{.RestartCount}} {{.State.Status}}' rs 2>&1) $(v logs rs 2>&1 | tr '\n' ' ' | sed 's/ $//')"
v rm -f rs >/dev/null 2>&1

# A signal to the whole process group (kill %1, timeout(1)) reaches the supervisor and the VMM:
# the VMM leaves it to the supervisor, which passes it on, so the container gets it once.
setsid sh -c 'exec "$0" run --name sg busybox sh -c "trap \"echo got TERM; exit 7\" TERM; echo started; while :; do sleep 1; done"' \
	"$VMM" >"$T/s.out" 2>&1 &
s=$!
i=0; while ! grep -q started "$T/s.out" && [ $i -lt 1200 ]; do i=$((i + 1)); sleep 0.5; done
/bin/kill -s TERM -- "-$s"
i=0; while kill -0 "$s" 2>/dev/null && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.5; done
/bin/kill -s KILL -- "-$s" 2>/dev/null
wait "$s"; rc=$?
expect_eq "SIGTERM to vmm run's process group: the container's trap runs once, its status is run's" \
	"7 started got TERM" "$rc $(grep -v '^vmm:' "$T/s.out" | tr '\n' ' ' | sed 's/ $//')"
v rm -f sg >/dev/null 2>&1
v run -d --name sg2 busybox sh -c 'trap "echo got TERM; exit 9" TERM; echo started; while :; do sleep 1; done' >/dev/null 2>&1
v stop -t 120 sg2 >/dev/null 2>&1
expect_eq "vmm stop (State.Pid, the supervisor): the container's process gets SIGTERM and exits as it says" \
	"exited 9" "$(v inspect -f '{{.State.Status}} {{.State.ExitCode}}' sg2 2>&1)"
v rm -f sg2 >/dev/null 2>&1

out=$(VMM_CONFINE=bad v run --rm busybox true 2>&1); rc=$?
expect_eq "VMM_CONFINE: a bad value is one error line, exit 125" \
	"125 vmm: error: VMM_CONFINE=bad: use on (the default), log or off" "$rc $out"

# Domains and vmm boot confine their VMM too. The guest: a first boot marks its disk and
# reboots; a boot that finds the mark says so and stays up.
cat > "$T/dom.init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc; mount -t devtmpfs dev /dev
if [ "$(dd if=/dev/vda bs=1 count=1 2>/dev/null)" = 1 ]; then
	echo "marked boot"
	exec sleep 100000
fi
printf 1 | dd of=/dev/vda conv=notrunc 2>/dev/null && sync && echo "first boot"
reboot -f
EOF
APPLETS="sh mount echo dd printf sync reboot sleep" scripts/mkinitramfs.sh "$T/dom.cpio" "$T/dom.init"
truncate -s 1M "$T/dom.img"
cat > "$T/dom.xml" <<XML
<domain type='kvm'><name>cdom</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type><kernel>$KERNEL</kernel><initrd>$T/dom.cpio</initrd><cmdline>quiet</cmdline></os>
<on_reboot>restart</on_reboot>
<devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$T/dom.img'/><target dev='vda'/></disk>
<serial type='file'><source path='$T/dom.console'/></serial></devices></domain>
XML
v domain define "$T/dom.xml" >/dev/null 2>&1
out=$(v domain start cdom 2>&1); rc=$?
expect_eq "domain: starts" "0 Domain 'cdom' started" "$rc $(echo "$out" | head -1)"
check "domain: the guest rebooted (on_reboot restart) and came up again" wait_text "$T/dom.console" "marked boot" "$BOOT_TIMEOUT"
dsup=$(cat "$T/run/domains/cdom/pid" 2>/dev/null)
dvmm=$(pgrep -P "$dsup" 2>/dev/null | head -n1)
expect_eq "domain: its process (the pid file's) is unconfined; the first boot's VMM is gone, the second's runs" \
	"first boot marked boot Seccomp: 0 1" \
	"$(grep -o 'first boot\|marked boot' "$T/dom.console" | tr '\n' ' ')$(grep '^Seccomp:' "/proc/$dsup/status" 2>/dev/null | tr -s '\t' ' ') $(pgrep -P "$dsup" | wc -l)"
expect_eq "domain: the rebooted VMM has no capabilities, no_new_privs and its filter" \
	"CapEff: 0000000000000000 CapBnd: 0000000000000000 NoNewPrivs: 1 Seccomp: 2" \
	"$(status_of "/proc/$dvmm/status" 2>/dev/null)"
expect_eq "domain: the VMM's view holds /dev's two nodes and its own /proc, no /usr, no disk's folder" \
	"null urandom|self|no no" \
	"$(ls "/proc/$dvmm/root/dev" 2>&1 | tr '\n' ' ' | sed 's/ $//')|$(ls "/proc/$dvmm/root/proc" 2>&1)|$(for p in /usr "$T"; do [ -e "/proc/$dvmm/root$p" ] && printf 'yes ' || printf 'no '; done | sed 's/ $//')"
out=$(v domain destroy cdom 2>&1); rc=$?
i=0; while kill -0 "$dsup" 2>/dev/null && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.1; done
expect_eq "domain: destroy reaches the confined VMM (its control socket); the domain process ends" \
	"0 Domain 'cdom' destroyed gone" "$rc $(echo "$out" | head -1) $(kill -0 "$dsup" 2>/dev/null && echo there || echo gone)"

# vmm boot confines itself in place (nothing to boot again): its vsock folder stays in view.
mkdir -p "$T/bootvs"
printf 1 | dd of="$T/dom.img" conv=notrunc 2>/dev/null
"$VMM" boot --kernel "$KERNEL" --initrd "$T/dom.cpio" --cmdline quiet --disk "$T/dom.img" \
	--vsock "$T/bootvs/v.sock" --console "$T/boot.console" </dev/null >"$T/boot.out" 2>&1 &
bpid=$!
check "vmm boot: the guest is up" wait_text "$T/boot.console" "marked boot" "$BOOT_TIMEOUT"
expect_eq "vmm boot: its VMM has no capabilities, no_new_privs and its filter" \
	"CapEff: 0000000000000000 CapBnd: 0000000000000000 NoNewPrivs: 1 Seccomp: 2" \
	"$(status_of "/proc/$bpid/status" 2>/dev/null)"
expect_eq "vmm boot: in view, its vsock socket's folder; not /usr, not the disk's folder's other files" \
	"v.sock|no no" \
	"$(ls "/proc/$bpid/root$T/bootvs" 2>&1 | tr '\n' ' ' | sed 's/ $//')|$(for p in /usr "$T/dom.xml"; do [ -e "/proc/$bpid/root$p" ] && printf 'yes ' || printf 'no '; done | sed 's/ $//')"
kill -TERM "$bpid"
wait "$bpid"; rc=$?
expect_eq "vmm boot: SIGTERM stops it, 128+15, and its socket is removed" "143 gone" \
	"$rc $([ -e "$T/bootvs/v.sock" ] && echo there || echo gone)"

# A user in group kvm (not root): a store of its own, a confined VMM in a user namespace.
kvm_gid=$(stat -c %g /dev/kvm 2>/dev/null)
if [ "$(id -u)" -ne 0 ] || [ "$(stat -c %a /dev/kvm)" != 660 ] || [ "$(getent group kvm | cut -d: -f3)" != "$kvm_gid" ]; then
	skip "a user in group kvm runs containers" "needs root to set one up, and /dev/kvm root:kvm 0660 (Debian's udev rule)"
else
	chmod 711 "$T"
	mkdir -p "$T/home" "$T/xdg" && chown 65534:65534 "$T/home" "$T/xdg" && chmod 700 "$T/xdg"
	chmod 644 "$T/busybox.tar"
	# the guest payloads may live in root's own cache (make kernel): the user's copies
	cp -L "$KERNEL" "$T/vmlinux" && cp -L "$BUILD/guest/agent.cpio" "$T/agent.cpio" && chmod 644 "$T/vmlinux" "$T/agent.cpio"
	as_user() {
		env -u VMM_ROOT -u VMM_RUNTIME HOME="$T/home" XDG_RUNTIME_DIR="$T/xdg" \
			VMM_KERNEL="$T/vmlinux" VMM_AGENT_INITRD="$T/agent.cpio" \
			setpriv --reuid=65534 --regid=65534 --groups="$kvm_gid" timeout "$RUN_TIMEOUT" "$VMM" "$@"
	}
	as_user load -i "$T/busybox.tar" >"$T/user.log" 2>&1
	out=$(as_user run --rm busybox sh -c 'echo run by a user' 2>&1); rc=$?
	expect_eq "a user in group kvm runs a container" "0 run by a user" "$rc $out"
	expect_eq "a user in group kvm: its store is its own (XDG_DATA_HOME)" "yes 65534" \
		"$([ -d "$T/home/.local/share/vmm/containers" ] && echo yes) $(stat -c %u "$T/home/.local/share/vmm")"
fi
