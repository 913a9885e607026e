"""The supervisor process of a boot (hub_boot, binder_boot) and its process group: whether it
runs, and ending it - one implementation for both boots."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def supervisor_alive(pid: int, supervisor: str) -> bool:
    """Whether ``pid`` is a running ``python -m <supervisor>`` (a reused pid is never taken for one)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return supervisor.encode() in cmdline and state not in ("Z", "X")


def group_alive(pgid: int) -> bool:
    """Whether a process of the group is left. The supervisor is reaped first when this process
    started it (a zombie is still a member of its group)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def end_group(pid: int, supervisor: str, timeout: float) -> None:
    """SIGTERM to the supervisor (it stops what it started), then SIGKILL to what is left of its
    group after ``timeout`` seconds."""
    if supervisor_alive(pid, supervisor):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
