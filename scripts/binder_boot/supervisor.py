"""The binder boot's long-lived host process: it bridges the registry into the hub's network
namespace and runs ``inner`` there (``nsenter`` into the booted hub's network namespace, then a
mount namespace of its own). Started by ``control`` in a session of its own with the spec on
standard input; SIGTERM stops BinderHub, then the supervisor.
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
    servers = []
    if spec["registry"]:
        servers.append(await forward(Endpoint.parse(spec["registry"]["socket"]), Endpoint.parse(spec["registry"]["host"])))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    inner = await asyncio.create_subprocess_exec(
        "nsenter", f"--net={spec['hub_net']}", "--", "unshare", "--mount", "--propagation", "private",
        "--", sys.executable, "-m", "binder_boot.inner", stdin=subprocess.PIPE, env=env)
    assert inner.stdin is not None
    inner.stdin.write(raw.encode())
    await inner.stdin.drain()
    inner.stdin.close()
    loop = asyncio.get_running_loop()

    def stop() -> None:
        with contextlib.suppress(ProcessLookupError):
            inner.send_signal(signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    code = await inner.wait()
    for server in servers:
        server.close()
    with contextlib.suppress(FileNotFoundError):
        Path(spec["takeover"]["file"]).unlink()
    if spec["registry"]:
        with contextlib.suppress(FileNotFoundError):
            Path(spec["registry"]["socket"]["path"]).unlink()
    return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
