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
for t in tests/"$SUITE"/[0-9]*.sh; do
	[ -f "$t" ] || continue
	case "$t" in *"$FILTER"*) ;; *) continue ;; esac
	run_one "$SUITE/$(basename "$t")" sh "$t"
done

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
