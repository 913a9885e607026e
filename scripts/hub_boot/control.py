"""Start, stop and inspect hub boots: one per namespace, its state under ``.local/hub-boot/<namespace>``.

A boot is stopped by its pid (the supervisor's, whose session holds every process of the boot).
Stopping leaves nothing behind: the processes, the namespace's mounts (they die with it), the
user pods and home claims created while it ran, the database files it wrote into the hub's
claim, and its state directory.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client

from hub_boot import deployed, spec
from hub_boot.processes import end_group, supervisor_alive

ROOT = Path(__file__).resolve().parents[2]
STATE_ROOT = ROOT / ".local" / "hub-boot"
RUNTIME = ROOT / ".local" / "hub-runtime"
SUPERVISOR = "hub_boot.supervisor"
# What JupyterHub logs once it has started completely.
RUNNING = "JupyterHub is now running"
# What KubeSpawner labels user pods and their home claims with.
USER_OBJECTS = (("pod", "component=singleuser-server"), ("persistentvolumeclaim", "component=singleuser-storage"))


class BootError(Exception):
    """A hub that did not boot, with the tail of its logs."""


@dataclass(frozen=True)
class Boot:
    namespace: str
    url: str  # the proxy's public port, through the bridge
    pid: int
    state_dir: Path
    services: dict[str, str]  # Service name -> its address inside the boot

    @property
    def hub_log(self) -> Path:
        return self.state_dir / "hub.log"

    @property
    def proxy_log(self) -> Path:
        return self.state_dir / "proxy.log"

    @property
    def stand_in_log(self) -> Path:
        return self.state_dir / "stand-in.log"

    def log_text(self) -> str:
        return self.hub_log.read_text(errors="replace") if self.hub_log.exists() else ""

    def stand_in_requests(self) -> list[dict[str, Any]]:
        if not self.stand_in_log.exists():
            return []
        return [json.loads(line) for line in self.stand_in_log.read_text().splitlines() if line.strip()]


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path.name}: no log)"
    return f"--- {path.name} ---\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _record(state_dir: Path) -> dict[str, Any]:
    return json.loads((state_dir / "boot.json").read_text())


def running(namespace: str, state_root: Path = STATE_ROOT) -> Boot | None:
    state_dir = state_root / namespace
    if not (state_dir / "boot.json").exists() or not (state_dir / "endpoint.json").exists():
        return None
    record, endpoint = _record(state_dir), json.loads((state_dir / "endpoint.json").read_text())
    if not supervisor_alive(record["pid"], SUPERVISOR):
        return None
    return Boot(namespace, endpoint["url"], record["pid"], state_dir, record["services"])


def start(namespace: str, *, kubeconfig: str | None = None, timeout: float = 90,
          state_root: Path = STATE_ROOT, runtime: Path = RUNTIME) -> Boot:
    """Boot the hub deployed in ``namespace`` and wait until the proxy routes to a healthy hub."""
    if not (runtime / ".complete").exists():
        raise BootError(f"the hub runtime is not installed at {runtime}: run `make hub-runtime`")
    state_dir = state_root / namespace
    if running(namespace, state_root):
        raise BootError(f"the hub of {namespace!r} is booted already (pid {_record(state_dir)['pid']}): stop it first")
    if state_dir.exists():
        stop(namespace, kubeconfig=kubeconfig, state_root=state_root)
    hub = deployed.read(namespace, kubeconfig)
    boot_spec = spec.build(hub, state_dir, runtime.resolve())
    state_dir.mkdir(parents=True, mode=0o700)
    workdir = boot_spec["hub"]["cwd"]
    started = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    with (state_dir / "boot.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", SUPERVISOR], stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=state_dir,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert process.stdin is not None
    process.stdin.write(json.dumps(boot_spec).encode())
    process.stdin.close()
    record = {"pid": process.pid, "namespace": namespace, "started": started.isoformat(), "workdir": workdir,
              "workdir_before": sorted(p.name for p in Path(workdir).iterdir()) if workdir else [],
              "services": boot_spec["services"], "kubeconfig": kubeconfig}
    (state_dir / "boot.json").write_text(json.dumps(record))
    try:
        return _wait_healthy(namespace, process, state_dir, record, timeout)
    except BaseException:
        stop(namespace, kubeconfig=kubeconfig, state_root=state_root, keep_state=True)
        raise


def _wait_healthy(namespace: str, process: subprocess.Popen[bytes], state_dir: Path, record: dict[str, Any],
                  timeout: float) -> Boot:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BootError(f"the hub of {namespace!r} exited with {process.returncode}\n" + logs(state_dir))
        endpoint = state_dir / "endpoint.json"
        if endpoint.exists():
            url = json.loads(endpoint.read_text())["url"]
            with (contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
                  urllib.request.urlopen(f"{url}/hub/health", timeout=5) as answer):  # noqa: S310 - our loopback URL
                # The hub answers /hub/health before it has added its routes and services; a hub
                # stopped then takes long to exit.
                if answer.status == 200 and RUNNING in (state_dir / "hub.log").read_text(errors="replace"):
                    return Boot(namespace, url, process.pid, state_dir, record["services"])
        time.sleep(0.2)
    raise BootError(f"the hub of {namespace!r} was not healthy within {timeout:.0f} s\n" + logs(state_dir))


def logs(state_dir: Path) -> str:
    return "\n".join(tail(state_dir / name) for name in ("boot.log", "proxy.log", "hub.log"))


def stop(namespace: str, *, kubeconfig: str | None = None, state_root: Path = STATE_ROOT, timeout: float = 30,
         keep_state: bool = False) -> bool:
    """Stop the boot of ``namespace`` and remove what it left; False when there was none."""
    state_dir = state_root / namespace
    if not (state_dir / "boot.json").exists():
        if state_dir.exists() and not keep_state:
            shutil.rmtree(state_dir)
        return False
    record = _record(state_dir)
    end_group(record["pid"], SUPERVISOR, timeout)
    try:
        _remove_user_objects(namespace, record, kubeconfig or record.get("kubeconfig"))
    finally:
        if record["workdir"]:
            for path in Path(record["workdir"]).iterdir():
                if path.name not in record["workdir_before"]:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
        if not keep_state:
            shutil.rmtree(state_dir)
    return True


def _remove_user_objects(namespace: str, record: dict[str, Any], kubeconfig: str | None, timeout: float = 60) -> None:
    """User pods and home claims made while the boot ran (KubeSpawner leaves them when the hub
    stops), and wait until they are gone (a claim goes once no pod uses it)."""
    started = datetime.datetime.fromisoformat(record["started"])
    core = client.CoreV1Api(deployed.api_client(kubeconfig))
    listing = {"pod": core.list_namespaced_pod, "persistentvolumeclaim": core.list_namespaced_persistent_volume_claim}
    removal = {"pod": core.delete_namespaced_pod, "persistentvolumeclaim": core.delete_namespaced_persistent_volume_claim}

    def made_by_boot() -> list[tuple[str, str]]:
        return [(kind, item.metadata.name) for kind, selector in USER_OBJECTS
                for item in listing[kind](namespace, label_selector=selector).items
                if item.metadata.creation_timestamp >= started]

    for kind, name in made_by_boot():
        with contextlib.suppress(client.ApiException):
            removal[kind](name, namespace, grace_period_seconds=0)
    deadline = time.monotonic() + timeout
    while (left := made_by_boot()) and time.monotonic() < deadline:
        time.sleep(0.3)
    if left:
        raise BootError(f"the boot of {namespace!r} stopped, but these are still there after {timeout:.0f} s: {left}")
