#!/usr/bin/env python3
"""Generate a deterministic test tree for the rootfs benchmark.

Usage: rootfs_gentree.py DIR [FILES] [MBYTES]
Files of mixed sizes (most small, some medium, a few large) in nested directories plus
one big directory, symlinks and hardlinks. Content is pseudo-random (incompressible).
"""
import os
import random
import sys

def main():
    root = sys.argv[1]
    nfiles = int(sys.argv[2]) if len(sys.argv) > 2 else 50000
    mbytes = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    rnd = random.Random(42)
    pool = os.urandom(32 << 20)  # sliced for file content
    budget = mbytes << 20
    # size classes: 90% small, 9.8% medium, 0.2% large; scaled to the byte budget
    sizes = []
    for _ in range(nfiles):
        x = rnd.random()
        if x < 0.90:
            sizes.append(rnd.randint(0, 8192))
        elif x < 0.998:
            sizes.append(rnd.randint(8192, 120 << 10))
        else:
            sizes.append(rnd.randint(2 << 20, 12 << 20))
    scale = budget / max(1, sum(sizes))
    sizes = [int(s * scale) for s in sizes]
    dirs = []
    for i in range(40):
        for j in range(12):
            d = os.path.join(root, "usr%02d" % i, "lib%02d" % j)
            os.makedirs(d, exist_ok=True)
            dirs.append(d)
    big = os.path.join(root, "bigdir")
    os.makedirs(big, exist_ok=True)
    files = []
    off = 0
    for n, size in enumerate(sizes):
        d = big if n % 5 == 0 else dirs[n % len(dirs)]
        p = os.path.join(d, "file-%06d.dat" % n)
        with open(p, "wb") as f:
            left = size
            while left:
                chunk = min(left, 1 << 20)
                if off + chunk > len(pool):
                    off = rnd.randint(0, 4096)
                f.write(pool[off:off + chunk])
                off += chunk + 17
                left -= chunk
        files.append(p)
    for n in range(2000):
        t = files[rnd.randrange(len(files))]
        os.symlink(os.path.relpath(t, dirs[n % len(dirs)]),
                   os.path.join(dirs[n % len(dirs)], "link-%05d" % n))
    for n in range(1000):
        t = files[rnd.randrange(len(files))]
        os.link(t, os.path.join(dirs[(n * 7) % len(dirs)], "hard-%05d" % n))

if __name__ == "__main__":
    main()
