# Shared helpers for integration tests. Each test script prints TAP lines:
#   ok - name | not ok - name: why | ok - name # SKIP reason
# tests/run.sh counts them. Scripts source this file and use $VMM, $KERNEL, $BUILD.

: "${BUILD:=build}"
VMM="${VMM:-$PWD/$BUILD/vmm}"
AGENT_TEST="${AGENT_TEST:-$PWD/$BUILD/tests/agent-test}"
KERNEL="${KERNEL:-$PWD/build/vmlinux}"
TESTS_DIR="$PWD/tests"
# A scratch directory per script, removed on exit.
T=$(mktemp -d "${TMPDIR:-/tmp}/vmm-test.XXXXXX")
trap 'cleanup_hook; lib_no_stray_processes; rm -rf "$T"' EXIT
cleanup_hook() { :; }

# lib_stray_processes: the vmm and virtiofsd processes still running that belong
# to this script (its scratch directory named in their arguments or environment).
# The lib_ prefix keeps a script's own helpers from replacing it.
lib_stray_processes() {
	vmm_exe=$(readlink -f "$VMM")
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case $exe in "$vmm_exe"|*virtiofsd*) ;; *) continue ;; esac
		{ tr '\0' '\n' <"$p/cmdline"; tr '\0' '\n' <"$p/environ"; } 2>/dev/null |
			grep -q -- "$T" && echo "${p#/proc/}"
	done
}
# lib_no_stray_processes: a test that leaves a VM or daemon running fails, and
# they are killed (only real pids: never 0 or -1, which name process groups)
lib_no_stray_processes() {
	left=""
	for p in $(lib_stray_processes); do
		case $p in '' | *[!0-9]* | 0 | 1) continue ;; esac
		[ "$p" = "$$" ] || left="$left $p"
	done
	[ -z "$left" ] && return
	fail "no process left behind" "$(for p in $left; do tr '\0' ' ' <"/proc/$p/cmdline"; echo; done | head -3 | tr '\n' ';')"
	kill -9 $left 2>/dev/null
}

# need_guests NAME: fail (no guest payloads) or skip (no /dev/kvm) the whole script.
need_guests() {
	if [ ! -f "$KERNEL" ] || [ ! -f "$BUILD/guest/agent.cpio" ]; then
		fail "$1: guest payloads" "build/vmlinux or $BUILD/guest/agent.cpio missing (make all kernel)"
		exit 0
	fi
	if ! have_kvm; then
		skip "$1: containers" "/dev/kvm not accessible on this host (VMM_TCG_KVM=all make check runs this in a VM with KVM under qemu's TCG)"
		exit 0
	fi
}

# guest_suite NAME: the start of a script that runs containers on real guests. Fails (no
# guest payloads) or skips (no /dev/kvm) the whole script; else gives it a store of its
# own holding the busybox image. v: vmm with a timeout.
guest_suite() {
	need_guests "$1"
	export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
	if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
		fail "$1: busybox image" "$(tail -2 "$T/img.log")"
		exit 0
	fi
}
# oci_guest_suite NAME: the start of a script that runs OCI bundles on guests (vmm oci): the
# payloads, /dev/kvm, root and virtiofsd (a bundle's root is a shared folder), else it fails or
# skips the whole script. RT: vmm-runtime (a link to vmm), S: its --root.
oci_guest_suite() {
	need_guests "$1"
	if [ "$(id -u)" -ne 0 ] || [ -z "$("$VMM" check --json | jq -r '.items[] | select(.item == "virtiofsd" and .status == "ok") | .detail')" ]; then
		skip "$1: containers" "a bundle's root is a shared folder: virtiofsd and root are needed"
		exit 0
	fi
	RT="$T/vmm-runtime"
	ln -s "$VMM" "$RT"
	S="$T/state"
}
# busybox_archive NAME: vmm's busybox image in a store of the script's own, saved as a docker
# archive at $T/busybox.tar for another engine to load; else the script fails.
busybox_archive() {
	export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
	if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1 ||
	   ! "$VMM" save -o "$T/busybox.tar" busybox >>"$T/img.log" 2>&1; then
		fail "$1: busybox image" "$(tail -2 "$T/img.log")"
		exit 0
	fi
}
# vmm_of PID: the VMM process of a container whose State.Pid is PID (the supervisor: the VMM is
# its only child, docs/sandbox.md), or PID itself (VMM_CONFINE=off, vmm oci).
vmm_of() { c=$(pgrep -P "$1" 2>/dev/null | head -n1); echo "${c:-$1}"; }
RUN_TIMEOUT=${RUN_TIMEOUT:-400}
v() { timeout "$RUN_TIMEOUT" "$VMM" "$@"; }

pass() { echo "ok - $1"; }
fail() { echo "not ok - $1: $2"; }
skip() { echo "ok - $1 # SKIP $2"; }

# check NAME CMD...: pass when CMD succeeds, else fail with its output's tail.
check() {
	name=$1; shift
	if check_out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$check_out" | tail -3 | tr '\n' ' ')"; fi
}

