#!/bin/sh
# Boot benchmark: vmm boot to the first line of /init and to vmm's exit (median of
# RUNS), vmm's resident memory beyond guest RAM, and QEMU -M microvm with the same
# kernel and initrd in the same run (it may fail on PVM hosts: we record how).
set -u
BUILD=${1:-build}
RUNS=${RUNS:-5}
VMM=$PWD/$BUILD/vmm
KERNEL=$PWD/build/vmlinux
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

cat >"$T/init" <<'EOF2'
#!/bin/sh
echo "BENCH: init reached"
mount -t devtmpfs dev /dev
devmem 0xd0000000 8 0
EOF2
APPLETS="sh echo mount devmem" scripts/mkinitramfs.sh "$T/init.cpio" "$T/init"

median() { python3 -c 'import json,statistics,sys; v=[x for x in json.loads(sys.argv[1]) if x is not None]; print(round(statistics.median(v),2) if v else "n/a")' "$1"; }
field() { python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])[sys.argv[2]]))' "$1" "$2"; }

echo "== vmm boot: 128 MiB, 1 vCPU, busybox initramfs, $RUNS runs"
r=$(python3 tests/bench/boottime.py "$RUNS" "BENCH: init reached" 128 600 -- \
	"$VMM" boot --kernel "$KERNEL" --initrd "$T/init.cpio" --memory 128)
echo "first /init line (s): $(field "$r" first_line)  median $(median "$(field "$r" first_line)")"
echo "vmm exit (s):         $(field "$r" exit)  median $(median "$(field "$r" exit)")"
echo "exit codes:           $(field "$r" rc)"
echo "RSS beyond guest RAM (KiB): $(field "$r" rss_extra_kib)  median $(median "$(field "$r" rss_extra_kib)")"
vmm_first=$(median "$(field "$r" first_line)")

if command -v qemu-system-x86_64 >/dev/null; then
	echo "== QEMU -M microvm -cpu qemu64, same kernel and initrd, 1 run (timeout 120 s; -cpu host fails on MSR 0x10a on PVM hosts)"
	q=$(python3 tests/bench/boottime.py 1 "BENCH: init reached" 128 120 -- \
		qemu-system-x86_64 -M microvm -enable-kvm -cpu qemu64 -m 128 -smp 1 -nographic -no-reboot \
		-kernel "$KERNEL" -initrd "$T/init.cpio" \
		-append "console=ttyS0 reboot=k panic=-1 quiet rdinit=/init noxsave clearcpuid=151,158,306,308,297,580 nofsgsbase no-kvmclock")
	qfirst=$(field "$q" first_line)
	echo "first /init line (s): $qfirst  exit (s): $(field "$q" exit)  rc: $(field "$q" rc)"
	if [ "$qfirst" = "[null]" ]; then
		echo "QEMU did not reach /init; its last output:"
		python3 -c 'import json,sys; print(json.loads(sys.argv[1])["tail"])' "$q" | tail -5 | sed 's/^/  | /'
		echo "ratio vmm/QEMU: n/a (QEMU cannot boot this guest on this host)"
	else
		python3 -c "import sys; print('ratio QEMU/vmm time to /init: %.2f' % (float(sys.argv[2]) / float(sys.argv[1])))" "$vmm_first" "$(median "$qfirst")"
	fi
fi
