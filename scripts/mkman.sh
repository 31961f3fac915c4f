#!/bin/sh
# Man pages for vmm and each command, from one source: the --help text the
# binary prints (help2man turns it into troff). vmm.1 lists the commands;
# vmm-COMMAND.1 is each command's own --help, and vmm-GROUP-SUB.1 each
# subcommand's (vmm system prune --help) when it prints a help of its own.
# Usage: scripts/mkman.sh BUILD/vmm OUTDIR
set -eu
vmm=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$2
command -v help2man >/dev/null || { echo "mkman: help2man missing: run scripts/install-deps.sh" >&2; exit 1; }
version=$("$vmm" --version | sed 's/^vmm version //')
mkdir -p "$out"
rm -f "$out"/vmm.1 "$out"/vmm-*.1	# no page outlives its command
wrap=$(mktemp -d)
trap 'rm -rf "$wrap"' EXIT

# help2man runs PROGRAM --help; a wrapper per command makes "vmm CMD" one program.
# SEEALSO: the pages to name in the page's SEE ALSO section (vmm-system-prune).
page() (	# NAME SUMMARY CMD [SEEALSO...]
	name=$1; summary=$2; cmd=$3; shift 3
	printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$vmm" "$cmd" > "$wrap/$name"
	chmod +x "$wrap/$name"
	include=""
	if [ $# -gt 0 ]; then
		{ printf '[SEE ALSO]\n.nh\n'; printf '.BR %s (1),\n' "$@" | sed 's/-/\\-/g;$s/,$//'; } > "$wrap/$name.h2m"
		include=--include=$wrap/$name.h2m
	fi
	help2man --no-info --section=1 --version-string="$version" --name="$summary" \
		--source="vmm $version" --manual="vmm manual" ${include:+"$include"} "$wrap/$name" > "$out/$name.1.tmp"
	mv "$out/$name.1.tmp" "$out/$name.1"
)

# The command table of a --help text: "  name   summary" lines under "Commands:".
commands() {	# < HELP: name and summary, one command a line
	sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\)/\1/p'
}

# A group's subcommands: its "Commands:" table (image, disk, system...), or
# else the verbs its usage lines name (vmm generate systemd, vmm snapshot ls).
subcommands() (	# GROUP < HELP: one name a line, in the order printed
	help=$(cat)
	{ printf '%s\n' "$help" | commands | cut -d' ' -f1
	  printf '%s\n' "$help" | sed -n "s/^\(Usage:\)\{0,1\} *vmm $1 \([a-z][a-z-]*\).*/\2/p"
	} | awk '!seen[$0]++'
)

# A subcommand's one-line summary: the first sentence of its help when that
# is short, else the text after the last wide gap of its group's table line
# ("prune     remove stopped..."), else that sentence however long.
summary() (	# GROUP SUB
	s=$("$vmm" "$1" "$2" --help | sed '/^Usage:/,/^$/d' | sed '/^$/q' | tr '\n' ' ' |
		sed 's/\. .*//;s/[.:]* *$//')
	t=$("$vmm" "$1" --help | commands | sed -n "s/^$2 .*  \([^ ].*\)/\1/p" | head -1)
	[ ${#s} -le 80 ] && [ -n "$s" ] || s=${t:-$s}
	printf '%s\n' "${s:-vmm $1 $2}"
)

cmds=$("$vmm" --help | commands | cut -d' ' -f1)
page vmm "a KVM micro-VM hypervisor that runs container images as micro-VMs" "" \
	$(for c in $cmds; do printf 'vmm-%s ' "$c"; done)
"$vmm" --help | commands | while read -r cmd summary; do
	help=$("$vmm" "$cmd" --help)
	subs=""
	for sub in $(printf '%s\n' "$help" | subcommands "$cmd"); do
		# A subcommand without a help of its own (one that fails, or only
		# repeats its group's: vmm snapshot ls) is all in the group's page.
		own=$("$vmm" "$cmd" "$sub" --help 2>/dev/null) && [ "$own" != "$help" ] || continue
		page "vmm-$cmd-$sub" "$(summary "$cmd" "$sub")" "$cmd $sub" vmm "vmm-$cmd"
		subs="$subs vmm-$cmd-$sub"
	done
	page "vmm-$cmd" "$summary" "$cmd" vmm $subs
done
