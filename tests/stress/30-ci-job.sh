#!/bin/sh
# Stress: a real build as a CI job does it (docs/sandbox.md). A Debian image with gcc, make
# and libc6-dev (scripts/build-debian-image.sh: mmdebstrap downloads ~100 MB of packages the
# first time, then its tar is cached) builds a small C project from a read-only source folder
# in the guest's /tmp and copies the binary to an output folder; it runs on the host
# (bookworm too: a static link written onto the share did not end within 10 minutes here).
# Then hostile jobs, each in a VM of its own, and after each the host is checked unchanged:
# its files, its processes, the store's disk use, its listening sockets. Out of make check:
# it downloads, it takes minutes.
. tests/integration/lib.sh

guest_suite "ci job"
RUN_TIMEOUT=900
IMAGE=vmm-ci/debian-gcc:bookworm
SRC=$T/src OUT=$T/out CANARY=$T/canary
VMM_EXE=$(readlink -f "$VMM")
echo "a host file no job may touch" >"$CANARY"

# --- the project: three .c files, a header, a Makefile with a test target ------------------
write_project() {
	mkdir -p "$SRC" "$OUT"
	cat >"$SRC/ci.h" <<'C'
int ci_sum(int n);
const char *ci_greeting(void);
C
	cat >"$SRC/sum.c" <<'C'
#include "ci.h"
int ci_sum(int n) { int s = 0; for (int i = 1; i <= n; i++) s += i; return s; }
C
	cat >"$SRC/greet.c" <<'C'
#include "ci.h"
const char *ci_greeting(void) { return "hello from a CI job"; }
C
	cat >"$SRC/main.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "ci.h"
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	printf("%s: sum(1..%d)=%d\n", ci_greeting(), n, ci_sum(n));
	return 0;
}
C
	# recipe lines start with "> " here, a tab in the Makefile
	sed 's/^> /	/' >"$SRC/Makefile" <<'MK'
CC = gcc
CFLAGS = -O2 -Wall -Werror
O = .
OBJS = $(O)/main.o $(O)/greet.o $(O)/sum.o

all: $(O)/hello
$(O)/hello: $(OBJS)
> $(CC) -o $@ $(OBJS)
$(O)/%.o: %.c ci.h
> $(CC) $(CFLAGS) -c -o $@ $<
test: $(O)/hello
> $(O)/hello | grep -qx 'hello from a CI job: sum(1..10)=55'
> @echo test passed
MK
}

