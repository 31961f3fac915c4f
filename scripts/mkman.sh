#!/bin/sh
# Man pages for vmm and each command, from one source: the --help text the
# binary prints (help2man turns it into troff). vmm.1 lists the commands;
# vmm-COMMAND.1 is each command's own --help.
# Usage: scripts/mkman.sh BUILD/vmm OUTDIR
set -eu
vmm=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$2
command -v help2man >/dev/null || { echo "mkman: help2man missing: run scripts/install-deps.sh" >&2; exit 1; }
version=$("$vmm" --version | sed 's/^vmm version //')
mkdir -p "$out"
wrap=$(mktemp -d)
trap 'rm -rf "$wrap"' EXIT

# help2man runs PROGRAM --help; a wrapper per command makes "vmm CMD" one program.
page() {	# NAME SUMMARY [CMD]
	name=$1; summary=$2; cmd=${3:-}
	printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$vmm" "$cmd" > "$wrap/$name"
	chmod +x "$wrap/$name"
	help2man --no-info --section=1 --version-string="$version" --name="$summary" \
		--source="vmm $version" --manual="vmm manual" "$wrap/$name" > "$out/$name.1.tmp"
	mv "$out/$name.1.tmp" "$out/$name.1"
}

page vmm "a KVM micro-VM hypervisor that runs container images as micro-VMs"
# The command table of `vmm --help`: "  name   summary".
"$vmm" --help | sed -n '/^Commands:/,/^$/p' | sed '1d;/^$/d' | while read -r cmd summary; do
	page "vmm-$cmd" "$summary" "$cmd"
done
