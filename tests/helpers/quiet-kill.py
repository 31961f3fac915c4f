#!/usr/bin/env python3
"""quiet-kill.py SECONDS CMD...: run CMD in a process group of its own, pass its output through
as it comes, and kill the whole group once it has been silent for SECONDS. Exits with CMD's
status, or 124 after such a kill. A test harness (tests/run.sh's watch over the TCG VM, whose
emulator can stall with every clock in it stopped), not part of vmm."""
import os
import selectors
import signal
import subprocess
import sys
import time


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
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            sys.exit(124)
    sys.exit(p.wait())


main()
