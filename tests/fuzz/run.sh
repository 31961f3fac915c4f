#!/bin/sh
# Build and run libFuzzer targets (make fuzz).
#   tests/fuzz/run.sh [tests/fuzz/fuzz_X.c ...]    (default: all of them)
# Each target is linked with every library source (the Makefile's LIB_SRCS:
# `make print-lib-srcs`) built with
# clang -fsanitize=fuzzer,address,undefined and -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
# (libFuzzer's convention; images/rootfs uses it for smaller buffers only), then run
# for ${FUZZ_SECONDS:-30} s on the corpus tests/fuzz/corpus-<name>/ (kept between runs,
# not committed) seeded from tests/fuzz/seeds/<name>/ when present. Fails if any target
# finds a crash; the crashing input is left in build/fuzz/ (rerun: build/fuzz/fuzz_<name> FILE).
# FUZZ_RUNS=N runs each target N executions instead (a campaign: FUZZ_RUNS=1000000).
# tests/fuzz/fuzz_<name>.options, when present, holds more libFuzzer flags for that
# target (e.g. a -max_len smaller than the default 1 MiB; '#' starts a comment); they
# come after the defaults, so they win.
# Prints each target's executions and rate, and a table of them at the end.
set -u
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
CC=${FUZZ_CC:-clang}
OUT=build/fuzz
PKGS="libarchive zlib slirp ext2fs com_err json-c libcurl libseccomp libzstd libcrypto libxml-2.0 libmicrohttpd"

if ! command -v "$CC" >/dev/null; then
	echo "fuzz: $CC not found (scripts/install-deps.sh installs clang)" >&2
	exit 1
fi
targets=${*:-$(ls tests/fuzz/fuzz_*.c 2>/dev/null)}
if [ -z "$targets" ]; then
	echo "fuzz: no targets"
	exit 0
fi
CFLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -I. $(pkg-config --cflags $PKGS 2>/dev/null)"
LIBS="$(pkg-config --libs $PKGS 2>/dev/null) -lpthread"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
mkdir -p "$OUT/obj"
# objects built with other flags are stale
if [ "$(cat "$OUT/obj/flags" 2>/dev/null)" != "$CFLAGS $SAN" ]; then
	rm -f "$OUT"/obj/*.o
	echo "$CFLAGS $SAN" >"$OUT/obj/flags"
fi

# The library and the agent's host-buildable code, instrumented for coverage (fuzzer-no-link), rebuilt only where sources changed.
objs=""
for src in $(make -s --no-print-directory print-lib-srcs print-agent-lib-srcs); do
	obj="$OUT/obj/$(echo "$src" | tr / _).o"
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find $(dirname "$src") -name '*.h' -newer "$obj" 2>/dev/null | head -1)" ]; then
		echo "  CC      $src"
		$CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c -o "$obj" "$src" || exit 1
	fi
	objs="$objs $obj"
done
rm -f "$OUT/libvmm-fuzz.a"
ar rcs "$OUT/libvmm-fuzz.a" $objs

failed=""
summary=""
for t in $targets; do
	name=$(basename "$t" .c)
	short=${name#fuzz_}
	echo "  LD      $OUT/$name"
	if ! $CC $CFLAGS $SAN -fsanitize=fuzzer -o "$OUT/$name" "$t" "$OUT/libvmm-fuzz.a" $LIBS; then
		failed="$failed $name(build)"
		continue
	fi
	corpus="tests/fuzz/corpus-$short"
	mkdir -p "$corpus"
	seeds=""
	[ -d "tests/fuzz/seeds/$short" ] && seeds="tests/fuzz/seeds/$short"
	if [ -n "${FUZZ_RUNS:-}" ]; then
		limit="-runs=$FUZZ_RUNS"
		echo "  FUZZ    $name for $FUZZ_RUNS runs"
	else
		limit="-max_total_time=$FUZZ_SECONDS"
		echo "  FUZZ    $name for ${FUZZ_SECONDS}s"
	fi
	opts=""
	[ -f "tests/fuzz/$name.options" ] && opts=$(sed 's/#.*//' "tests/fuzz/$name.options")
	if "$OUT/$name" $limit -close_fd_mask=2 -rss_limit_mb=2048 \
		-timeout=20 -max_len=1048576 $opts -artifact_prefix="$OUT/$name-" \
		"$corpus" $seeds >"$OUT/$name.log" 2>&1; then
		runs=$(grep -Eo 'Done [0-9]+ runs in [0-9]+' "$OUT/$name.log" | tail -1 | awk '{ print $2, $5 }')
		set -- $runs
		rate=$(( ${1:-0} / (${2:-0} > 0 ? ${2:-1} : 1) ))
		echo "ok - fuzz $name (${1:-?} runs in ${2:-?} s, $rate exec/s)"
		summary="$summary$(printf '%-24s %12s runs %8s exec/s' "$name" "${1:-?}" "$rate")
"
	else
		echo "not ok - fuzz $name: crash, see $OUT/$name.log and $OUT/$name-*"
		grep -E 'ERROR|SUMMARY|Test unit written' "$OUT/$name.log" | head -5
		failed="$failed $name"
	fi
done
printf 'fuzz: executions per target\n%s' "$summary"
if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed"
	exit 1
fi
echo "fuzz: all targets ran without crashes"
