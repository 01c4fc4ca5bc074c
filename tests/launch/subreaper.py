#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run a daemon below a child subreaper that reaps every process orphaned
below it, then exit when none is left.

libvirtd waits for a QEMU it stopped to be gone (kill(pid, 0) failing). A
QEMU that daemonized is an orphan, and where PID 1 does not reap orphans (a
container's or a sandbox's init, as on the machines this suite runs on) it
stays a zombie forever: libvirtd's capability probe then never ends and every
call waiting for it hangs. Below this subreaper orphans are reaped at once,
as systemd would reap them on a real host.

Usage: subreaper.py DAEMON [ARGS...] &   (a daemon that forks itself away: -d)
"""
import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("subreaper: prctl: %s" % os.strerror(ctypes.get_errno()), file=sys.stderr)
        return 1
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(sys.argv[1], sys.argv[1:])
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        return rc
    # the daemon went on in the background, an orphan now ours: reap it and
    # every orphan below it until none is left
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue


if __name__ == "__main__":
    sys.exit(main())
