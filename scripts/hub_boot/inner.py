"""Inside the boot's private mount and network namespace (``unshare --mount --net``): lay out the
deployed hub's files, then run configurable-http-proxy and JupyterHub as the pods would.

Started by ``supervisor`` with the boot's spec (``spec.BootSpec`` as JSON) on standard input.
Everything secret (the Secret's files, the kubeconfig with the ServiceAccount's token) is
written to a tmpfs mounted in this namespace only, and disappears with it.
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

from hub_boot import stand_in
from hub_boot.bridge import Endpoint, forward
from hub_boot.overlay import mount, overlay_files

OVERLAY_ROOT = "/usr/local/etc"


def lay_out(spec: dict[str, Any], private: Path) -> None:
    """The files of the hub's ConfigMap and Secret on /usr/local/etc, the hosts file, the kubeconfig."""
    overlay_files(spec["files"], private, OVERLAY_ROOT, label="hub-boot", size="64m")
    hosts = private / "hosts"
    hosts.write_text(spec["hosts"])
    mount("--bind", str(hosts), "/etc/hosts")
    kubeconfig = private / "kubeconfig"
    kubeconfig.write_text(spec["kubeconfig"])
    kubeconfig.chmod(0o600)
    (private / "home").mkdir()
    (private / "srv").mkdir()


async def start_network(spec: dict[str, Any], log: Any) -> list[asyncio.Server]:  # noqa: ANN401 - a text file
    """The loopback interface, the kube-apiserver and public-port bridges, the Services' port
    forwards and the stand-ins."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    servers = [
        await forward(Endpoint.parse(spec["kube_api"]["inside"]), Endpoint.parse(spec["kube_api"]["socket"])),
        await forward(Endpoint.parse(spec["public"]["socket"]), Endpoint.parse(spec["public"]["inside"])),
    ]
    for item in spec["forwards"]:
        servers.append(await forward(Endpoint.parse(item["listen"]), Endpoint.parse(item["target"])))
    state = Path(spec["state_dir"])
    for item in spec["stand_ins"]:
        servers.append(await stand_in.serve(item["name"], Endpoint.parse(item["listen"]), log, spec["jupyterhub_version"],
                                            stand_in.takeover_file(state, item["name"])))
    return servers


async def run_processes(spec: dict[str, Any], private: Path) -> int:
    state = Path(spec["state_dir"])
    processes: dict[str, asyncio.subprocess.Process] = {}
    for name in ("proxy", "hub"):
        process = spec[name]
        env = dict(process["env"])
        env.update(HOME=str(private / "home"))
        if name == "hub":
            env["KUBECONFIG"] = str(private / "kubeconfig")
        with (state / f"{name}.log").open("ab") as out:
            processes[name] = await asyncio.create_subprocess_exec(
                *process["argv"], env=env, cwd=process.get("cwd") or str(private / "srv"),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    hub_exit = asyncio.ensure_future(processes["hub"].wait())
    proxy_exit = asyncio.ensure_future(processes["proxy"].wait())
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({hub_exit, proxy_exit, stopped}, return_when=asyncio.FIRST_COMPLETED)
    for process in processes.values():
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
    for process in processes.values():
        try:
            await asyncio.wait_for(process.wait(), timeout=15)
        except TimeoutError:
            process.kill()
            await process.wait()
    return 0 if stop.is_set() else (processes["hub"].returncode or 1)


async def main() -> int:
    spec = json.load(sys.stdin)
    state = Path(spec["state_dir"])
    private = state / "private"
    lay_out(spec, private)
    with (state / "stand-in.log").open("a") as log:
        servers = await start_network(spec, log)
        try:
            return await run_processes(spec, private)
        finally:
            for server in servers:
                server.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
