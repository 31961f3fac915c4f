#!/usr/bin/env python3
"""Craft layer tarballs that tools like umoci cannot make: opaque directories, member
orders, hardlinks to lower layers, and hostile names.

Usage: rootfs_layers.py KIND OUT.tar [ARG]
"""
import io
import sys
import tarfile

def add(t, name, kind="f", data=b"", mode=None, link=None, uid=0, gid=0, mtime=1600000000):
    ti = tarfile.TarInfo(name)
    ti.uid, ti.gid, ti.mtime = uid, gid, mtime
    if kind == "f":
        ti.type, ti.size, ti.mode = tarfile.REGTYPE, len(data), 0o644 if mode is None else mode
        t.addfile(ti, io.BytesIO(data))
        return
    ti.mode = {"d": 0o755, "l": 0o777, "h": 0o644}[kind] if mode is None else mode
    ti.type = {"d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE, "h": tarfile.LNKTYPE}[kind]
    if link is not None:
        ti.linkname = link
    t.addfile(ti)

def opaque(t, arg):
    # an opaque /etc keeping only this layer's entries, marker after the entries
    add(t, "etc/", "d")
    add(t, "etc/fresh", data=b"fresh\n")
    add(t, "etc/.wh..wh..opq")
    # hardlink to a file of a lower layer
    add(t, "usr/bin/d", "h", link="usr/bin/a")
    # whiteout and re-creation of the same name in one layer, whiteout last
    add(t, "var/again", data=b"recreated\n")
    add(t, "var/.wh.again")
    # a big directory, indexed (htree) in the image
    add(t, "bigdir/", "d")
    for i in range(3000):
        add(t, "bigdir/entry-with-a-longish-name-%05d" % i, data=b"%d\n" % i)

def hostile(t, kind):
    if kind == "dotdot":
        add(t, "../../dotdot-escape", data=b"x")
    elif kind == "absolute":
        add(t, "/etc/passwd", data=b"in-image\n")
    elif kind == "symlink-out":
        add(t, "a", "l", link=sys.argv[3])
        add(t, "a/file", data=b"through\n")
    elif kind == "symlink-dotdot":
        add(t, "l1", "l", link="..")
        add(t, "l2", "l", link="l1/l1/l1/../..")
        add(t, "l2/escape", data=b"chain\n")
    elif kind == "symlink-loop":
        add(t, "loop", "l", link="loop2")
        add(t, "loop2", "l", link="loop")
        add(t, "loop/x", data=b"x")
    elif kind == "hardlink-host":
        add(t, "shadow", "h", link="/etc/shadow")
    elif kind == "hardlink-dotdot":
        add(t, "etc/passwd", data=b"inside\n")
        add(t, "pw", "h", link="../../etc/passwd")
    elif kind == "hardlink-dir":
        add(t, "d/", "d")
        add(t, "dl", "h", link="d")
    elif kind == "long-name":
        add(t, "n" * 256, data=b"x")
    elif kind == "deep":
        add(t, "/".join(["d"] * 1500) + "/leaf", data=b"deep\n")
    elif kind == "replace-root":
        add(t, "./", "l", link="/")
    elif kind == "many":
        for i in range(int(sys.argv[3])):
            add(t, "many/%03d/f%06d" % (i % 200, i))
    else:
        raise SystemExit("unknown kind " + kind)

def main():
    kind, out = sys.argv[1], sys.argv[2]
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        if kind == "opaque":
            opaque(t, None)
        else:
            hostile(t, kind)

if __name__ == "__main__":
    main()
