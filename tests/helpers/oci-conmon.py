#!/usr/bin/env python3
"""A small conmon: drive an OCI runtime as podman's conmon and containerd's shim do.

  oci-conmon.py RUNTIME ROOT BUNDLE ID [--stdin TEXT] [--console] [--during CMD] [--no-start]

As a child subreaper it runs `RUNTIME --root ROOT create --bundle BUNDLE --pid-file F ID`
with pipes for stdio (or --console-socket, receiving the pty master as conmon does), reads the
state, runs `start`, feeds TEXT to stdin, runs CMD (sh -c, with $ID) while the container
runs, and waits for the pid of the pid file: its exit status is the container's. Prints one
JSON object of what it saw. A test harness, not part of vmm.
"""
import ctypes
import json
import os
import socket
import subprocess
import sys
import threading

PR_SET_CHILD_SUBREAPER = 36


def main():
    args = sys.argv[1:]
    runtime, root, bundle, cid = args[:4]
    opts = args[4:]
    stdin_text = b""
    console = False
    during = None
    start = True
    i = 0
    while i < len(opts):
        if opts[i] == "--stdin":
            stdin_text = opts[i + 1].encode()
            i += 1
        elif opts[i] == "--console":
            console = True
        elif opts[i] == "--during":
            during = opts[i + 1]
            i += 1
        elif opts[i] == "--no-start":
            start = False
        i += 1
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
    rt = [runtime, "--root", root]
    pid_file = os.path.join(os.path.dirname(bundle.rstrip("/")), cid + ".pid")
    res = {}
    create = rt + ["create", "--bundle", bundle, "--pid-file", pid_file]
    master = None
    if console:
        sock_path = os.path.join(os.path.dirname(bundle.rstrip("/")), cid + ".console")
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(sock_path)
        lsock.listen(1)
        got = {}

        def accept():
            conn, _ = lsock.accept()
            _, fds, _, _ = socket.recv_fds(conn, 1, 1)
            got["fd"] = fds[0] if fds else None
            conn.close()
        t = threading.Thread(target=accept, daemon=True)
        t.start()
        p = subprocess.run(create + ["--console-socket", sock_path, cid], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        t.join(5)
        master = got.get("fd")
        res["create_rc"], res["create_err"] = p.returncode, p.stderr.decode(errors="replace").strip()
        res["console_fd"] = master is not None
        out_r = err_r = in_w = None
    else:
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        # the runtime's own messages go to --log; its stdio are the container's
        p = subprocess.run(create + [cid], stdin=in_r, stdout=out_w, stderr=err_w, timeout=600)
        for fd in (in_r, out_w, err_w):
            os.close(fd)
        res["create_rc"] = p.returncode
    if res["create_rc"] != 0:
        if out_r is not None:
            res["create_err"] = os.read(err_r, 65536).decode(errors="replace").strip()
        print(json.dumps(res))
        return
    pid = int(open(pid_file).read())
    st = json.loads(subprocess.run(rt + ["state", cid], stdout=subprocess.PIPE, timeout=60).stdout)
    res["state_created"] = st["status"]
    res["state_pid_is_pid_file"] = st["pid"] == pid
    res["state_bundle"] = st["bundle"]
    if not start:
        res["pid"] = pid
        print(json.dumps(res))
        return
    p = subprocess.run(rt + ["start", cid], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    res["start_rc"], res["start_err"] = p.returncode, p.stderr.decode(errors="replace").strip()
    if master is not None:
        os.write(master, stdin_text)
    else:
        os.write(in_w, stdin_text)
        os.close(in_w)
    bufs = {}

    def reader(name, fd):
        data = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:     # a pty's EIO once every slave is closed
                break
            if not chunk:
                break
            data += chunk
        bufs[name] = data.decode(errors="replace")
    threads = [threading.Thread(target=reader, args=(n, fd)) for n, fd in
               ((("tty", master),) if master is not None else (("out", out_r), ("err", err_r)))]
    for t in threads:
        t.start()
    if during:
        p = subprocess.run(["sh", "-c", during], env=dict(os.environ, ID=cid), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        res["during"] = p.stdout.decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    res["exit"] = os.waitstatus_to_exitcode(status)
    for t in threads:
        t.join(60)
    res.update(bufs)
    st = json.loads(subprocess.run(rt + ["state", cid], stdout=subprocess.PIPE, timeout=60).stdout)
    res["state_after"] = st["status"]
    print(json.dumps(res))


main()
