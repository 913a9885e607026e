"""The boot's one long-lived host process: it bridges the kube-apiserver into the boot's network
namespace and the proxy's public port out of it, and runs ``inner`` in that namespace.

Started by ``control`` in a session of its own (its pid is the boot's pid) with the boot's spec
on standard input. ``inner`` is the first process of a PID namespace of its own: whatever the hub
starts (managed services such as the idle culler run in sessions of their own) ends when it ends,
and it ends when ``unshare`` does. SIGTERM stops the hub and the proxy, then the supervisor.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from hub_boot.bridge import Endpoint, forward


async def main() -> int:
    raw = sys.stdin.read()
    spec = json.loads(raw)
    state = Path(spec["state_dir"])
    kube = await forward(Endpoint.parse(spec["kube_api"]["socket"]), Endpoint.parse(spec["kube_api"]["host"]))
    public = await forward(Endpoint("tcp", host="127.0.0.1", port=0), Endpoint.parse(spec["public"]["socket"]))
    port = public.sockets[0].getsockname()[1]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    inner = await asyncio.create_subprocess_exec(
        "unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL", "--propagation", "private",
        "--", sys.executable, "-m", "hub_boot.inner", stdin=subprocess.PIPE, env=env)
    assert inner.stdin is not None
    inner.stdin.write(raw.encode())
    await inner.stdin.drain()
    inner.stdin.close()
    first = await _forked_child(inner.pid)
    (state / "endpoint.json").write_text(json.dumps({"url": f"http://127.0.0.1:{port}", "pid": os.getpid(), "inner_pid": first}))

    loop = asyncio.get_running_loop()

    def stop() -> None:
        """SIGTERM to the namespace's first process (unshare passes no signal on); if it is gone
        already, to unshare."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(first or inner.pid, signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    code = await inner.wait()
    for server in (kube, public):
        server.close()
    for name in ("kube-api.sock", "public.sock"):
        with contextlib.suppress(FileNotFoundError):
            (state / name).unlink()
    return code


async def _forked_child(pid: int) -> int:
    """The host pid of the process ``unshare --fork`` started (0 if it did not)."""
    for _ in range(100):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return 0
        if children:
            return int(children[0])
        await asyncio.sleep(0.02)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