# --- the host's state, before and after each job -------------------------------------------
host_files() {
	(cd "$SRC" && find . -type f | LC_ALL=C sort | xargs md5sum)
	md5sum "$CANARY" /etc/passwd /etc/hosts
}
# descends PID: is PID this script or one of its children (the job being measured)?
descends() {
	d=$1
	while [ -n "$d" ] && [ "$d" -gt 1 ]; do
		[ "$d" = "$$" ] && return 0
		d=$(awk '/^PPid:/ { print $2 }' "/proc/$d/status" 2>/dev/null)
	done
	return 1
}
# mine PID: a process of this test's vmm, or one with its scratch directory in its
# environment or arguments (VMM_ROOT is there in every process vmm starts)
mine() {
	[ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$VMM_EXE" ] && return 0
	{ tr '\0' '\n' <"/proc/$1/environ"; tr '\0' '\n' <"/proc/$1/cmdline"; } 2>/dev/null | grep -q -- "$T"
}
# host_procs: this test's processes outside the script's own tree (none, between jobs)
host_procs() {
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		mine "$pid" || continue
		descends "$pid" && continue
		echo "$pid $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-100)"
	done
}
# the store's disk use in KiB (du, not df: a CI run next to this one writes to the same disk)
store_kb() { du -sk "$VMM_ROOT" "$VMM_RUNTIME" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
listeners() { ss -Hltnu | awk '{ print $1, $5 }' | LC_ALL=C sort -u; }
# new_listeners_of_mine: the sockets listening now and not before that belong to this test
# (another program on the host may open and close its own meanwhile: noted, not counted)
new_listeners_of_mine() {
	listeners | LC_ALL=C comm -13 "$T/listen.before" - | while read -r proto addr; do
		port=${addr##*:}
		owners=$(ss -Hltnup "sport = :$port" | grep -o 'pid=[0-9]*' | sed 's/pid=//' | sort -u)
		for o in $owners; do
			if mine "$o"; then echo "$proto $addr pid $o"; else echo "# note: $proto $addr opened by pid $o, not this test" >&2; fi
		done
	done
}
state_before() {
	host_files >"$T/files.before"
	listeners >"$T/listen.before"
	kb_before=$(store_kb)
	df_before=$(df -k --output=used "$VMM_ROOT" | tail -1)
}
# host_unchanged JOB MAX_GROWTH_KB: after a job (and its container's removal)
host_unchanged() {
	files=$(host_files | diff "$T/files.before" - | grep '^[<>]' | head -3 | tr '\n' ' ')
	expect_eq "$1: host files unchanged (source md5, canary, /etc/passwd)" "" "$files"
	expect_eq "$1: no process left on the host" "" "$(host_procs | tr '\n' ';')"
	grown=$(($(store_kb) - kb_before))
	echo "#   $1: store grew ${grown} KiB (df of its filesystem: $(($(df -k --output=used "$VMM_ROOT" | tail -1) - df_before)) KiB, with whatever else runs)"
	check "$1: the store's disk use grew less than $2 KiB" test "$grown" -lt "$2"
	expect_eq "$1: no new listening socket" "" "$(new_listeners_of_mine | tr '\n' ';')"
}
# job NAME RUN-ARGS...: `vmm run RUN-ARGS` between two looks at the host;
# its output in $out, its exit status in $rc. The checks of the host come after the job's own.
job() {
	jname=$1
	shift
	state_before
	jstart=$(date +%s)
	out=$(v run "$@" 2>&1)
	rc=$?
	echo "#   $jname: exit $rc after $(($(date +%s) - jstart))s"
}

# --- the build ------------------------------------------------------------------------------
build_job() {
	if ! scripts/build-debian-image.sh "$VMM" "$IMAGE" >"$T/deb.log" 2>&1; then
		case $(cat "$T/deb.log") in
		*"mmdebstrap not found"* | *"mmdebstrap "*" failed"*)
			skip "ci job: the build" "$(tail -1 "$T/deb.log")" ;;
		*) fail "ci job: the Debian image" "$(tail -2 "$T/deb.log" | tr '\n' ' ')" ;;
		esac
		return
	fi
	sed 's/^/#   /' "$T/deb.log"
	# the image's root disk is made once per store, the image's size: before the measured jobs
	kb=$(store_kb)
	check "build: vmm create makes the image's root disk" sh -c \
		"'$VMM' create --name ci-prep '$IMAGE' >/dev/null && '$VMM' rm ci-prep >/dev/null"
	echo "#   the image's root disk: $(($(store_kb) - kb)) KiB in the store"
	write_project
	job "build" --rm --network none --timeout 10m --memory 512m --cpus 1 --pids-limit 200 \
		-v "$SRC:/src:ro" -v "$OUT:/out" -w /src "$IMAGE" \
		sh -c 'mkdir -p /tmp/b && make O=/tmp/b all test && cp /tmp/b/hello /out/hello'
	expect_eq "build: make all test exits 0" 0 "$rc"
	expect_match "build: gcc compiled each file" \
		"gcc -O2 -Wall -Werror -c -o /tmp/b/main.o main.c.*gcc -O2 -Wall -Werror -c -o /tmp/b/greet.o greet.c.*gcc -O2 -Wall -Werror -c -o /tmp/b/sum.o sum.c.*gcc -o /tmp/b/hello" \
		"$(echo "$out" | tr '\n' ' ')"
	expect_match "build: the test target passed in the guest" "^test passed$" "$out"
	expect_match "build: the artifact is an x86-64 executable" "ELF 64-bit LSB .*executable, x86-64" \
		"$(LC_ALL=C file "$OUT/hello")"
	expect_eq "build: the artifact runs on the host" "hello from a CI job: sum(1..100)=5050" \
		"$("$OUT/hello" 100 2>&1)"
	expect_eq "build: nothing written into the source folder" "Makefile ci.h greet.c main.c sum.c" \
		"$(ls "$SRC" | tr '\n' ' ' | sed 's/ $//')"
	host_unchanged "build" 65536
}

# --- the hostile jobs (busybox: none needs gcc) ---------------------------------------------
fork_bomb() {
	# the bomb churns forever; the shell watches pids.events with builtins alone (a fork
	# may fail) and leaves once the limit has refused a fork: the VM stops with the rest
	job "fork bomb" --rm --network none --pids-limit 64 --timeout 5m busybox sh -c '
		read m </sys/fs/cgroup/pids.max; echo "pids.max=$m"
		(f() { f | f & }; f) 2>/dev/null
		while read k n </sys/fs/cgroup/pids.events; [ "$n" = 0 ]; do :; done
		echo "pids.events: $k $n"'
	expect_match "fork bomb: pids.max is 64 and forks were refused at it" \
		"pids.max=64 pids.events: max [1-9]" "$(echo "$out" | grep '^pids' | tr '\n' ' ')"
	expect_eq "fork bomb: the job ends when its main process does (exit 0, not a timeout)" 0 "$rc"
	host_unchanged "fork bomb" 65536
}
memory_hog() {
	# dd's buffer: over the limit, under the VM's 64 + 96 MiB (one bigger than the VM is
	# refused by malloc, exit 1, before the OOM killer has anything to do)
	job "memory hog" --rm --network none --memory 64m busybox sh -c \
		'cat /sys/fs/cgroup/memory.max; dd if=/dev/zero of=/dev/null bs=96M count=1'
	expect_eq "memory hog: memory.max 64 MiB, killed by the OOM killer (137)" "67108864 137" \
		"$(echo "$out" | head -1) $rc"
	host_unchanged "memory hog" 65536
}
disk_filler() {
	# fallocate takes all but 2 MiB (a guest writing 256 MiB through an emulated kernel takes
	# half an hour here), then dd writes real bytes until the disk refuses them
	job "disk filler" --name ci-fill --network none --storage-opt size=256m busybox sh -c '
		df -k / | tail -1 | awk "{ print \$2 }"
		a=$(df -k / | tail -1 | awk "{ print \$4 }"); fallocate -l $((a - 2048))k /fill
		yes "a disk filler line, 40 bytes of it......" | dd of=/x bs=64k 2>&1 | head -1
		echo "written: $(($(wc -c </x) / 1024)) KiB"'
	expect_match "disk filler: the guest gets ENOSPC" "^dd: error writing '/x': No space left on device$" "$out"
	check "disk filler: dd wrote real bytes first (at least 1 MiB)" \
		test "$(echo "$out" | sed -n 's/^written: \([0-9]*\) KiB$/\1/p')" -ge 1024
	check "disk filler: a root of at most 256 MiB" test "$(echo "$out" | head -1)" -le 262144
	sid=$("$VMM" inspect -f '{{.Id}}' ci-fill)
	qsize=$(du -k "$VMM_ROOT/containers/$sid/disk.qcow2" | cut -f1)
	echo "#   disk filler: the host file holds $qsize KiB"
	check "disk filler: the host file stays below 256 MiB" test "$qsize" -lt 262144
	"$VMM" rm ci-fill >/dev/null
	host_unchanged "disk filler" 65536
}
output_flood() {
	job "output flood" --name ci-flood --network none --log-opt max-size=1m --log-opt max-file=2 \
		busybox sh -c 'yes "an output flood line, 48 bytes of it............" | head -c 6000000; echo end of flood'
	fid=$("$VMM" inspect -f '{{.Id}}' ci-flood)
	logs=$(ls "$VMM_ROOT/containers/$fid"/container.log* | wc -l)
	bytes=$(cat "$VMM_ROOT/containers/$fid"/container.log* | wc -c)
	echo "#   output flood: $logs log files, $bytes bytes"
	expect_eq "output flood: exit 0, the whole 6 MB reached vmm run's stdout" "0 6000013" \
		"$rc $(printf '%s\n' "$out" | wc -c)"
	check "output flood: at most 2 log files of 1 MiB" test "$logs" -le 2 -a "$bytes" -le 2097152
	expect_match "output flood: the log keeps the end" "end of flood$" \
		"$(timeout 60 "$VMM" logs ci-flood 2>&1 | tail -1)"
	"$VMM" rm ci-flood >/dev/null
	host_unchanged "output flood" 65536
}
runaway() {
	job "runaway time" --rm --network none --timeout 5s busybox sh -c 'echo started; while :; do :; done'
	expect_eq "runaway time: stopped after 5 s, exit 124 and one line" \
		"124 started vmm: error: container X: timed out after 5 s: stopped" \
		"$rc $(echo "$out" | sed 's/container [^:]*:/container X:/' | tr '\n' ' ' | sed 's/ $//')"
	host_unchanged "runaway time" 65536
}
readonly_source() {
	write_project
	# each attempt prints the error or WROTE; a remount read-write changes nothing
	job "writes into the read-only source" --rm --network none -v "$SRC:/src:ro" busybox sh -c '
		try() { "$@" 2>&1 && echo "WROTE: $*"; }
		try sh -c "echo hostile >/src/main.c"; try sh -c "echo hostile >/src/new.c"
		try rm /src/ci.h; try mkdir /src/d; try touch /src/Makefile
		mount -o remount,rw /src 2>&1; try sh -c "echo hostile >>/src/sum.c"'
	expect_eq "read-only source: all 6 writes refused with EROFS" "6 0" \
		"$(echo "$out" | grep -c 'Read-only file system') $(echo "$out" | grep -c '^WROTE')"
	expect_eq "read-only source: nothing new in the folder" "Makefile ci.h greet.c main.c sum.c" \
		"$(ls "$SRC" | tr '\n' ' ' | sed 's/ $//')"
	host_unchanged "read-only source" 65536
}
no_network() {
	job "network none" --rm --network none busybox sh -c '
		echo "interfaces: $(ls /sys/class/net | tr "\n" " ")"
		timeout 3 wget -q -O- http://10.0.2.2/ >/dev/null 2>&1; echo "wget 10.0.2.2: $?"
		nc -w 3 1.1.1.1 80 </dev/null >/tmp/nc 2>&1; echo "nc 1.1.1.1: $? $(head -1 /tmp/nc)"
		ping -c 1 -W 2 1.1.1.1 >/tmp/ping 2>&1; echo "ping 1.1.1.1: $? $(tail -1 /tmp/ping)"'
	expect_eq "network none: only lo" "interfaces: lo " "$(echo "$out" | grep '^interfaces:')"
	expect_match "network none: wget to the host's slirp address fails (exit 1: not a crash, not a timeout)" "^wget 10\.0\.2\.2: 1$" "$out"
	expect_match "network none: nc to 1.1.1.1 fails, unreachable" "^nc 1\.1\.1\.1: [1-9][0-9]* .*Network is unreachable" "$out"
	expect_match "network none: ping to 1.1.1.1 fails, unreachable" "^ping 1\.1\.1\.1: [1-9][0-9]* .*Network is unreachable" "$out"
	host_unchanged "network none" 65536
}

build_job
fork_bomb
memory_hog
disk_filler
output_flood
runaway
readonly_source
no_network
