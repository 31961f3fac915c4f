#!/bin/sh
# vmm system df and vmm system prune: counts, what goes, what stays, the prompt.
. tests/integration/lib.sh

export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	fail "system: busybox image" "$(tail -2 "$T/img.log")"
	exit 0
fi
mkdir -p "$T/r/etc" && echo x >"$T/r/etc/x" && tar -C "$T/r" -cf "$T/r.tar" .
dangling=$("$VMM" import "$T/r.tar" 2>/dev/null)
"$VMM" import "$T/r.tar" kept/tagged:1 >/dev/null 2>&1
unused=$("$VMM" import -c 'ENV U=1' "$T/r.tar" unused/tagged:1 2>/dev/null)
"$VMM" create --name used busybox true >/dev/null 2>&1
"$VMM" create --name stopped2 busybox true >/dev/null 2>&1
"$VMM" network create pruneme >/dev/null 2>&1
printf 'FROM busybox\nENV A=1\nLABEL b=2\n' | "$VMM" build -q - >/dev/null 2>&1

df=$("$VMM" system df 2>&1)
expect_match "system df: docker's columns" "^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE" "$df"
expect_match "system df: images (busybox, three imported, the build's)" "Images +5 +1 " "$df"
expect_match "system df: containers, none running" "Containers +2 +0 " "$df"
expect_match "system df: the build cache's entries" "Build Cache +2 +0 " "$df"

out=$(echo n | "$VMM" system prune 2>&1)
expect_match "system prune asks first" "Are you sure you want to continue\? \[y/N\]" "$out"
expect_eq "... and a no keeps everything" "2" "$("$VMM" ps -a -q | wc -l)"
out=$("$VMM" system prune -f 2>&1); rc=$?
expect_eq "system prune -f exits 0" "0" "$rc"
expect_match "... lists the containers it removed" "Deleted Containers:" "$out"
expect_eq "... no container is left" "" "$("$VMM" ps -a -q)"
expect_match "... the unused network went" "Deleted Networks:
pruneme" "$out"
expect_match "... the dangling image went" "deleted: $dangling" "$out"
expect_eq "... tagged images stay without -a" "kept/tagged unused/tagged" \
	"$("$VMM" images --format '{{.Repository}}' -f reference='*/tagged' | sort | tr '\n' ' ' | sed 's/ $//')"
expect_match "... the build cache went" "Deleted build cache objects: 2" "$out"
expect_match "... and the total" "Total reclaimed space: " "$out"
"$VMM" create --name keepme kept/tagged:1 >/dev/null 2>&1
out=$("$VMM" system prune -a -f 2>&1)
expect_match "system prune -a: unused tagged images go too" "deleted: $unused" "$out"
expect_eq "... the stopped containers gone first, as docker, no image is left" "" "$("$VMM" images -q)"
out=$("$VMM" system prune --bogus 2>&1); rc=$?
expect_match "system prune with a bad flag: one line" "^vmm: error: invalid option '--bogus' or missing argument" "$out"
