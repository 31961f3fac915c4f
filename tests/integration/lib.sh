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
trap 'cleanup_hook; rm -rf "$T"' EXIT
cleanup_hook() { :; }

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

# Generous upper bound for one guest boot: the PVM host emulates the guest kernel.
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