# expect_eq NAME WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want '$2', got '$3'"; fi
}

# expect_match NAME REGEX TEXT
expect_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then pass "$1"; else
		fail "$1" "no match for /$2/ in: $(printf '%s' "$3" | tail -5 | tr '\n' ' ' | cut -c1-300)"; fi
}

have_kvm() { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

# wait_text FILE TEXT [SECONDS]: until FILE holds TEXT (at most SECONDS, 30 by default)
wait_text() {
	i=0
	while ! grep -qF -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge $((${3:-30} * 10)) ] && return 1
		sleep 0.1
	done
}

# wait_http URL SECONDS: until the URL answers (a server starting in a guest)
wait_http() {
	i=0
	while [ $i -lt "$2" ]; do
		curl -sf -m 5 -o /dev/null "$1" && return 0
		i=$((i + 1)); sleep 1
	done
	return 1
}

# Generous upper bound for one guest boot: the PVM host emulates the guest kernel.
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}

# --- registries on loopback, for the pull and push tests (31-pull.sh, 32-push.sh) ---
# Scripts that start one call registry_stop from their cleanup_hook.
REGISTRY_PIDS=""
registry_stop() {
	for p in $REGISTRY_PIDS; do kill "$p" 2>/dev/null; done
	for p in $REGISTRY_PIDS; do wait "$p" 2>/dev/null; done
	REGISTRY_PIDS=""
}
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() {	# PORT PID: until something listens (at most 20 s), while PID lives
	i=0
	while ! python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -ge 100 ] || ! kill -0 "$2" 2>/dev/null; then return 1; fi
		sleep 0.1
	done
}
# start_registry CONFIG PORT LOG [HTPASSWD|tls]: Debian's docker-registry on 127.0.0.1:PORT,
# storage in $REGISTRY_DATA (default $T/data); tls uses $T/cert.pem and $T/key.pem.
start_registry() {
	data=${REGISTRY_DATA:-$T/data}
	if [ "${4:-}" = tls ]; then
		REGISTRY_HTTP_TLS_CERTIFICATE="$T/cert.pem" REGISTRY_HTTP_TLS_KEY="$T/key.pem" \
		REGISTRY_HTTP_ADDR="127.0.0.1:$2" REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$data" \
			docker-registry serve "$1" >"$3" 2>&1 &
	elif [ -n "${4:-}" ]; then
		REGISTRY_AUTH_HTPASSWD_PATH="$4" REGISTRY_HTTP_ADDR="127.0.0.1:$2" \
		REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$data" docker-registry serve "$1" >"$3" 2>&1 &
	else
		REGISTRY_HTTP_ADDR="127.0.0.1:$2" REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$data" \
			docker-registry serve "$1" >"$3" 2>&1 &
	fi
	REGISTRY_PIDS="$REGISTRY_PIDS $!"
	wait_port "$2" $!
}
# start_fake NAME LAYOUT ARGS...: tests/registry/fake_registry.py; sets FAKE (host:port) and FAKELOG.
start_fake() {
	n=$1 lay=$2
	shift 2
	rm -f "$T/$n.port"
	python3 "$TESTS_DIR/registry/fake_registry.py" "$lay" "$T/$n.port" "$T/$n.log" "$@" &
	REGISTRY_PIDS="$REGISTRY_PIDS $!"
	i=0
	while [ ! -s "$T/$n.port" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	FAKE="127.0.0.1:$(cat "$T/$n.port")"
	FAKELOG="$T/$n.log"
	: >>"$FAKELOG"
}
# make_htpasswd USER PASSWORD: a bcrypt htpasswd line, as docker-registry wants it.
make_htpasswd() {
	python3 -W ignore -c "import crypt; print('$1:' + crypt.crypt('$2', crypt.mksalt(crypt.METHOD_BLOWFISH)))" \
		2>/dev/null || htpasswd -Bbn "$1" "$2"
}

# The store's files and their hashes, to tell that a refused command changed nothing
# (the big sparse disks by size and time: hashing gigabytes of holes is slow).
snapshot() {
	(cd "$VMM_ROOT" && find . -type f ! -name '*.img' ! -name '*.qcow2' | LC_ALL=C sort | xargs -r sha256sum &&
		find . -type f \( -name '*.img' -o -name '*.qcow2' \) -printf '%p %s %T@\n' | LC_ALL=C sort)
}
# refused NAME TEXT-IN-MESSAGE CMD...: one error line naming it, exit != 0, store unchanged.
refused() {
	name=$1 text=$2
	shift 2
	before=$(snapshot)
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	after=$(snapshot)
	lines=$(grep -c . "$T/err")
	if [ $rc -eq 0 ]; then fail "$name" "exit status 0"
	elif [ "$lines" != 1 ]; then fail "$name" "want one error line, got $lines: $(head -c 400 "$T/err" | tr '\n' '|')"
	elif ! grep -qF -- "$text" "$T/err"; then fail "$name" "no '$text' in: $(cat "$T/err")"
	elif [ "$before" != "$after" ]; then fail "$name" "the store changed"
	else pass "$name"; fi
}
