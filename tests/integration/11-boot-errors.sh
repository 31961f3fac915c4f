#!/bin/sh
# vmm boot / vmm check with bad input: one clear error line, non-zero exit, no guest.
. tests/integration/lib.sh

# bad NAME PATTERN CMD...: non-zero exit, exactly one stderr line matching PATTERN, no stdout.
bad() {
	name=$1 pattern=$2; shift 2
	"$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	lines=$(wc -l <"$T/err")
	if [ "$rc" -ne 0 ] && [ "$lines" -eq 1 ] && grep -Eq -- "$pattern" "$T/err" && [ ! -s "$T/out" ]; then
		pass "$name"
	else
		fail "$name" "rc=$rc, $lines stderr lines: $(head -3 "$T/err" | tr '\n' ' ')"
	fi
}

echo "not a kernel" >"$T/text"
head -c 1024 /dev/zero >"$T/bzimage" && printf 'HdrS' | dd of="$T/bzimage" bs=1 seek=514 conv=notrunc 2>/dev/null
python3 - "$T" <<'EOF2'
import struct, sys
t = sys.argv[1]
def elf(path, machine=62, memsz=0x1000, etype=2):
    eh = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    eh += struct.pack("<HHIQQQIHHHHHH", etype, machine, 1, 0x1000000, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 1, 5, 0x1000, 0xffffffff81000000, 0x1000000, 16, memsz, 0x1000)
    open(path, "wb").write(eh + ph + bytes(0x1000 - 120) + bytes(16))
elf(t + "/huge", memsz=1 << 30)
elf(t + "/arm64", machine=183)
EOF2
K=${KERNEL}
[ -f "$K" ] || K="$T/text"	# the checks below fail before the kernel is read

bad "boot error: missing kernel" "kernel /nonexistent/vmlinux: No such file" "$VMM" boot --kernel /nonexistent/vmlinux
bad "boot error: kernel not ELF" "not an ELF file" "$VMM" boot --kernel "$T/text"
bad "boot error: bzImage named" "bzImage is not supported, use the uncompressed vmlinux" "$VMM" boot --kernel "$T/bzimage"
bad "boot error: non-x86-64 kernel" "not an x86-64 kernel" "$VMM" boot --kernel "$T/arm64"
bad "boot error: kernel larger than guest RAM" "does not fit in guest RAM.*--memory" "$VMM" boot --kernel "$T/huge" --memory 64
bad "boot error: missing initrd" "initrd /nonexistent.cpio: No such file" "$VMM" boot --kernel "$K" --initrd /nonexistent.cpio
bad "boot error: absurd memory" "--memory .*more than this host|out of range" "$VMM" boot --kernel "$K" --memory 100T
bad "boot error: too little memory" "--memory 1 MiB: out of range" "$VMM" boot --kernel "$K" --memory 1
bad "boot error: memory not a size" "--memory lots: not a size" "$VMM" boot --kernel "$K" --memory lots
bad "boot error: zero cpus" "--cpus 0: not a number from 1 to 32" "$VMM" boot --kernel "$K" --cpus 0
bad "boot error: absurd cpus" "--cpus 1000: not a number" "$VMM" boot --kernel "$K" --cpus 1000
long=$(head -c 3000 /dev/zero | tr '\0' x)
bad "boot error: over-long cmdline" "--cmdline is 3000 bytes" "$VMM" boot --kernel "$K" --cmdline "$long"
bad "boot error: no kernel given" "--kernel is required" "$VMM" boot
bad "boot error: unknown option" "invalid option|unrecognized" "$VMM" boot --frobnicate

# /dev/kvm missing or not accessible: vmm check says what to do, boot refuses.
if unshare -m true 2>/dev/null; then
	out=$(unshare -m sh -c "mount -t tmpfs none /dev && '$VMM' check" 2>&1); rc=$?
	if [ -d /sys/module/kvm_pvm ] && ! grep -q ' kvm$' /proc/misc; then	# a PVM module that did not bind
		expect_match "check: missing /dev/kvm under a nested PVM kernel says why" \
			"fail +/dev/kvm +missing -- not present, although kvm_pvm is loaded: .*itself a PVM guest" "$out"
	else
		expect_match "check: missing /dev/kvm is a failure with a fix" "fail +/dev/kvm +missing -- not present \(load kvm_intel or kvm_amd" "$out"
	fi
	expect_eq "check: exits 1 without /dev/kvm" 1 "$rc"
	bad "boot error: no /dev/kvm" "/dev/kvm: not present" unshare -m sh -c "mount -t tmpfs none /dev && exec '$VMM' boot --kernel '$K'"
else
	skip "check: missing /dev/kvm" "cannot create a mount namespace here"
fi
if [ ! -e /dev/kvm ]; then
	skip "boot error: /dev/kvm permission" "this host has no /dev/kvm"
elif [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && [ -f "$KERNEL" ]; then
	# A kernel the unprivileged user can read: the refusal must come from /dev/kvm.
	cp "$VMM" "$T/vmm-copy" && cp "$KERNEL" "$T/vmlinux" && chmod 755 "$T" "$T/vmm-copy" && chmod 644 "$T/vmlinux"
	bad "boot error: /dev/kvm permission denied names group kvm" "permission denied \(add your user to group 'kvm'" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$T/vmm-copy" boot --kernel "$T/vmlinux"
else
	skip "boot error: /dev/kvm permission" "needs root to drop to an unprivileged user"
fi

out=$("$VMM" check 2>&1); rc=$?
if have_kvm; then
	expect_eq "check: exits 0 where vmm can run" 0 "$rc"
	expect_match "check: reports the KVM API" "ok +kvm api +version 12" "$out"
	json=$("$VMM" check --json)
	expect_match "check --json: machine-readable items" '"item":"/dev/kvm"' "$(echo "$json" | tr -d ' \n')"
fi
