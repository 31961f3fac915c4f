#!/bin/sh
# virtio-blk in real guests: data written in the guest checked on the host with
# qemu-img, a disk prepared on the host read in the guest, and crash consistency
# when the vmm process is killed while the guest writes and flushes.
. tests/integration/lib.sh

if [ ! -f "$KERNEL" ]; then
	fail "blk: guest kernel" "$KERNEL missing (make kernel)"
	exit 0
fi
if ! have_kvm; then
	skip "blk: guests" "/dev/kvm not accessible on this host"
	exit 0
fi

mkinit() {	# NAME, /init body on stdin
	{
		echo '#!/bin/sh'
		echo 'mount -t proc proc /proc; mount -t devtmpfs dev /dev; mount -t sysfs sys /sys'
		cat
	} >"$T/$1.init"
	APPLETS="sh mount echo cat dd sync md5sum devmem head tail od" scripts/mkinitramfs.sh "$T/$1.cpio" "$T/$1.init"
}

# 1. One boot: copy a host-made raw disk (vdb, read-only) into a qcow2 (vda),
#    read back a qcow2 prepared by qemu-img/qemu-io (vdc), report serials and sizes.
head -c 1048576 /dev/urandom >"$T/src.raw"
qemu-img create -q -f qcow2 "$T/dst.qcow2" 8M
qemu-img create -q -f qcow2 -o cluster_size=4096 "$T/host.qcow2" 2M
qemu-io -c "write -P 0x5a 256k 128k" -c "write -P 0xa5 1536k 256k" "$T/host.qcow2" >/dev/null
want_host=$(qemu-img convert -O raw "$T/host.qcow2" "$T/host.raw" && md5sum <"$T/host.raw" | cut -d' ' -f1)
mkinit copy <<'EOF'
echo "sizes $(cat /sys/block/vda/size) $(cat /sys/block/vdb/size) $(cat /sys/block/vdc/size)"
echo "vdb ro=$(cat /sys/block/vdb/ro) serial=$(cat /sys/block/vdb/serial)"
dd if=/dev/vdb of=/dev/vda bs=64k 2>/dev/null
sync
echo "vdc md5 $(md5sum </dev/vdc)"
devmem 0xd0000000 8 0
EOF
out=$(timeout "$BOOT_TIMEOUT" "$VMM" boot --kernel "$KERNEL" --initrd "$T/copy.cpio" \
	--disk "$T/dst.qcow2" --disk "$T/src.raw,ro,format=raw,serial=SRC-DISK-1" \
	--disk "$T/host.qcow2,format=qcow2" 2>&1); rc=$?
expect_eq "blk: guest exits 0" 0 "$rc"
expect_match "blk: disk sizes seen by the guest" "^sizes 16384 2048 4096" "$out"
expect_match "blk: read-only disk and serial (GET_ID)" "^vdb ro=1 serial=SRC-DISK-1" "$out"
check "blk: qcow2 written by the guest passes qemu-img check" qemu-img check -q "$T/dst.qcow2"
qemu-img convert -O raw "$T/dst.qcow2" "$T/dst.raw"
expect_eq "blk: the guest's writes read back on the host byte for byte" \
	"$(md5sum <"$T/src.raw" | cut -d' ' -f1)" "$(head -c 1048576 "$T/dst.raw" | md5sum | cut -d' ' -f1)"
expect_match "blk: a qcow2 prepared by qemu-io reads the same in the guest" "^vdc md5 $want_host" "$out"

# 2. Crash consistency: the guest writes numbered sectors, each flushed (dd conv=fsync)
#    before it says so; vmm is killed with SIGKILL mid-loop. Afterwards qemu-img check
#    finds no corruption and every sector the guest reported flushed holds its number.
qemu-img create -q -f qcow2 "$T/crash.qcow2" 8M
mkinit crash <<'EOF'
i=1
while [ $i -le 200 ]; do
	printf 'flushed-%08d' $i | dd of=/dev/vda bs=512 seek=$i conv=fsync,sync 2>/dev/null
	echo "FLUSHED $i"
	i=$((i + 1))
done
devmem 0xd0000000 8 0
EOF
"$VMM" boot --kernel "$KERNEL" --initrd "$T/crash.cpio" --disk "$T/crash.qcow2" >"$T/crash.out" 2>&1 &
pid=$!
i=0
while [ $i -lt $((BOOT_TIMEOUT * 10)) ] && ! grep -q "FLUSHED 6" "$T/crash.out"; do i=$((i + 1)); sleep 0.1; done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
last=$(grep -o 'FLUSHED [0-9]*' "$T/crash.out" | tail -1 | cut -d' ' -f2)
if [ -z "$last" ]; then
	fail "blk crash: the guest got to write" "no FLUSHED line: $(tail -3 "$T/crash.out")"
else
	qemu-img check "$T/crash.qcow2" >"$T/check.out" 2>&1; rc=$?
	if [ $rc -eq 0 ] || [ $rc -eq 3 ]; then pass "blk crash: qemu-img check finds no corruption (exit $rc)"; else
		fail "blk crash: qemu-img check finds no corruption" "exit $rc: $(tail -3 "$T/check.out")"; fi
	qemu-img convert -O raw "$T/crash.qcow2" "$T/crash.raw"
	missing=0
	n=1
	while [ $n -le "$last" ]; do
		got=$(dd if="$T/crash.raw" bs=512 skip=$n count=1 2>/dev/null | head -c 16)
		[ "$got" = "$(printf 'flushed-%08d' $n)" ] || missing=$((missing + 1))
		n=$((n + 1))
	done
	expect_eq "blk crash: all $last flushed writes survived SIGKILL" 0 "$missing"
	check "blk crash: vmm disk check agrees after repair" "$VMM" disk check -r leaks "$T/crash.qcow2"
fi
