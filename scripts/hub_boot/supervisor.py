"""The boot's one long-lived host process: it bridges the kube-apiserver into the boot's network
namespace and the proxy's public port out of it, and runs ``inner`` in that namespace.

Started by ``control`` in a session of its own (its pid is the boot's pid) with the boot's spec
on standard input. SIGTERM stops the hub and the proxy, then the supervisor.
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
        "unshare", "--mount", "--net", "--propagation", "private", "--", sys.executable, "-m", "hub_boot.inner",
        stdin=subprocess.PIPE, env=env)
    assert inner.stdin is not None
    inner.stdin.write(raw.encode())
    await inner.stdin.drain()
    inner.stdin.close()
    (state / "endpoint.json").write_text(json.dumps({"url": f"http://127.0.0.1:{port}", "pid": os.getpid()}))

    loop = asyncio.get_running_loop()

    def stop() -> None:
        with contextlib.suppress(ProcessLookupError):
            inner.send_signal(signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    code = await inner.wait()
    for server in (kube, public):
        server.close()
    for name in ("kube-api.sock", "public.sock"):
        with contextlib.suppress(FileNotFoundError):
            (state / name).unlink()
    return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
