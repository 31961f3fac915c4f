#!/bin/sh
# Check the layer rules of docs/architecture.md over the #include lines of the tree.
# Prints TAP: one "ok -"/"not ok -" line per rule, with the offending lines as "#" comments.
# Exit status 0 only when every rule holds.  Run from the top of the tree, or pass it.
#
#   base         vmm/base/            includes only vmm/base
#   core         vmm/*.c, vmm/x86/    no machine, engine, front doors, devices, images, guest-agent
#   devices      devices/             only vmm/base and core headers
#   images       images/              from vmm/ only vmm/base; no devices, guest-agent
#   machine      vmm/machine/         no engine, no front door
#   engine       vmm/engine/          no front door (cli, domain, api, oci), no devices
#   domain       vmm/domain/          a front door like the CLI: no cli, no devices
#   api          vmm/api/             the Docker Engine API, a front door too: no cli, no devices
#   oci          vmm/oci/             the OCI runtime command line, a front door too: no cli, no devices
#   guest-agent  guest-agent/         only vmm/base and guest-agent
set -u
cd "${1:-$(dirname "$0")/..}" || exit 2

n=0
failed=0

# includes FILES...: print "file:line:target" for every quoted #include
includes() {
	grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$@" 2>/dev/null |
		sed 's/^\([^:]*:[0-9]*\):.*"\([^"]*\)".*/\1:\2/'
}

# rule NAME BAD ALLOW FILES...: fail when a file of FILES includes a target that matches
# the regex BAD and not the regex ALLOW
rule() {
	name=$1 bad=$2 allow=$3
	shift 3
	n=$((n + 1))
	hits=$(includes "$@" | awk -F: -v bad="$bad" -v allow="$allow" '$3 ~ bad && $3 !~ allow')
	if [ -n "$hits" ]; then
		echo "not ok $n - $name"
		echo "$hits" | sed 's/^/#   /'
		failed=$((failed + 1))
	else
		echo "ok $n - $name"
	fi
}

files() {	# files DIR...: the .c and .h files under DIR
	find "$@" \( -name '*.c' -o -name '*.h' \) -type f | sort
}

core=$(ls vmm/*.c vmm/*.h 2>/dev/null; files vmm/x86)

echo "1..10"
# shellcheck disable=SC2046
rule "base includes nothing but base" '.' '^vmm/base/' $(files vmm/base)
rule "core does not include machine, engine, the front doors, devices, images or guest-agent" \
	'^(vmm/(machine|engine|cli|domain|api|oci)/|devices/|images/|guest-agent/)' '^$' $core
rule "devices include only base and core headers (no x86 layout)" \
	'.' '^(vmm/base/|vmm/[a-z0-9_-]+\.h$|devices/)' $(files devices)
rule "images include only base from vmm/" '.' '^(vmm/base/|images/)' $(files images)
rule "machine does not include engine or the front doors" '^vmm/(engine|cli|domain|api|oci)/' '^$' $(files vmm/machine)
rule "engine does not include the front doors or devices" '^(vmm/(cli|domain|api|oci)/|devices/)' '^$' $(files vmm/engine)
rule "domain does not include cli or devices" '^(vmm/cli/|devices/)' '^$' $(files vmm/domain)
rule "api does not include cli or devices" '^(vmm/cli/|devices/)' '^$' $(files vmm/api)
rule "oci does not include cli or devices" '^(vmm/cli/|devices/)' '^$' $(files vmm/oci)
rule "guest-agent includes only base and its own files" \
	'.' '^(vmm/base/|guest-agent/)' $(files guest-agent)

[ "$failed" -eq 0 ]
