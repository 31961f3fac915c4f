#!/usr/bin/env python3
"""Run a command N times; report wall times and the peak memory of the process:
RSS beyond guest RAM, and USS (private pages: what this VM adds on top of
pages shared with other VMs, e.g. a snapshot's memory file).

Usage: runtime.py RUNS GUEST_MIB -- CMD...
Prints JSON: {"wall": [s...], "rc": [...], "rss_extra_kib": [...], "uss_kib": [...]}
"""
import json, subprocess, sys, time

def sample(pid, guest_kib):
    rss_extra = uss = 0
    size = None
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                k = line.split(":")[0]
                if k == "Size":
                    size = int(line.split()[1])
                elif k == "Rss" and size != guest_kib:
                    rss_extra += int(line.split()[1])
                elif k in ("Private_Clean", "Private_Dirty"):
                    uss += int(line.split()[1])
    except OSError:
        return None
    return rss_extra, uss

def main():
    runs, guest_mib = int(sys.argv[1]), int(sys.argv[2])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    res = {"wall": [], "rc": [], "rss_extra_kib": [], "uss_kib": []}
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL)
        peak_rss = peak_uss = 0
        while p.poll() is None:
            s = sample(p.pid, guest_mib * 1024)
            if s:
                peak_rss, peak_uss = max(peak_rss, s[0]), max(peak_uss, s[1])
            time.sleep(0.02)
        res["wall"].append(round(time.monotonic() - t0, 3))
        res["rc"].append(p.returncode)
        res["rss_extra_kib"].append(peak_rss)
        res["uss_kib"].append(peak_uss)
    print(json.dumps(res))

main()
