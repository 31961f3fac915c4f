#!/usr/bin/env python3
"""Run a VMM command N times; report when a marker line appears, when it exits,
and the most memory it held besides guest RAM. Used by tests/bench/boot.sh.

Usage: boottime.py RUNS MARKER GUEST_MIB TIMEOUT -- CMD...
Prints one JSON object: {"first_line": [s...], "exit": [s...], "rss_extra_kib": [..], "rc": [..], "tail": str}
"""
import json, os, select, subprocess, sys, time

def extra_rss_kib(pid, guest_kib):
    """RSS of every mapping except the guest RAM one (the mapping of exactly guest_kib)."""
    total, size = 0, None
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                if line.startswith("Size:"):
                    size = int(line.split()[1])
                elif line.startswith("Rss:"):
                    if size != guest_kib:
                        total += int(line.split()[1])
    except OSError:
        return None
    return total

def main():
    runs, marker, guest_mib, timeout = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    res = {"first_line": [], "exit": [], "rss_extra_kib": [], "rc": [], "tail": ""}
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        buf, first, peak = b"", None, 0
        os.set_blocking(p.stdout.fileno(), False)
        while True:
            r, _, _ = select.select([p.stdout], [], [], 0.05)
            if r:
                chunk = p.stdout.read() or b""
                buf += chunk
                if first is None and marker.encode() in buf:
                    first = time.monotonic() - t0
                if not chunk and p.poll() is not None:
                    break
            rss = extra_rss_kib(p.pid, guest_mib * 1024)
            if rss:
                peak = max(peak, rss)
            if p.poll() is not None and not r:
                break
            if time.monotonic() - t0 > timeout:
                p.kill()
                break
        rc = p.wait()
        res["exit"].append(round(time.monotonic() - t0, 3))
        res["first_line"].append(round(first, 3) if first is not None else None)
        res["rss_extra_kib"].append(peak)
        res["rc"].append(rc)
        res["tail"] = buf.decode(errors="replace")[-400:]
    print(json.dumps(res))

main()
