#!/bin/sh
# Soak: 50 MB of random data through `vmm run -i` stdin, checked by md5 in the
# guest. Slow where the guest kernel is emulated (~0.3 MB/s), so it lives here,
# out of make check; 50-run.sh sends 3 MB.
. tests/integration/lib.sh

if [ ! -f "$KERNEL" ] || [ ! -f "$BUILD/guest/agent.cpio" ]; then
	fail "big stdin: guest payloads" "build/vmlinux or $BUILD/guest/agent.cpio missing (make all kernel)"
	exit 0
fi
if ! have_kvm; then
	skip "big stdin" "/dev/kvm not accessible on this host"
	exit 0
fi
export VMM_ROOT="$T/root" VMM_RUNTIME="$T/run"
if ! scripts/build-busybox-image.sh "$VMM" >"$T/img.log" 2>&1; then
	fail "big stdin: busybox image" "$(tail -2 "$T/img.log")"
	exit 0
fi
head -c 50000000 /dev/urandom >"$T/big.bin"
want=$(md5sum <"$T/big.bin" | cut -d' ' -f1)
out=$(timeout 1800 "$VMM" run --rm -i busybox md5sum <"$T/big.bin" 2>&1)
expect_eq "run -i: 50 MB of random stdin arrive intact (md5)" "$want  -" "$out"
