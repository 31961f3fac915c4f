#!/bin/sh
# The guest's initramfs: /init = the vmm agent, plus the mount points it uses.
# Usage: scripts/mkagentcpio.sh OUT.cpio AGENT [EXTRA_DIR]
# EXTRA_DIR's contents are added as they are (tests put a busybox root there).
# Uncompressed on purpose: the guest kernel unpacks gzip very slowly on
# emulating hosts (docs/host-pvm.md). Rootless: owners are forced to 0:0.
set -eu
out=$1
agent=$2
extra=${3:-}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/dev" "$stage/proc" "$stage/sys" "$stage/mnt" "$stage/run"
cp "$agent" "$stage/init"
chmod 755 "$stage/init"
[ -z "$extra" ] || cp -a "$extra/." "$stage/"
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out.tmp"
mv "$out.tmp" "$out"
