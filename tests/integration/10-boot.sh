#!/bin/sh
# vmm boot: real guests from a busybox initramfs; exit statuses, panic, SMP, bad input.
. tests/integration/lib.sh

if [ ! -f "$KERNEL" ]; then
	fail "boot: guest kernel" "$KERNEL missing (make kernel)"
	exit 0
fi
if ! have_kvm; then
	skip "boot: guests" "/dev/kvm not accessible on this host"
	exit 0
fi

# mkinit NAME: an initramfs whose /init is the rest of stdin, after common setup.
mkinit() {
	{
		echo '#!/bin/sh'
		echo 'mount -t proc proc /proc; mount -t devtmpfs dev /dev'
		cat
	} >"$T/$1.init"
	APPLETS="sh mount echo devmem nproc poweroff" scripts/mkinitramfs.sh "$T/$1.cpio" "$T/$1.init"
}

boot() {	# boot NAME [vmm boot options...]; sets out, err, rc
	name=$1; shift
	timeout "$BOOT_TIMEOUT" "$VMM" boot --kernel "$KERNEL" --initrd "$T/$name.cpio" "$@" \
		>"$T/$name.out" 2>"$T/$name.err" </dev/null
	rc=$?
	out=$(cat "$T/$name.out")
	err=$(cat "$T/$name.err")
}

# Each boot is slow where the guest kernel is emulated: three guests cover it all.
# 1. Output appears, two vCPUs come up (MP table, AP startup), and a plain
# power-off (halt with interrupts off) exits 0.
mkinit hello <<'EOF2'
echo "hello from the guest"
echo "nproc=$(nproc)"
poweroff -f
EOF2
boot hello --cpus 2
expect_match "boot: guest output reaches stdout" "^hello from the guest" "$out"
expect_match "boot: 2 vCPUs online in the guest" "nproc=2" "$out"
expect_eq "boot: guest power-off exits 0" 0 "$rc"

# 2. The status written to the exit device becomes vmm's exit status.
mkinit exit42 <<'EOF2'
echo "exiting with 42"
devmem 0xd0000000 8 42
EOF2
boot exit42 --console "$T/console42.log"
expect_eq "boot: guest exit status 42" 42 "$rc"
expect_match "boot: --console FILE receives the guest console" "exiting with 42" "$(cat "$T/console42.log")"
expect_eq "boot: --console FILE keeps stdout clean" "" "$out"

# 3. A guest kernel panic (init exits) is reported as a panic, with the console tail.
mkinit panic <<'EOF2'
echo "init is leaving"
exit 3
EOF2
boot panic
expect_eq "boot: guest panic exits 125" 125 "$rc"
expect_match "boot: guest panic named as such" "guest kernel panic" "$err"
expect_match "boot: panic report shows the console tail" "Kernel panic - not syncing: Attempted to kill init" "$err"
