#!/bin/sh
# Run test scripts in a VM with KVM under qemu's TCG (scripts/tcg-kvm.sh), for tests/run.sh:
#
#   TCG_KVM_TIMEOUT=SECONDS sh tests/tcg-run.sh SCRIPT...
#
# The emulator can stall with every clock in the VM stopped (nested virtualization under TCG,
# rarely): TCG_KVM_QUIET seconds (default 600) without a line of output is such a stall. That VM
# is killed, the script it was in is named as skipped (the checks it printed are counted), and a
# fresh VM takes the scripts not started yet, all within TCG_KVM_TIMEOUT. TCG_KVM_CMD replaces
# scripts/tcg-kvm.sh (tests of this script).
end=$(( $(date +%s) + ${TCG_KVM_TIMEOUT:-1800} ))
vmlog=$(mktemp)
trap 'rm -f "$vmlog"' EXIT
remaining=" $*"
while [ -n "$remaining" ]; do
	left=$(( end - $(date +%s) ))
	if [ $left -lt 120 ]; then
		echo "ok - the TCG VM's scripts$remaining # SKIP no time left for them (TCG_KVM_TIMEOUT)"
		break
	fi
	# shellcheck disable=SC2086
	TCG_KVM_TIMEOUT=$left python3 tests/helpers/quiet-kill.py "${TCG_KVM_QUIET:-600}" \
		${TCG_KVM_CMD:-scripts/tcg-kvm.sh} sh -c 'for t; do
		echo "# $t"; s=$(date +%s); sh "$t"; echo "#   ($(( $(date +%s) - s ))s)"; done; echo "# tcg-kvm: done"' \
		sh $remaining 2>&1 | tee "$vmlog"
	grep -qx '# tcg-kvm: done' "$vmlog" && break
	not_started=""
	for t in $remaining; do
		if ! grep -qx "# $t" "$vmlog"; then
			not_started="$not_started $t"
		elif ! awk -v m="# $t" '$0 == m { on = 1; next } on && /^# tests\// { exit } on && /^#   \(/ { ended = 1 }
				END { exit !ended }' "$vmlog"; then
			echo "ok - $t ran to its end # SKIP the TCG VM stalled or stopped in it; the checks it printed are counted"
		fi
	done
	# shellcheck disable=SC2086
	if [ "$not_started" = " $(echo $remaining)" ]; then
		echo "not ok - the TCG VM ran none of$remaining: $(tail -n 2 "$vmlog" | tr '\n' ' ')"
		break
	fi
	remaining=$not_started
done
