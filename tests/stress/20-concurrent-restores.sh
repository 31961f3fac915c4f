#!/bin/sh
# Soak: five containers restored from one snapshot at once. All run, and none
# shares another's random state. 55-snapshot.sh checks restores one at a time.
. tests/integration/lib.sh

guest_suite "concurrent restores"
RUN_TIMEOUT=900	# five guests at once share the host's cores
v --log-level info run --rm busybox true 2>"$T/cold.err"
expect_match "concurrent restores: the first run saves a snapshot" "snapshot [0-9a-f]{12} saved" "$(cat "$T/cold.err")"
for i in 1 2 3 4 5; do
	v --log-level info run --rm busybox sh -c 'head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n"' \
		>"$T/par$i.out" 2>"$T/par$i.err" &
done
wait
ok_count=0 restored=0
for i in 1 2 3 4 5; do
	[ "$(wc -c <"$T/par$i.out")" -eq 32 ] && ok_count=$((ok_count + 1))
	grep -q "restored snapshot" "$T/par$i.err" && restored=$((restored + 1))
done
expect_eq "snapshot: 5 concurrent restores all ran" 5 "$ok_count"
expect_eq "snapshot: all 5 were restores" 5 "$restored"
distinct=$(for i in 1 2 3 4 5; do cat "$T/par$i.out"; echo; done | sort -u | wc -l)
expect_eq "snapshot: guest random numbers differ between restores" 5 "$distinct"
