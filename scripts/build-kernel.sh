#!/bin/sh
# Build the guest vmlinux from Debian's linux-source-6.1: tinyconfig plus
# kernel-configs/microvm-x86_64.config. The result is cached outside the
# checkout, keyed by the fragment, this script and the source version, so a
# machine builds it once. Prints the path of the cached vmlinux on stdout.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
frag="$top/kernel-configs/microvm-x86_64.config"
tarball=/usr/src/linux-source-6.1.tar.xz

die() { echo "build-kernel: $*" >&2; exit 1; }

[ -r "$tarball" ] || die "$tarball missing: run scripts/install-deps.sh"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
	die "package linux-source-6.1 not installed: run scripts/install-deps.sh"

key=$( (cat "$frag" "$0"; echo "$srcver") | sha256sum | cut -c1-16)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/vmm"
out="$cache/kernel-$key"

if [ -f "$out/vmlinux" ]; then
	echo "$out/vmlinux"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/kernel-$key.lock"
flock 9
if [ -f "$out/vmlinux" ]; then	# built by another process meanwhile
	echo "$out/vmlinux"
	exit 0
fi

work="$cache/kernel-$key.build"
rm -rf "$work"
mkdir -p "$work"
echo "build-kernel: building linux-source-6.1 ($srcver) in $work" >&2
tar -xf "$tarball" -C "$work"
src="$work/linux-source-6.1"

jobs=$(nproc)
{
	make -C "$src" -s tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$frag"
	make -C "$src" -s olddefconfig
} >"$work/config.log" 2>&1 || { tail -20 "$work/config.log" >&2; die "configuration failed"; }

# Every option of the fragment must survive olddefconfig: a dependency that
# silently drops one would make the fragment lie.
bad=0
grep -E '^(CONFIG_[A-Z0-9_]+=|# CONFIG_[A-Z0-9_]+ is not set)' "$frag" | while read -r line; do
	case "$line" in
	"# CONFIG_"*)
		opt=${line#\# }; opt=${opt%% *}
		if grep -q "^$opt=" "$src/.config"; then
			echo "build-kernel: $opt should be off but is $(grep "^$opt=" "$src/.config")" >&2
			echo bad
		fi ;;
	*)
		if ! grep -qx "$line" "$src/.config"; then
			opt=${line%%=*}
			echo "build-kernel: wanted $line, got $(grep "^$opt=" "$src/.config" || echo 'unset')" >&2
			echo bad
		fi ;;
	esac
done >"$work/mismatch"
grep -q bad "$work/mismatch" && bad=1
[ "$bad" -eq 0 ] || die "the config fragment does not apply cleanly (see above)"

make -C "$src" -s -j"$jobs" vmlinux >"$work/build.log" 2>&1 ||
	{ tail -30 "$work/build.log" >&2; die "kernel build failed (log: $work/build.log)"; }

tmp="$cache/kernel-$key.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
cp "$src/vmlinux" "$tmp/vmlinux"
cp "$src/.config" "$tmp/config"
strip --strip-debug "$tmp/vmlinux" 2>/dev/null || true
mv "$tmp" "$out"
rm -rf "$work"
echo "build-kernel: done: $out/vmlinux" >&2
echo "$out/vmlinux"
