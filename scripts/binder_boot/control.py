"""Start, stop and inspect binder boots: one per booted hub, its state under ``.local/binder-boot/<namespace>``.

BinderHub is reached as users reach it: through the booted hub's proxy at ``/services/binder/``.
Stopping ends its processes and removes the build pods made while it ran and its state directory.
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

from hub_boot import control as hub_control
from hub_boot.deployed import api_client
from hub_boot.processes import end_group, supervisor_alive
from kubernetes import client

from binder_boot import deployed, spec

ROOT = Path(__file__).resolve().parents[2]
STATE_ROOT = ROOT / ".local" / "binder-boot"
RUNTIME = ROOT / ".local" / "binder-runtime"
SUPERVISOR = "binder_boot.supervisor"
# BinderHub's build pods (KubernetesBuildExecutor's component label).
BUILD_PODS = "component=binderhub-build"
BASE_PATH = "/services/binder"


class BinderBootError(Exception):
    """A BinderHub that did not start, with the tail of its log."""


@dataclass(frozen=True)
class BinderBoot:
    namespace: str
    hub_url: str  # the booted hub's proxy: BinderHub is at <hub_url>/services/binder/
    pid: int
    state_dir: Path

    @property
    def url(self) -> str:
        return f"{self.hub_url}{BASE_PATH}"

    @property
    def log(self) -> Path:
        return self.state_dir / "binderhub.log"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def running(namespace: str, state_root: Path = STATE_ROOT) -> BinderBoot | None:
    record_file = state_root / namespace / "boot.json"
    if not record_file.exists():
        return None
    record = json.loads(record_file.read_text())
    if not supervisor_alive(record["pid"], SUPERVISOR):
        return None
    return BinderBoot(namespace, record["hub_url"], record["pid"], state_root / namespace)


def start(namespace: str, *, kubeconfig: str | None = None, timeout: float = 60, state_root: Path = STATE_ROOT,
          runtime: Path = RUNTIME, hub_state_root: Path = hub_control.STATE_ROOT) -> BinderBoot:
    """Start the BinderHub deployed in ``namespace`` beside its booted hub; wait until it answers
    through the hub's proxy."""
    if not (runtime / ".complete").exists():
        raise BinderBootError(f"the BinderHub runtime is not installed at {runtime}: run `make binder-runtime`")
    hub = hub_control.running(namespace, hub_state_root)
    if hub is None:
        raise BinderBootError(f"the hub of {namespace!r} is not booted: BinderHub joins a booted hub (make hub-boot)")
    if running(namespace, state_root):
        raise BinderBootError(f"the BinderHub of {namespace!r} is started already: stop it first")
    state_dir = state_root / namespace
    if state_dir.exists():
        stop(namespace, kubeconfig=kubeconfig, state_root=state_root)
    binder = deployed.read(namespace, kubeconfig)
    boot_spec = spec.build(binder, hub, state_dir, runtime.resolve())
    state_dir.mkdir(parents=True, mode=0o700)
    started = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    with (state_dir / "boot.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", SUPERVISOR], stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=state_dir,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert process.stdin is not None
    process.stdin.write(json.dumps(boot_spec).encode())
    process.stdin.close()
    record = {"pid": process.pid, "namespace": namespace, "started": started.isoformat(), "hub_url": hub.url,
              "kubeconfig": kubeconfig}
    (state_dir / "boot.json").write_text(json.dumps(record))
    boot = BinderBoot(namespace, hub.url, process.pid, state_dir)
    try:
        _wait_answering(boot, process, timeout)
    except BaseException:
        stop(namespace, kubeconfig=kubeconfig, state_root=state_root, keep_state=True)
        raise
    return boot


def _wait_answering(boot: BinderBoot, process: subprocess.Popen[bytes], timeout: float) -> None:
    """BinderHub's startup probe (``/versions``), asked through the hub's proxy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BinderBootError(f"BinderHub of {boot.namespace!r} exited with {process.returncode}\n" + logs(boot.state_dir))
        with (contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError, ValueError),
              urllib.request.urlopen(f"{boot.url}/versions", timeout=5) as answer):  # noqa: S310 - our loopback URL
            if answer.status == 200 and "binderhub" in json.loads(answer.read()):
                return
        time.sleep(0.3)
    raise BinderBootError(f"BinderHub of {boot.namespace!r} did not answer within {timeout:.0f} s\n" + logs(boot.state_dir))


def logs(state_dir: Path) -> str:
    return "\n".join(hub_control.tail(state_dir / name) for name in ("boot.log", "binderhub.log"))


def stop(namespace: str, *, kubeconfig: str | None = None, state_root: Path = STATE_ROOT, timeout: float = 30,
         keep_state: bool = False) -> bool:
    """Stop the BinderHub of ``namespace`` and remove what it left; False when there was none."""
    state_dir = state_root / namespace
    record_file = state_dir / "boot.json"
    if not record_file.exists():
        if state_dir.exists() and not keep_state:
            shutil.rmtree(state_dir)
        return False
    record: dict[str, Any] = json.loads(record_file.read_text())
    end_group(record["pid"], SUPERVISOR, timeout)
    try:
        _remove_build_pods(namespace, kubeconfig or record.get("kubeconfig"))
    finally:
        if not keep_state:
            shutil.rmtree(state_dir)
    return True


def _remove_build_pods(namespace: str, kubeconfig: str | None) -> None:
    core = client.CoreV1Api(api_client(kubeconfig))
    for pod in core.list_namespaced_pod(namespace, label_selector=BUILD_PODS).items:
        with contextlib.suppress(client.ApiException):
            core.delete_namespaced_pod(pod.metadata.name, namespace, grace_period_seconds=0)
