#!/usr/bin/env python3
"""Summarise guest RIP samples taken with VMM_PROFILE=FILE (a developer aid).

Usage: scripts/profile-report.py VMLINUX SAMPLES [TOP]
Prints the functions the guest spent most samples in (each sample ~2 ms).
"""
import bisect
import collections
import subprocess
import sys

def main():
    vmlinux, samples = sys.argv[1], sys.argv[2]
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    syms = []
    out = subprocess.run(["nm", "-n", vmlinux], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.append((int(parts[0], 16), parts[2]))
    addrs = [a for a, _ in syms]
    counts = collections.Counter()
    total = 0
    for line in open(samples):
        try:
            rip = int(line, 16)
        except ValueError:
            continue
        total += 1
        if rip < 0xffff800000000000:
            counts["(user space)"] += 1
            continue
        i = bisect.bisect_right(addrs, rip) - 1
        counts[syms[i][1] if i >= 0 else "?"] += 1
    print(f"{total} samples")
    for name, n in counts.most_common(top):
        print(f"{n:6d} {100.0 * n / total:5.1f}%  {name}")

main()
