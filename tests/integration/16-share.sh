#!/bin/sh
# vmm boot --share: a host folder in a real guest over virtio-fs (virtiofsd over
# vhost-user): both directions byte for byte, read-only enforced on the host, a
# guest that cannot climb out, and no daemon left behind, kill -9 included.
. tests/integration/lib.sh

export VMM_RUNTIME="$T/run"
# Bad input is refused before /dev/kvm is opened: these run on any host.
out=$("$VMM" boot --kernel "$KERNEL" --share "$T/nope" 2>&1); rc=$?
expect_eq "share: a missing folder is one line, exit 125" "125 vmm: error: shared folder $T/nope: No such file or directory" "$rc $out"
touch "$T/plain"
out=$("$VMM" boot --kernel "$KERNEL" --share "$T/plain" 2>&1); rc=$?
expect_eq "share: a file is not a folder" "125 vmm: error: shared folder $T/plain: not a directory" "$rc $out"
out=$("$VMM" boot --kernel "$KERNEL" --share "$T,tag=a" --share "$T,tag=a" 2>&1); rc=$?
expect_eq "share: a tag used twice" "125 vmm: error: shared folder tag 'a' is used twice" "$rc $out"
out=$("$VMM" boot --kernel "$KERNEL" --share "$T,tag=0123456789012345678901234567890123456" 2>&1); rc=$?
expect_eq "share: a tag longer than 36 bytes" "125" "$rc"
out=$("$VMM" boot --kernel "$KERNEL" --share "$T" --virtiofsd /nonexistent 2>&1); rc=$?
expect_eq "share: a missing --virtiofsd" "125 vmm: error: virtiofsd /nonexistent: No such file or directory" "$rc $out"

if ! have_kvm; then
	skip "share: guests" "/dev/kvm not accessible on this host"
	exit 0
fi
FSD=$("$VMM" check --json | jq -r '.items[] | select(.item == "virtiofsd" and .status == "ok") | .detail')
if [ -z "$FSD" ]; then
	skip "share: guests" "virtiofsd not installed (qemu-system-common)"
	exit 0
fi

mkinit() {	# NAME: an initramfs whose /init is stdin after the usual mounts
	{
		echo '#!/bin/sh'
		echo 'mount -t proc proc /proc; mount -t devtmpfs dev /dev'
		cat
	} >"$T/$1.init"
	APPLETS="sh mount echo cat devmem ln mkdir cmp head sync" scripts/mkinitramfs.sh "$T/$1.cpio" "$T/$1.init"
}
boot() {	# NAME [options]: sets out, rc
	name=$1; shift
	timeout "$BOOT_TIMEOUT" "$VMM" boot --kernel "$KERNEL" --initrd "$T/$name.cpio" "$@" \
		>"$T/$name.out" 2>"$T/$name.err" </dev/null
	rc=$?
	out=$(cat "$T/$name.out")
}
daemons() { pgrep -f "virtiofsd.*$T" | wc -l; }

mkdir -p "$T/share/sub" "$T/ro" "$T/secret"
head -c 3000000 /dev/urandom > "$T/share/sub/blob"
echo "host says hi" > "$T/share/hello.txt"
echo "ro content" > "$T/ro/file"
echo "do not read" > "$T/secret/key"
ln -s "$T/secret/key" "$T/share/escape"

# One guest, two shares (each boot is slow where the guest kernel is emulated):
# share0 read-write, data read-only.
mkinit rw <<'EOF2'
mount -t virtiofs share0 /mnt || { echo "mount failed"; devmem 0xd0000000 8 3; }
cat /mnt/hello.txt
cat /mnt/sub/blob > /mnt/sub/copy && sync
echo "guest wrote this" > /mnt/from-guest.txt
cat /mnt/escape 2>/dev/null && echo "ESCAPED" || echo "no escape"
mkdir -p /mnt/newdir && echo nested > /mnt/newdir/f
mkdir /ro && mount -t virtiofs data /ro || devmem 0xd0000000 8 4
cat /ro/file
if echo x > /ro/new 2>/dev/null; then echo "WRITE OK"; else echo "write refused"; fi
mount -o remount,rw /ro 2>/dev/null
if echo x > /ro/new2 2>/dev/null; then echo "WRITE2 OK"; else echo "write2 refused"; fi
devmem 0xd0000000 8 0
EOF2
boot rw --share "$T/share" --share "$T/ro,tag=data,ro"
expect_eq "share: guest exits 0" 0 "$rc"
expect_match "share: the guest reads a host file" "host says hi" "$out"
check "share: a 3 MB file copied inside the guest is byte for byte the same" cmp "$T/share/sub/blob" "$T/share/sub/copy"
expect_eq "share: the host sees the guest's new file" "guest wrote this" "$(cat "$T/share/from-guest.txt" 2>&1)"
expect_eq "share: and its new folder" "nested" "$(cat "$T/share/newdir/f" 2>&1)"
expect_match "share: an absolute symlink resolves inside the guest, not to the host's file" "no escape" "$out"
expect_eq "share: no virtiofsd left" 0 "$(daemons)"
expect_match "share ro: the guest reads it" "ro content" "$out"
expect_match "share ro: writes refused" "write refused" "$out"
expect_match "share ro: refused by the host even after a guest remount rw" "write2 refused" "$out"
check "share ro: nothing created on the host" test ! -e "$T/ro/new" -a ! -e "$T/ro/new2"

# kill -9 of vmm: the daemon goes with it.
mkinit hang <<'EOF2'
mount -t virtiofs share0 /mnt
echo ready
while :; do cat /mnt/hello.txt >/dev/null; done
EOF2
# no timeout(1) wrapper: $! must be vmm itself, the process the test kills
"$VMM" boot --kernel "$KERNEL" --initrd "$T/hang.cpio" --share "$T/share" >"$T/hang.out" 2>&1 </dev/null &
pid=$!
for i in $(seq 1 "$BOOT_TIMEOUT"); do grep -q ready "$T/hang.out" && break; sleep 1; done
# vmm starts one; with sandbox=namespace the C virtiofsd forks its worker under it
expect_eq "share: one virtiofsd started by vmm while the guest runs" 1 "$(pgrep -P $pid -f "virtiofsd.*$T" | wc -l)"
kill -9 $pid; wait $pid 2>/dev/null
for i in $(seq 1 50); do [ "$(daemons)" = 0 ] && break; sleep 0.1; done
expect_eq "share: kill -9 of vmm leaves no virtiofsd" 0 "$(daemons)"

