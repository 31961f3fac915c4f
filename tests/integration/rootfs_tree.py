#!/usr/bin/env python3
"""Dump a directory tree as comparable lines: one per entry, sorted by path.

Usage: rootfs_tree.py DIR [--skip NAME]... [--no-dir-mtime] [--no-mtime]
Each line: path type perms uid:gid size/target/rdev content-hash xattrs mtime link-group
Hardlinked files name the first path of their group, so groups compare across trees.
"""
import hashlib
import os
import stat
import sys

def xattrs(p):
    try:
        names = sorted(os.listxattr(p, follow_symlinks=False))
    except OSError:
        return ""
    out = []
    for n in names:
        if n.startswith("security.selinux"):
            continue
        v = os.getxattr(p, n, follow_symlinks=False)
        out.append("%s=%s" % (n, v.hex() if len(v) <= 32 else hashlib.sha256(v).hexdigest()[:16]))
    return ",".join(out)

def main():
    sys.setrecursionlimit(20000)	# os.walk recurses per level: layers go 2000 deep
    args = sys.argv[1:]
    root = args.pop(0)
    skip, dir_mtime, any_mtime = set(), True, True
    while args:
        a = args.pop(0)
        if a == "--skip":
            skip.add(args.pop(0))
        elif a == "--no-dir-mtime":
            dir_mtime = False
        elif a == "--no-mtime":
            any_mtime = False
    entries = []
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        if rel == ".":
            dirs[:] = [x for x in dirs if x not in skip]
            files = [x for x in files if x not in skip]
        for name in dirs + files:
            entries.append(os.path.join(d, name))
    groups = {}
    lines = []
    for p in sorted(entries, key=lambda x: os.fsencode(x)):
        st = os.lstat(p)
        rel = os.fsencode(os.path.relpath(p, root)).decode("utf-8", "backslashreplace")
        m = st.st_mode
        t = {stat.S_IFREG: "f", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFCHR: "c",
             stat.S_IFBLK: "b", stat.S_IFIFO: "p", stat.S_IFSOCK: "s"}[stat.S_IFMT(m)]
        extra, digest, group = "-", "-", "-"
        if t == "f":
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            extra, digest = str(st.st_size), h.hexdigest()[:16]
            if st.st_nlink > 1:
                group = groups.setdefault(st.st_ino, rel)
        elif t == "l":
            extra = os.fsencode(os.readlink(p)).decode("utf-8", "backslashreplace")
        elif t in "cb":
            extra = "%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        mtime = "-" if (t == "d" and not dir_mtime) or not any_mtime else str(st.st_mtime_ns // 1000000000)
        lines.append(" ".join([rel, t, "%04o" % stat.S_IMODE(m), "%d:%d" % (st.st_uid, st.st_gid),
                               extra, digest, xattrs(p) or "-", mtime, group]))
    sys.stdout.write("\n".join(lines) + ("\n" if lines else ""))

if __name__ == "__main__":
    main()
