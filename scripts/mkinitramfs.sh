#!/bin/sh
# Make an uncompressed initramfs with Debian's busybox-static and a given /init.
# Usage: scripts/mkinitramfs.sh OUT.cpio [INIT_SCRIPT]   (INIT_SCRIPT: file, or stdin)
# APPLETS="sh echo ..." limits the applet links (each entry costs boot time on
# hosts that emulate the guest kernel); default: the few most scripts need.
# Rootless: /dev/console comes from the kernel's built-in initramfs.
set -eu
out=$1
init=${2:--}
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkinitramfs: $bb missing: run scripts/install-deps.sh" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/proc" "$stage/sys" "$stage/dev" "$stage/tmp" "$stage/mnt"
cp "$bb" "$stage/bin/busybox"
for applet in ${APPLETS:-sh mount echo cat devmem nproc uname poweroff sleep}; do
	[ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done
if [ "$init" = - ]; then cat >"$stage/init"; else cp "$init" "$stage/init"; fi
chmod 755 "$stage/init"
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out.tmp"
mv "$out.tmp" "$out"
