#!/bin/sh
# Guest-side disk speed: sequential dd write and read of 32 MiB with O_DIRECT inside
# the guest (virtio-blk on a raw file and on a qcow2), against the same dd on the
# host file, in the same run. Prints MB/s and guest/host ratios.
set -u
BUILD=${1:-build}
VMM=$PWD/$BUILD/vmm
KERNEL=$PWD/build/vmlinux
MB=${MB:-32}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

cat >"$T/init" <<EOF2
#!/bin/sh
mount -t proc proc /proc; mount -t devtmpfs dev /dev
for d in vda vdb; do
	t0=\$(cut -d' ' -f1 /proc/uptime)
	dd if=/dev/zero of=/dev/\$d bs=1M count=$MB oflag=direct 2>/dev/null
	t1=\$(cut -d' ' -f1 /proc/uptime)
	dd if=/dev/\$d of=/dev/null bs=1M count=$MB iflag=direct 2>/dev/null
	t2=\$(cut -d' ' -f1 /proc/uptime)
	echo "BENCH \$d \$t0 \$t1 \$t2"
done
devmem 0xd0000000 8 0
EOF2
APPLETS="sh mount echo cut dd devmem" scripts/mkinitramfs.sh "$T/init.cpio" "$T/init"
truncate -s $((MB * 2))M "$T/disk.raw"
qemu-img create -q -f qcow2 "$T/disk.qcow2" $((MB * 2))M
out=$("$VMM" boot --kernel "$KERNEL" --initrd "$T/init.cpio" --disk "$T/disk.raw,format=raw" \
	--disk "$T/disk.qcow2,format=qcow2" 2>&1)

host_w0=$(date +%s.%N); dd if=/dev/zero of="$T/host.raw" bs=1M count=$MB oflag=direct 2>/dev/null; host_w1=$(date +%s.%N)
dd if="$T/host.raw" of=/dev/null bs=1M count=$MB iflag=direct 2>/dev/null; host_r1=$(date +%s.%N)
python3 - "$MB" "$host_w0" "$host_w1" "$host_r1" <<EOF2
import sys
mb, hw0, hw1, hr1 = int(sys.argv[1]), *map(float, sys.argv[2:5])
host_w, host_r = mb / (hw1 - hw0), mb / (hr1 - hw1)
print(f"host file:        write {host_w:8.1f} MB/s   read {host_r:8.1f} MB/s")
for line in """$out""".splitlines():
    if not line.startswith("BENCH "):
        continue
    _, dev, t0, t1, t2 = line.split()
    w, r = mb / max(float(t1) - float(t0), 0.01), mb / max(float(t2) - float(t1), 0.01)
    kind = "raw" if dev == "vda" else "qcow2"
    print(f"guest {kind:6s}:    write {w:8.1f} MB/s   read {r:8.1f} MB/s   "
          f"(guest/host: write {w / host_w:.3f}, read {r / host_r:.3f})")
EOF2
