"""Worker processes end when the command that started them ends, however it ends.

A local worker is forked by the fork server, which the command started; if the command is killed
(SIGKILL, an out-of-memory kill, a closed terminal) nothing tells them, and they would live on for good,
re-parented to init, still running replications and writing into a folder nobody reads. So:

- on Linux each of them asks the kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``):
  the fork server when the command dies, a worker when the fork server dies;
- everywhere, a worker also runs a small watchdog thread that exits as soon as its parent changes or the
  command's process is gone (the fallback where prctl is not available).

This module is imported by the fork server (as a preload) to set its own death signal, and its
:func:`worker_started` is every local worker's initializer.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
WATCH_EVERY = 0.5  # seconds between the watchdog's looks


def die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent ends (Linux); whether it could."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, dead but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
        return stat[stat.rindex(")") + 2] not in "ZX"
    except FileNotFoundError:
        return False
    except (OSError, ValueError, IndexError):  # no /proc: ask the kernel instead
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _watch(command_pid: int, parent_pid: int) -> None:
    while True:
        time.sleep(WATCH_EVERY)
        if os.getppid() != parent_pid or not _alive(command_pid):
            os._exit(1)  # nothing to clean: the command that would read our results is gone


def worker_started(command_pid: int) -> None:
    """A local worker's initializer: ignore Ctrl-C (the command decides what an interrupt means) and
    end with the command."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent()
    threading.Thread(target=_watch, args=(command_pid, os.getppid()), daemon=True).start()


def _in_fork_server() -> bool:
    """Whether this import runs in multiprocessing's fork server (preloading its modules)."""
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "main" and frame.f_code.co_filename.endswith("forkserver.py"):
            return True
        frame = frame.f_back
    return False


if _in_fork_server():  # preloaded by the fork server, whose parent is the command: die with it
    die_with_parent()
