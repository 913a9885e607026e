"""Inside the booted hub's network namespace, in a mount namespace of its own: lay out the
binderhub-service Secret and a hosts file on /etc, bridge the registry, take the binderhub Service
over from the hub boot's stand-in and run BinderHub as the Deployment runs it.

Started by ``supervisor`` (``nsenter --net=<hub's> unshare --mount``) with the spec on standard
input. The Secret's files and the kubeconfig are on a tmpfs of this mount namespace only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from hub_boot.bridge import Endpoint, forward
from hub_boot.overlay import overlay_files

OVERLAY_ROOT = "/etc"


def lay_out(spec: dict[str, Any], private: Path) -> Path:
    """The Secret's files and the hosts file on /etc; returns the kubeconfig's path."""
    overlay_files(spec["files"], private, OVERLAY_ROOT, label="binder-boot", size="16m", extra={"hosts": spec["hosts"]})
    kubeconfig = private / "kubeconfig"
    kubeconfig.write_text(spec["kubeconfig"])
    kubeconfig.chmod(0o600)
    (private / "home").mkdir()
    return kubeconfig


async def run(spec: dict[str, Any], private: Path, kubeconfig: Path) -> int:
    state = Path(spec["state_dir"])
    servers = []
    if spec["registry"]:
        servers.append(await forward(Endpoint.parse(spec["registry"]["inside"]), Endpoint.parse(spec["registry"]["socket"])))
    env = {**spec["binderhub"]["env"], "HOME": str(private / "home"), "KUBECONFIG": str(kubeconfig)}
    with (state / "binderhub.log").open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *spec["binderhub"]["argv"], env=env, cwd=str(private / "home"),
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    takeover = Path(spec["takeover"]["file"])
    takeover.parent.mkdir(exist_ok=True)
    takeover.write_text(json.dumps(spec["takeover"]["endpoint"]))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    exited, stopped = asyncio.ensure_future(process.wait()), asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        with contextlib.suppress(FileNotFoundError):
            takeover.unlink()
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()
                await process.wait()
        for server in servers:
            server.close()
    return 0 if stop.is_set() else (process.returncode or 1)


async def main() -> int:
    spec = json.load(sys.stdin)
    private = Path(spec["state_dir"]) / "private"
    kubeconfig = lay_out(spec, private)
    return await run(spec, private, kubeconfig)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
