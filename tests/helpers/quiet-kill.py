#!/usr/bin/env python3
"""quiet-kill.py SECONDS CMD...: run CMD in a session of its own, pass its output through as it
comes, and kill every process of that session once it has been silent for SECONDS. Exits with CMD's
status, or 124 after such a kill. A test harness (tests/run.sh's watch over the TCG VM, whose
emulator can stall with every clock in it stopped), not part of vmm."""
import os
import selectors
import signal
import subprocess
import sys
import time


def kill_session(sid):
    """SIGKILL every process of the session CMD leads: timeout(1), as tcg-kvm.sh runs qemu under
    it, puts its child in a process group of its own, which a kill of CMD's group would miss."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:    # after the name: state, ppid, pgrp, session
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def main():
    quiet = float(sys.argv[1])
    p = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    fd = p.stdout.fileno()
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    last = time.monotonic()
    while True:
        if sel.select(timeout=max(0.5, quiet - (time.monotonic() - last))):
            data = os.read(fd, 65536)
            if not data:
                break
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            last = time.monotonic()
        elif time.monotonic() - last >= quiet:
            kill_session(p.pid)
            p.wait()
            sys.exit(124)
    sys.exit(p.wait())


main()
