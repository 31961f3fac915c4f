#!/bin/sh
# Run every unit test program and integration script; print TAP lines and end with
# one summary line "N passed, N failed[, N skipped]". Exit status 0 only when none failed.
# Usage: tests/run.sh [BUILD_DIR] [FILTER] [SUITE]   (FILTER: substring of test file names;
# SUITE: integration, the default, after the unit tests; or stress, the long soaks alone)
set -u
BUILD=${1:-build}
FILTER=${2:-}
SUITE=${3:-integration}
export BUILD
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_one() {	# name, command...
	name=$1; shift
	echo "# $name"
	start=$(date +%s)
	"$@" 2>&1 | tee -a "$log" | grep --line-buffered -E '^(ok|not ok|#|Bail out)' | sed -u 's/^/  /' || true
	echo "#   ($(( $(date +%s) - start ))s)"
}

if [ "$SUITE" = integration ]; then
	case layers in *"$FILTER"*) run_one "layers" sh scripts/check-layers.sh ;; esac
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		case "$t" in *"$FILTER"*) ;; *) continue ;; esac
		run_one "unit/$(basename "$t")" "$t"
	done
fi
# Without a usable /dev/kvm, the scripts that boot guests can run in one VM that has it: qemu's
# TCG with an emulated AMD-V CPU (scripts/tcg-kvm.sh). Everything there is emulated and slow,
# so make check takes the quick ones in it (VMM_TCG_KVM=quick, the default) and VMM_TCG_KVM=all
# takes all (about 45 minutes more); 0 takes none. A script left out runs here, and its guest
# part skips with its reason.
TCG_QUICK="10-boot 11-boot-errors 16-share 21-blk 40-agent 51-confine 55-snapshot 65-oci-run 66-podman 67-containerd"
tcg=${VMM_TCG_KVM:-quick}
if [ -r /dev/kvm ] && [ -w /dev/kvm ] || [ "$tcg" = 0 ] || [ "$(uname -m)" != x86_64 ] ||
	! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	tcg=0
elif ! why=$(scripts/tcg-kvm.sh --prepare 2>&1); then
	echo "# no VM with KVM under TCG either: the guest scripts skip ($(echo "$why" | tail -n1))"
	tcg=0
fi
in_vm() {	# script: does it run in the TCG VM?
	[ "$tcg" != 0 ] && grep -qE '^[^#]*(guest_suite|have_kvm)' "$1" || return 1
	[ "$tcg" = all ] && return 0
	case " $TCG_QUICK " in *" $(basename "$1" .sh) "*) return 0 ;; esac
	return 1
}
vm_files=""
for t in tests/"$SUITE"/[0-9]*.sh; do
	[ -f "$t" ] || continue
	case "$t" in *"$FILTER"*) ;; *) continue ;; esac
	if in_vm "$t"; then
		vm_files="$vm_files $t"
		continue
	fi
	run_one "$SUITE/$(basename "$t")" sh "$t"
done
if [ -n "$vm_files" ]; then
	echo "# no /dev/kvm here: these run in a VM with KVM under qemu's TCG (scripts/tcg-kvm.sh, VMM_TCG_KVM=$tcg):$vm_files"
	[ "$tcg" = all ] && limit=5400 || limit=1800
	# shellcheck disable=SC2086
	TCG_KVM_TIMEOUT=${TCG_KVM_TIMEOUT:-$limit} sh tests/tcg-run.sh $vm_files 2>&1 |
		tee -a "$log" | grep --line-buffered -E '^(ok|not ok|#|Bail out)' | sed -u 's/^/  /' || true
fi

passed=$(grep -E '^ok ' "$log" | grep -vc '# SKIP')
failed=$(grep -Ec '^not ok ' "$log")
skipped=$(grep -E '^ok ' "$log" | grep -c '# SKIP')
echo
if [ "$failed" -gt 0 ]; then
	echo "Failed:"
	grep -E '^not ok ' "$log" | sed 's/^/  /'
fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
