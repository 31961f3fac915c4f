#!/bin/sh
# Soak: 50 MB of random data through `vmm run -i` stdin, checked by md5 in the
# guest. Slow where the guest kernel is emulated (~0.3 MB/s), so it lives here,
# out of make check; 50-run.sh sends 3 MB.
. tests/integration/lib.sh

guest_suite "big stdin"
head -c 50000000 /dev/urandom >"$T/big.bin"
want=$(md5sum <"$T/big.bin" | cut -d' ' -f1)
out=$(timeout 1800 "$VMM" run --rm -i busybox md5sum <"$T/big.bin" 2>&1)
expect_eq "run -i: 50 MB of random stdin arrive intact (md5)" "$want  -" "$out"
