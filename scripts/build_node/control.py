"""Start and stop the build node: one per machine (it serves the kubelet port), its state in
``.local/build-node``."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = ROOT / ".local" / "build-node"
MODULE = "build_node"


class BuildNodeError(Exception):
    """The build node did not start."""


def crane() -> Path:
    found = shutil.which("crane", path=str(ROOT / ".local" / "bin"))
    if not found:
        raise BuildNodeError("crane is not built: run `make tools`")
    return Path(found)


def running(state_dir: Path = STATE_DIR) -> int | None:
    pid_file = state_dir / "node.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text())
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    return pid if MODULE.encode() in cmdline and b"run" in cmdline else None


def start(state_dir: Path = STATE_DIR, timeout: float = 30) -> int:
    """Start the build node unless it runs; its pid."""
    pid = running(state_dir)
    if pid:
        return pid
    crane()
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (state_dir / "ready").unlink(missing_ok=True)
    with (state_dir / "node.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", MODULE, "run", "--state-dir", str(state_dir)], stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    (state_dir / "node.pid").write_text(str(process.pid))
    deadline = time.monotonic() + timeout
    while not (state_dir / "ready").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            tail = (state_dir / "node.log").read_text(errors="replace")[-3000:]
            raise BuildNodeError(f"the build node did not start (is port 10250 taken?)\n{tail}")
        time.sleep(0.1)
    return process.pid


def stop(state_dir: Path = STATE_DIR, timeout: float = 15) -> bool:
    pid = running(state_dir)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while running(state_dir) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    if running(state_dir):
        os.kill(pid, signal.SIGKILL)
    (state_dir / "node.pid").unlink(missing_ok=True)
    return True
