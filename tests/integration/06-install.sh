#!/bin/sh
# make install / uninstall (PREFIX, DESTDIR): the binary beside its guest
# payloads, man pages made from the --help texts, bash completion.
. tests/integration/lib.sh

for tool in help2man bash; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip "install" "$tool not installed (scripts/install-deps.sh)"
		exit 0
	fi
done
D="$T/dest"
if ! out=$(make -s install DESTDIR="$D" PREFIX=/usr 2>&1); then
	fail "make install" "$(echo "$out" | tail -3 | tr '\n' ' ')"
	exit 0
fi
pass "make install DESTDIR PREFIX=/usr"
check "the binary is in lib/vmm, linked from bin" test "$(readlink -f "$D/usr/bin/vmm")" = "$D/usr/lib/vmm/vmm"
check "its guest kernel and agent beside it" test -s "$D/usr/lib/vmm/vmlinux" -a -s "$D/usr/lib/vmm/guest/agent.cpio"
expect_eq "the installed vmm runs" "$("$VMM" --version)" "$("$D/usr/bin/vmm" --version)"
M="$D/usr/share/man/man1"
expect_eq "a man page for vmm and for each command" "" \
	"$(for c in $("$VMM" --help | sed -n '/^Commands:/,/^$/p' | awk '/^  [a-z]/ { print $1 }'); do
		test -s "$M/vmm-$c.1" || echo "no vmm-$c.1"; done; test -s "$M/vmm.1" || echo "no vmm.1")"
expect_eq "a man page for each subcommand with a help of its own" "" \
	"$(for p in system-df system-prune system-info system-service volume-create volume-ls volume-inspect \
		volume-rm volume-prune network-create network-ls network-rm network-prune image-ls image-rm \
		disk-create disk-check; do test -s "$M/vmm-$p.1" || echo "no vmm-$p.1"; done)"
check "vmm-system-prune.1 has system prune's options" grep -qF -- '\-\-volumes' "$M/vmm-system-prune.1"
check "vmm-system.1 names its subcommands' pages" grep -qF 'vmm\-system\-prune' "$M/vmm-system.1"
check "no page for a subcommand that only repeats its group's help" test ! -e "$M/vmm-snapshot-ls.1"
if command -v man >/dev/null 2>&1; then
	expect_match "vmm-run.1 is the run command's help" "vmm-run - Run a command in a new container" "$(MANWIDTH=100 man -l "$M/vmm-run.1" 2>&1)"
	expect_match "vmm.1 lists the commands" "volume +Manage volumes" "$(MANWIDTH=100 man -l "$M/vmm.1" 2>&1)"
	expect_match "man -l renders a subcommand's page" "vmm system prune \\[OPTIONS\\].*--volumes +anonymous volumes" \
		"$(MANWIDTH=100 man -l "$M/vmm-system-prune.1" 2>&1 | tr '\n' ' ')"
else
	skip "man -l renders the pages" "man not installed"
fi
expect_eq "the man pages render without warnings" "" \
	"$(for f in "$D"/usr/share/man/man1/*.1; do groff -man -Tutf8 -ww -z "$f" 2>&1; done | head -3)"

complete() {	# WORDS...: what bash completes for the last word
	PATH="$D/usr/bin:$PATH" bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vmm; echo "${COMPREPLY[*]}"' \
		sh "$D/usr/share/bash-completion/completions/vmm" "$@"
}
expect_eq "completion: commands" "volume version" "$(complete vmm v)"
expect_eq "completion: a command's verbs" "prune" "$(complete vmm volume pr)"
expect_match "completion: a command's options" "--subnet" "$(complete vmm network create --s)"
expect_match "completion: global options" "--log-level" "$(complete vmm --lo)"
expect_eq "completion: a subcommand's options" "--volumes" "$(complete vmm system prune --vol)"
expect_eq "completion: a subcommand's options, not its group's" "--all --force --help --volumes" \
	"$(complete vmm system prune --)"
expect_eq "completion: verbs from usage lines" "systemd" "$(complete vmm generate s)"

make -s uninstall DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
expect_eq "make uninstall removes everything it installed" "" "$(find "$D" -type f -o -type l)"
