#!/bin/sh
# Run every benchmark (make bench). Benchmarks print figures and ratios against a
# peer measured in the same run; they never pass or fail.
BUILD=${1:-build}
for b in tests/bench/*.sh; do
	case $b in tests/bench/run.sh|tests/bench/lib.sh) continue ;; esac
	echo "######## $b"
	sh "$b" "$BUILD"
done
