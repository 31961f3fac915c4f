#!/bin/sh
# Warm start: the first run saves a snapshot of the agent-ready VM, later runs
# restore it. Same results as cold boots, fresh entropy in each restore, the
# right time, and a corrupt snapshot falling back to a cold boot (five restores
# at once: tests/stress/20-concurrent-restores.sh).
. tests/integration/lib.sh

guest_suite "snapshot"
case_cmd='echo "out $GREETING $(pwd)"; echo err >&2; md5sum; exit 42'
head -c 200000 /dev/urandom >"$T/in"
want_md5=$(md5sum <"$T/in" | cut -d' ' -f1)

# 1. A cold run saves the snapshot.
v --log-level info run --rm -i -e GREETING=hi -w /tmp busybox sh -c "$case_cmd" <"$T/in" >"$T/cold.out" 2>"$T/cold.err"
cold_rc=$?
expect_eq "snapshot: cold run exit status" 42 "$cold_rc"
expect_match "snapshot: the first run saves one" "snapshot [0-9a-f]{12} saved" "$(cat "$T/cold.err")"
keys=$("$VMM" snapshot ls -q)
expect_match "snapshot ls: lists it" '^[0-9a-f]{64}$' "$keys"

# 2. A warm run gives the same results.
v --log-level info run --rm -i -e GREETING=hi -w /tmp busybox sh -c "$case_cmd" <"$T/in" >"$T/warm.out" 2>"$T/warm.err"
warm_rc=$?
expect_match "snapshot: the second run restores it" "restored snapshot [0-9a-f]{12}" "$(cat "$T/warm.err")"
expect_eq "snapshot: warm exit status as cold" "$cold_rc" "$warm_rc"
expect_eq "snapshot: warm stdout as cold" "$(cat "$T/cold.out")" "$(cat "$T/warm.out")"
expect_eq "snapshot: warm stdout content" "out hi /tmp
$want_md5  -" "$(cat "$T/warm.out")"
expect_eq "snapshot: warm stderr as cold" "err" "$(grep -v '^vmm:' "$T/warm.err")"

# 3. --cold boots from scratch even with a snapshot.
v --log-level info run --rm --cold busybox true 2>"$T/c.err"
if grep -q "restored snapshot" "$T/c.err"; then fail "run --cold: no restore" "restored anyway"; else pass "run --cold: no restore"; fi

# 4. Restores do not share random state (tests/stress/ runs five at once), and the
# entropy source is virtio-rng.
rand='head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n"; echo'
rng=$(v run --rm busybox sh -c "$rand; cat /sys/class/misc/hw_random/rng_current; head -c 64 /dev/random | wc -c")
expect_eq "snapshot: the restored guest's entropy source is virtio-rng" "virtio_rng.0
64" "$(echo "$rng" | sed 1d)"

# 5. The guest's clock is the host's, not the snapshot's.
snapdir="$VMM_ROOT/snapshots/$keys"
age=$(( $(date +%s) - $(stat -c %Y "$snapdir/state") ))
before=$(date +%s)
guest=$(v run --rm busybox sh -c "$rand; date +%s")
after=$(date +%s)
r1=$(echo "$rng" | sed -n 1p) r2=$(echo "$guest" | sed -n 1p)
guest=$(echo "$guest" | sed -n 2p)
if [ ${#r1} -eq 32 ] && [ ${#r2} -eq 32 ] && [ "$r1" != "$r2" ]; then
	pass "snapshot: guest random numbers differ between restores"
else
	fail "snapshot: guest random numbers differ between restores" "'$r1' then '$r2'"
fi
if [ "$age" -lt 20 ]; then
	skip "snapshot: guest clock after restore" "the snapshot is only ${age}s old: nothing to prove"
elif [ "$guest" -ge $((before - 3)) ] && [ "$guest" -le $((after + 3)) ]; then
	pass "snapshot: guest clock within 3 s of the host after restoring a ${age}s old snapshot"
else
	fail "snapshot: guest clock after restore" "guest $guest, host $before..$after (snapshot ${age}s old)"
fi

# 6. A corrupt snapshot: warning, cold boot, and a new snapshot replaces it.
printf 'garbage' | dd of="$snapdir/state" bs=1 seek=300 conv=notrunc 2>/dev/null
out=$(v --log-level info run --rm busybox echo still works 2>&1); rc=$?
expect_eq "snapshot: corrupt state falls back (exit 0)" 0 "$rc"
expect_match "snapshot: corrupt state warned about" "warning: snapshot [0-9a-f]{12} is corrupt" "$out"
expect_match "snapshot: corrupt state, output still there" "still works" "$out"
expect_match "snapshot: a new one saved after the fallback" "snapshot [0-9a-f]{12} saved" "$out"
printf 'garbage' | dd of="$snapdir/memory" bs=1 seek=2000000 conv=notrunc 2>/dev/null
out=$(v --log-level info run --rm busybox echo memory checked 2>&1); rc=$?
expect_eq "snapshot: corrupt memory falls back (exit 0)" 0 "$rc"
expect_match "snapshot: corrupt memory warned about" "memory file is corrupt" "$out"
expect_match "snapshot: corrupt memory, output still there" "memory checked" "$out"

# 7. vmm snapshot rm
check "snapshot rm --all" "$VMM" snapshot rm --all
expect_eq "snapshot rm: none left" "" "$("$VMM" snapshot ls -q)"
out=$("$VMM" snapshot rm 0123abcd 2>&1); rc=$?
expect_match "snapshot rm: unknown key named" "snapshot 0123abcd: no such snapshot" "$out"
